//! tcpWS as Tranalyzer2 prints it: not a property of the flow alone. Read off the golden rows,
//! the column is `2^shift` of the direction's own window-scale option (`1` without one) when the
//! latest SYN-ACK of the whole capture, at the time the flow ends, carried the option, and 0
//! otherwise; so a UDP flow prints 1 after a SYN-ACK with window scaling and a TCP handshake with
//! window scaling prints 0 if a later SYN-ACK without it came before the flow's end.
//!
//! Like connStat this needs the capture's global order, so it is a stage fed by whoever knows
//! that order: [`WsStage`] in the single-threaded loop, the merger of the sharded one.

use std::cell::Cell;

use netanom_wire::{PacketInfo, L3};

use crate::meter::{Ending, FlowSink};
use crate::record::FlowRecord;

/// Whether `p` is a SYN-ACK, and if so whether it carried the window-scale option.
#[inline]
pub fn syn_ack_ws(p: &PacketInfo) -> Option<bool> {
    let syn_ack = p.l3 != L3::None && p.l4_proto == 6 && p.l4_present && p.tcp_flags & 0x12 == 0x12;
    syn_ack.then_some(p.tcp_opts.ws.is_some())
}

/// Stamps an ended record with the capture-wide state (see the module comment).
#[inline]
pub fn ended(rec: &mut FlowRecord, on: bool) {
    rec.tcpf.opts.ws_shown = on;
}

/// The stage for the single-threaded loop: the caller updates `on` after each packet was
/// accounted (from [`syn_ack_ws`]); records that end are stamped with it before they go on.
pub struct WsStage<'a> {
    pub on: &'a Cell<bool>,
    pub inner: &'a mut dyn FlowSink,
}

impl FlowSink for WsStage<'_> {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self.inner.flow(first, second)
    }
    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.inner.flow_ended(first, second, how)
    }
    fn flow_ended_mut(&mut self, first: &mut FlowRecord, mut second: Option<&mut FlowRecord>, how: &Ending) {
        ended(first, self.on.get());
        if let Some(b) = second.as_deref_mut() {
            ended(b, self.on.get());
        }
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

    #[test]
    fn syn_ack_only() {
        let mut p =
            PacketInfo { l3: L3::Ipv4, l4_proto: 6, l4_present: true, tcp_flags: 0x02, ..PacketInfo::default() };
        p.tcp_opts.ws = Some(7);
        assert_eq!(syn_ack_ws(&p), None);
        p.tcp_flags = 0x12;
        assert_eq!(syn_ack_ws(&p), Some(true));
        p.tcp_opts.ws = None;
        assert_eq!(syn_ack_ws(&p), Some(false));
    }

    struct Last(Vec<bool>);
    impl FlowSink for Last {
        fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
            self.0.push(first.tcpf.opts.ws_shown);
            self.0.extend(second.map(|s| s.tcpf.opts.ws_shown));
        }
    }

    #[test]
    fn stamps_the_state_at_the_end() {
        let on = Cell::new(false);
        let mut out = Last(Vec::new());
        let mut st = WsStage { on: &on, inner: &mut out };
        let how = Ending { reason: EndReason::Flushed, deadline_ns: 0, class: 0, link_seq: 0, end_seq: u64::MAX };
        let (mut a, mut b) = (FlowRecord::default(), FlowRecord::default());
        st.flow_ended_mut(&mut a, Some(&mut b), &how);
        on.set(true);
        st.flow_ended_mut(&mut a, None, &how);
        assert_eq!(out.0, vec![false, false, true]);
    }
}
