//! The flow stage's sink: labels every row, writes it to the flow tables, feeds the traffic
//! baseline and keeps the small per-host and per-conversation summaries the report needs.

use std::io;

use netanom_baseline::{BaselineSink, FlowObs};
use netanom_engine::labels::Labeller;
use netanom_flow::{features, Ending, FlowRecord, FlowSink};
use netanom_output::TableWriter;

use crate::hosts::Tally;

/// Writes rows to every table, labels them, tallies them. Output errors end the run early
/// (`is_closed`) and are returned by [`Collector::finish`].
pub(crate) struct Collector<'a> {
    pub tables: Vec<(String, Box<dyn TableWriter>)>,
    pub labeller: Labeller,
    pub tally: Tally,
    pub baseline: Option<BaselineSink<'a>>,
    /// Every conversation the baseline saw, with the clock it moved to: replayed to chart the
    /// series that alerted.
    pub baseline_feed: Vec<(FlowObs, u64)>,
    pub error: Option<(String, io::Error)>,
    fired: Vec<usize>,
}

impl<'a> Collector<'a> {
    pub fn new(
        tables: Vec<(String, Box<dyn TableWriter>)>,
        labeller: Labeller,
        baseline: Option<BaselineSink<'a>>,
    ) -> Self {
        let tally = Tally::new(labeller.rules().len());
        Collector { tables, labeller, tally, baseline, baseline_feed: Vec::new(), error: None, fired: Vec::new() }
    }

    /// Flushes every table; the first write error wins.
    pub fn finish(&mut self) -> Result<(), (String, io::Error)> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        for (name, t) in self.tables.drain(..) {
            t.finish().map_err(|e| (name, e))?;
        }
        Ok(())
    }

    /// Labels and writes one row; true when it is anomalous.
    fn row(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>, (due_ns, end_seq): (u64, u64)) -> bool {
        self.labeller.label_at(rec, opp, due_ns, end_seq);
        if self.error.is_none() {
            let l = &self.labeller;
            for (name, t) in self.tables.iter_mut() {
                let res = t.row(&mut |w| {
                    features::write_row(rec, opp, w);
                    l.write(w);
                });
                if let Err(e) = res {
                    self.error = Some((name.clone(), e));
                    break;
                }
            }
        }
        self.fired.clear();
        self.fired.extend(self.labeller.fired());
        self.tally.row(rec, &self.fired);
        self.labeller.is_anomalous()
    }

    fn pair(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: Option<&Ending>) {
        let end = how.map_or((u64::MAX, u64::MAX), |h| (h.deadline_ns, h.end_seq));
        let mut anomalous = self.row(first, second, end);
        if let Some(b) = second {
            anomalous |= self.row(b, Some(first), end);
        }
        if let Some(bs) = self.baseline.as_mut() {
            let obs = FlowObs::from_records(first, second, anomalous);
            let clock = bs.observe_labelled(&obs, how.and_then(BaselineSink::clock_deadline));
            self.baseline_feed.push((obs, clock));
        }
    }
}

impl FlowSink for Collector<'_> {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self.pair(first, second, None);
    }

    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.pair(first, second, Some(how));
    }

    fn is_closed(&self) -> bool {
        self.error.is_some()
    }
}
