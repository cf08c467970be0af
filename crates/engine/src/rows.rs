//! Where ended conversations go. A plain [`FlowSink`] gets them one by one on one thread; a
//! [`RowSink`] can also hand out [`RowFormatter`]s, so that with `--threads` the rows (labels
//! included) are formatted by the worker threads and only written, in order, by one.

use netanom_flow::{Ending, FlowRecord, FlowSink};

use crate::labels::Labeller;
use crate::observe::PairView;

/// Formats the rows of conversations into bytes, on a worker thread.
pub trait RowFormatter: Send {
    /// Appends the rows of one conversation (A row, then B row) to `out`. `views`: the
    /// observer's answers for the A and B rows (what [`Labeller::label_with`] takes).
    fn conversation(
        &mut self,
        first: &FlowRecord,
        second: Option<&FlowRecord>,
        how: &Ending,
        views: [PairView; 2],
        out: &mut Vec<u8>,
    );

    /// The formatter's labeller after the last row, for its counts.
    fn into_labeller(self: Box<Self>) -> Option<Labeller> {
        None
    }
}

/// A sink that may format rows on several threads.
pub trait RowSink: FlowSink + Send {
    /// A formatter for one more worker thread; None (the default) has every conversation go
    /// through the [`FlowSink`] methods on one thread.
    fn formatter(&mut self) -> Option<Box<dyn RowFormatter>> {
        None
    }
    /// Writes rows made by the formatters, in output order; false once the output failed.
    fn write_rows(&mut self, _bytes: &[u8]) -> bool {
        false
    }
    /// A formatter handed back after the last row (its label counts belong to the run).
    fn formatter_done(&mut self, _f: Box<dyn RowFormatter>) {}
}

/// A plain [`FlowSink`] as a [`RowSink`] that formats nothing itself.
pub(crate) struct Plain<'a>(pub &'a mut (dyn FlowSink + Send));

impl FlowSink for Plain<'_> {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self.0.flow(first, second)
    }
    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.0.flow_ended(first, second, how)
    }
    fn flow_ended_mut(&mut self, first: &mut FlowRecord, second: Option<&mut FlowRecord>, how: &Ending) {
        self.0.flow_ended_mut(first, second, how)
    }
    fn flow_created(&mut self, rec: &FlowRecord) {
        self.0.flow_created(rec)
    }
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

impl RowSink for Plain<'_> {}
