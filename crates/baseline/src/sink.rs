//! The baseline as a [`FlowSink`] of the flow engine: ended conversations in, alerts out as
//! intervals close.

use netanom_flow::{EndReason, Ending, FlowRecord, FlowSink};

use crate::estimator::{Alert, Baseline};
use crate::series::FlowObs;

/// Decides whether a conversation counts as anomalous (the rule labeller's verdict).
pub type Labeller<'a> = Box<dyn FnMut(&FlowRecord, Option<&FlowRecord>) -> bool + Send + 'a>;
/// Receives the alerts.
pub type AlertFn<'a> = Box<dyn FnMut(&Alert) + Send + 'a>;

/// Feeds a [`Baseline`] from the flow engine and hands alerts to `on_alert` as intervals close.
///
/// The engine does not pass its clock, so the sink keeps a lower bound of it: the latest last
/// packet of any ended flow, and the deadline of any flow ended by a timeout (it ended because the
/// clock passed it).
pub struct BaselineSink<'a> {
    pub baseline: Baseline,
    label: Labeller<'a>,
    on_alert: AlertFn<'a>,
    clock_ns: u64,
}

impl<'a> BaselineSink<'a> {
    pub fn new(baseline: Baseline, label: Labeller<'a>, on_alert: AlertFn<'a>) -> BaselineSink<'a> {
        BaselineSink { baseline, label, on_alert, clock_ns: 0 }
    }

    /// Closes every interval with flows; call after the engine returns.
    pub fn finish(mut self) -> Baseline {
        for a in self.baseline.flush() {
            (self.on_alert)(&a);
        }
        self.baseline
    }

    fn take(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, deadline_ns: Option<u64>) {
        let anomalous = (self.label)(first, second);
        self.observe_labelled(&FlowObs::from_records(first, second, anomalous), deadline_ns);
    }

    /// Counts a conversation its caller has already labelled (`flow.anomalous`); `deadline_ns`:
    /// when it was due to end if a timeout ended it. Returns the clock the baseline moved to.
    pub fn observe_labelled(&mut self, flow: &FlowObs, deadline_ns: Option<u64>) -> u64 {
        self.baseline.observe_flow(flow);
        self.clock_ns = self.clock_ns.max(flow.at_ns).max(deadline_ns.unwrap_or(0));
        for a in self.baseline.advance_to(self.clock_ns) {
            (self.on_alert)(&a);
        }
        self.clock_ns
    }

    /// The deadline that vouches for the clock: only a timeout's (an evicted or flushed flow's
    /// deadline is in the future).
    pub fn clock_deadline(how: &Ending) -> Option<u64> {
        matches!(how.reason, EndReason::Timeout | EndReason::ActiveTimeout).then_some(how.deadline_ns)
    }
}

impl FlowSink for BaselineSink<'_> {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self.take(first, second, None);
    }

    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.take(first, second, Self::clock_deadline(how));
    }
}
