//! tcpWS as Tranalyzer2 prints it: not a property of the flow alone. Read off the golden rows,
//! the column is `2^shift` of the direction's own window-scale option (`1` without one) once a
//! conversation whose SYN-ACK carried the option has ended (this one included), and 0 before;
//! the state never goes back. So UDP flows print 1 once such a TCP connection was written out,
//! and a SYN with the option that is written out before any such connection prints 0. It follows
//! the order in which conversations end (the output order), not the packets: state left over
//! from the previous rows written.
//!
//! Like connStat this needs the global order of ends, so it is a stage run by whoever knows it:
//! [`WsStage`] in the single-threaded loop, the merger of the sharded one (both call [`ended`]).

use crate::meter::{Ending, FlowSink};
use crate::record::FlowRecord;

/// The capture-wide state: whether a conversation with window scaling on its SYN-ACK has ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct WsState {
    on: bool,
}

impl WsState {
    /// A conversation ended (its records in output order): updates the state, stamps them.
    pub fn ended(&mut self, a: &mut FlowRecord, b: Option<&mut FlowRecord>) {
        self.on |= a.tcpf.opts.syn_ack_ws || b.as_ref().is_some_and(|b| b.tcpf.opts.syn_ack_ws);
        a.tcpf.opts.ws_shown = self.on;
        if let Some(b) = b {
            b.tcpf.opts.ws_shown = self.on;
        }
    }
}

/// The stage for the single-threaded loop.
pub struct WsStage<'a> {
    pub state: WsState,
    pub inner: &'a mut dyn FlowSink,
}

impl<'a> WsStage<'a> {
    pub fn new(inner: &'a mut dyn FlowSink) -> WsStage<'a> {
        WsStage { state: WsState::default(), inner }
    }
}

impl FlowSink for WsStage<'_> {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self.inner.flow(first, second)
    }
    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.inner.flow_ended(first, second, how)
    }
    fn flow_ended_mut(&mut self, first: &mut FlowRecord, mut second: Option<&mut FlowRecord>, how: &Ending) {
        self.state.ended(first, second.as_deref_mut());
        self.inner.flow_ended_mut(first, second, how)
    }
    fn flow_created(&mut self, rec: &FlowRecord) {
        self.inner.flow_created(rec)
    }
    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::EndReason;

    struct Shown(Vec<bool>);
    impl FlowSink for Shown {
        fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
            self.0.push(first.tcpf.opts.ws_shown);
            self.0.extend(second.map(|s| s.tcpf.opts.ws_shown));
        }
    }

    #[test]
    fn on_from_the_first_conversation_with_a_scaled_syn_ack() {
        let mut out = Shown(Vec::new());
        let mut st = WsStage::new(&mut out);
        let how = Ending { reason: EndReason::Flushed, deadline_ns: 0, class: 0, link_seq: 0, end_seq: u64::MAX };
        let plain = FlowRecord::default();
        let mut scaled = FlowRecord::default();
        scaled.tcpf.opts.syn_ack_ws = true;
        st.flow_ended_mut(&mut plain.clone(), Some(&mut plain.clone()), &how);
        st.flow_ended_mut(&mut plain.clone(), Some(&mut scaled.clone()), &how);
        st.flow_ended_mut(&mut plain.clone(), None, &how);
        assert_eq!(out.0, vec![false, false, true, true, true]);
    }
}
