//! What happens to a conversation when it ends: connStat columns, rules, the model, the alert
//! stream, the flow files and the baseline. It is the flow table's sink, as the writer of
//! `netanom flows` is, so that each row's columns and labels are the same as offline.

use std::io::{self, Write};

use netanom_baseline::{Baseline, FlowObs};
use netanom_engine::labels::Labeller;
use netanom_flow::features::conn_stat::{packet_source, ConnKey, ConnStat};
use netanom_flow::features::tcp_flags::ws::WsState;
use netanom_flow::features::{self};
use netanom_flow::schema::Column;
use netanom_flow::{Ending, FlowRecord, FlowSink};
use netanom_wire::PacketInfo;

use crate::alert::{baseline_alert, flow_alert, Fired, KeyColumns};
use crate::rotate::RotatingTable;
use crate::row::RowCells;
use crate::score::Scorer;

/// Where the detector's results go, and what it uses to decide.
pub struct Detector {
    conn: ConnStat,
    /// tcpWS follows the order in which conversations end, like connStat.
    ws: WsState,
    pub labeller: Labeller,
    pub scorer: Option<Scorer>,
    pub baseline: Option<Baseline>,
    alerts: Box<dyn Write + Send>,
    pub flows: Option<RotatingTable>,
    keys: KeyColumns,
    row: RowCells,
    fired: Fired,
    /// The pipeline's clock (ns since the epoch): alert times and file rotation.
    pub now_ns: u64,
    pub counts: DetectorCounts,
    /// The first output error: it stops the watch.
    pub error: Option<io::Error>,
}

/// What the detector did, for the status line and the end report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetectorCounts {
    pub conversations: u64,
    pub rows: u64,
    pub flow_alerts: u64,
    pub baseline_alerts: u64,
    /// Rows the model flagged (with or without rules).
    pub model_anomalous: u64,
    /// Rows the model could not score (the first message is kept in `model_error`).
    pub model_errors: u64,
    pub model_error: Option<String>,
}

impl Detector {
    /// `columns`: the flow columns followed by the labeller's ([`LABEL_COLUMNS`](netanom_engine::labels::LABEL_COLUMNS)).
    pub fn new(
        labeller: Labeller,
        scorer: Option<Scorer>,
        baseline: Option<Baseline>,
        alerts: Box<dyn Write + Send>,
        flows: Option<RotatingTable>,
        columns: &[Column],
    ) -> Detector {
        Detector {
            conn: ConnStat::new(),
            ws: WsState::default(),
            labeller,
            scorer,
            baseline,
            alerts,
            flows,
            keys: KeyColumns::new(columns),
            row: RowCells::default(),
            fired: Fired::default(),
            now_ns: 0,
            counts: DetectorCounts::default(),
            error: None,
        }
    }

    /// Call after the flow table accounted `p` (connStat counts per source, as offline).
    #[inline]
    pub fn packet(&mut self, p: &PacketInfo) {
        if let Some(src) = packet_source(p) {
            self.conn.packet(src, p.l7_len);
        }
    }

    /// The clock moved to `now_ns` without a flow ending: close baseline intervals, rotate files.
    pub fn tick(&mut self, now_ns: u64) {
        self.now_ns = self.now_ns.max(now_ns);
        if let Some(b) = self.baseline.as_mut() {
            let alerts = b.advance_to(self.now_ns);
            self.baseline_alerts(alerts);
        }
        if let Some(f) = self.flows.as_mut() {
            if let Err(e) = f.tick(self.now_ns) {
                self.fail(e);
            }
        }
    }

    /// End of the watch: closes every baseline interval and the flow file, flushes the alerts.
    pub fn finish(&mut self) {
        if let Some(b) = self.baseline.as_mut() {
            let alerts = b.flush();
            self.baseline_alerts(alerts);
        }
        if let Some(f) = self.flows.as_mut() {
            if let Err(e) = f.close() {
                self.fail(e);
            }
        }
        if let Err(e) = self.alerts.flush() {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: io::Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn emit(&mut self, line: &serde_json::Value) {
        if self.error.is_some() {
            return;
        }
        // One line, flushed at once: whoever tails the stream sees the alert now.
        let r = writeln!(self.alerts, "{line}").and_then(|_| self.alerts.flush());
        if let Err(e) = r {
            self.fail(e);
        }
    }

    fn baseline_alerts(&mut self, alerts: Vec<netanom_baseline::Alert>) {
        for a in &alerts {
            self.counts.baseline_alerts += 1;
            let line = baseline_alert(a, self.now_ns);
            self.emit(&line);
        }
    }

    /// Labels, scores, alerts and writes one row; returns whether it was flagged.
    fn row(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>, how: &Ending) -> bool {
        self.counts.rows += 1;
        let l = &mut self.labeller;
        l.label_at(rec, opp, how.deadline_ns, how.end_seq);
        let by_rules = l.is_anomalous();
        let cells_needed = by_rules || self.scorer.is_some();
        if cells_needed {
            self.row.begin();
            features::write_row(rec, opp, &mut self.row);
            l.write(&mut self.row);
        }
        let score = match self.scorer.as_ref().map(|s| s.score(&self.row)) {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                self.counts.model_errors += 1;
                self.counts.model_error.get_or_insert(e);
                None
            }
            None => None,
        };
        let by_model = score.as_ref().is_some_and(|s| s.anomalous);
        self.counts.model_anomalous += by_model as u64;
        if by_rules || by_model {
            self.fired.rules.clear();
            self.fired.severity = None;
            for r in l.fired_rules() {
                self.fired.rules.push(r.name.clone());
                self.fired.severity = self.fired.severity.max(Some(r.severity));
            }
            self.counts.flow_alerts += 1;
            let line = flow_alert(&self.keys, &self.row, &self.fired, score.as_ref(), self.now_ns.max(rec.last_ns));
            self.emit(&line);
        }
        if let Some(f) = self.flows.as_mut() {
            let l = &self.labeller;
            let r = f.row(self.now_ns.max(rec.last_ns), &mut |w| {
                features::write_row(rec, opp, w);
                l.write(w);
            });
            if let Err(e) = r {
                self.fail(e);
            }
        }
        by_rules
    }
}

impl FlowSink for Detector {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        let how = Ending {
            reason: netanom_flow::EndReason::Flushed,
            deadline_ns: u64::MAX,
            class: 0,
            link_seq: 0,
            end_seq: u64::MAX,
        };
        self.flow_ended(first, second, &how);
    }

    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.counts.conversations += 1;
        let mut anomalous = self.row(first, second, how);
        if let Some(b) = second {
            anomalous |= self.row(b, Some(first), how);
        }
        if let Some(base) = self.baseline.as_mut() {
            // A conversation counts as anomalous for the baseline when a rule fired on either row,
            // as in `netanom baseline`.
            base.observe_flow(&FlowObs::from_records(first, second, anomalous));
            let alerts = base.advance_to(self.now_ns);
            self.baseline_alerts(alerts);
        }
    }

    fn flow_ended_mut(&mut self, first: &mut FlowRecord, mut second: Option<&mut FlowRecord>, how: &Ending) {
        self.conn.ended(first);
        if let Some(b) = second.as_deref_mut() {
            self.conn.ended(b);
        }
        self.ws.ended(first, second.as_deref_mut());
        self.flow_ended(first, second.map(|s| &*s), how)
    }

    fn flow_created(&mut self, rec: &FlowRecord) {
        if let Some(k) = ConnKey::of(rec) {
            self.conn.created(&k);
        }
    }

    fn is_closed(&self) -> bool {
        self.error.is_some()
    }
}
