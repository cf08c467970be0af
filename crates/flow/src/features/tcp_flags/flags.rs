//! tcpFlags (the flags seen and their telling combinations), tcpAnomaly and tcpFStat.

use netanom_wire::PacketInfo;

use super::seq::SeqAck;
use super::TcpFlagsState;
use crate::record::FlowRecord;

pub mod tcp_flags {
    pub const FIN: u16 = 0x01;
    pub const SYN: u16 = 0x02;
    pub const RST: u16 = 0x04;
    pub const PSH: u16 = 0x08;
    pub const ACK: u16 = 0x10;
    pub const URG: u16 = 0x20;
    pub const FIN_ACK: u16 = 0x0100;
    pub const SYN_ACK: u16 = 0x0200;
    pub const RST_ACK: u16 = 0x0400;
    pub const NULL: u16 = 0x0800;
    pub const SYN_FIN: u16 = 0x1000;
    pub const SYN_FIN_RST: u16 = 0x2000;
    pub const FIN_RST: u16 = 0x4000;
    pub const XMAS: u16 = 0x8000;
}

/// tcpAnomaly bits, 0.9.3 layout (reference §2.1 b).
pub mod anomaly {
    pub const SYN_RETRY: u16 = 0x0001;
    pub const SEQ_TRETRY: u16 = 0x0002;
    pub const SEQ_FRETRY: u16 = 0x0004;
    pub const DUP_ACK: u16 = 0x0008;
    pub const KEEPALIVE: u16 = 0x0010;
    pub const KEEPALIVE_ACK: u16 = 0x0020;
    pub const SEQ_OUT_OF_ORDER: u16 = 0x0040;
    pub const SEQ_MESS: u16 = 0x0080;
    pub const ACK_UNSEEN: u16 = 0x0100;
    pub const PKT_NOT_CAPTURED: u16 = 0x0200;
    pub const SCAN: u16 = 0x1000;
    pub const SCAN_SUCCESS: u16 = 0x2000;
    pub const SYN_L7: u16 = 0x4000;
}

/// tcpFStat bits, 0.9.3 layout (reference §2.3). The whole table is kept as the reference for
/// the column, including the window-probe bits no golden row sets and we do not derive yet.
#[allow(dead_code)]
pub mod fstat {
    pub const GOOD: u16 = 0x0001;
    pub const OPT_INIT: u16 = 0x0002;
    pub const TS_DECREASING: u16 = 0x0004;
    pub const OPT_CORRUPT: u16 = 0x0008;
    pub const WIN_INIT: u16 = 0x0010;
    pub const WIN_UPDATE: u16 = 0x0020;
    pub const WIN0_PROBE: u16 = 0x0040;
    pub const WIN0_PROBE_ACK: u16 = 0x0080;
    pub const WIN_MIN: u16 = 0x0100;
    pub const WS_USED: u16 = 0x0200;
    pub const WIN_FULL: u16 = 0x0400;
    pub const WIN_UP: u16 = 0x0800;
    pub const L4_CSUM: u16 = 0x1000;
    pub const SACK: u16 = 0x4000;
    pub const MPTCP: u16 = 0x8000;
}

use anomaly as a;
use tcp_flags as t;

/// A SYN repeated sooner than this is no retransmission (those come after about a second, the
/// initial retransmission timeout): Tranalyzer2 reports such a conversation as a scan, not a SYN
/// retry. In the golden rows repeats within 0.36 s are scans and from 0.99 s retries.
const FAST_SYN_NS: u64 = 500_000_000;

#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub tcp_flags: u16,
    pub anomaly: u16,
    /// tcpFStat bits gathered per packet (the rest are derived at output).
    pub fstat: u16,
    pub(super) syns: u16,
    /// When the latest SYN (without ACK) was seen.
    last_syn_ns: u64,
    /// A SYN came again sooner than a retransmission would (see `FAST_SYN_NS`).
    pub(super) fast_syn: bool,
}

impl Flags {
    #[inline]
    pub fn update(&mut self, ts_ns: u64, p: &PacketInfo, tcp: bool, _opp: Option<&SeqAck>) {
        if p.l4_proto == 17 && p.l4_present && p.udp_len as u32 != p.ip_len.saturating_sub(p.l3_hdr_len) {
            self.fstat |= fstat::L4_CSUM;
        }
        if !tcp {
            return;
        }
        let raw = p.tcp_flags as u16;
        let mut v = raw;
        let has = |m: u16| raw & m == m;
        let fsr = raw & (t::FIN | t::SYN | t::RST);
        if has(t::FIN | t::ACK) {
            v |= t::FIN_ACK;
        }
        if has(t::SYN | t::ACK) {
            v |= t::SYN_ACK;
        }
        if has(t::RST | t::ACK) {
            v |= t::RST_ACK;
        }
        if raw == 0 {
            v |= t::NULL;
        }
        match fsr {
            x if x == t::SYN | t::FIN => v |= t::SYN_FIN,
            x if x == t::SYN | t::FIN | t::RST => v |= t::SYN_FIN_RST,
            x if x == t::FIN | t::RST => v |= t::FIN_RST,
            _ => {}
        }
        if has(t::FIN | t::PSH | t::URG) {
            v |= t::XMAS;
        }
        self.tcp_flags |= v;
        if raw & t::SYN != 0 && raw & t::ACK == 0 {
            self.syns = self.syns.saturating_add(1);
            if self.syns > 1 {
                if ts_ns.saturating_sub(self.last_syn_ns) < FAST_SYN_NS {
                    self.fast_syn = true;
                } else {
                    self.anomaly |= a::SYN_RETRY;
                }
            }
            self.last_syn_ns = ts_ns;
        }
        if raw & t::SYN != 0 && p.l7_len > 0 {
            self.anomaly |= a::SYN_L7;
        }
    }
}

/// Tranalyzer2's scan detector, approximated from its output: a conversation whose SYN sender
/// gave up after at most `SCAN_PMAX - 1` packets was a probe; if the other side answered at all,
/// the probe "succeeded" (both sides are marked).
pub fn scan_bits(rec: &FlowRecord, opp: Option<&FlowRecord>) -> u16 {
    const SCAN_PMAX: u64 = 4;
    let syn_sender = |r: &FlowRecord, o: Option<&FlowRecord>| r.tcpf.flags.syns > 0 || fin_rst_prober(r, o);
    // A SYN sent twice in quick succession marks a probe however long the conversation.
    let prober = |r: &FlowRecord, o: Option<&FlowRecord>| {
        syn_sender(r, o) && (r.stats.pkts < SCAN_PMAX || r.tcpf.flags.fast_syn)
    };
    match opp {
        None if syn_sender(rec, None) && (rec.stats.pkts == 1 || rec.tcpf.flags.fast_syn) => a::SCAN,
        None if fin_rst_prober(rec, None) => a::SCAN,
        // So is a lone SYN sender of fewer than 4 packets that did not retry its SYN (SYN then
        // ACK or reset; SYN retries alone are no probe: gnutella.pcap).
        None if rec.tcpf.flags.syns > 0 && rec.stats.pkts < SCAN_PMAX && rec.tcpf.flags.anomaly & a::SYN_RETRY == 0 => {
            a::SCAN
        }
        // A lone responder (SYN with ACK) or a sender of flagless segments is a probe too.
        None if rec.stats.pkts < SCAN_PMAX && (syn_acks_only(rec) || no_flags(rec)) => a::SCAN,
        None => 0,
        Some(o) if prober(rec, Some(o)) => a::SCAN | a::SCAN_SUCCESS,
        // A mid-stream prober on the B side marks itself, not its peer.
        Some(o) if o.inverted && fin_rst_prober(o, Some(rec)) => 0,
        Some(o) if prober(o, Some(rec)) => a::SCAN_SUCCESS,
        // A responder that sent little more than its SYN-ACK to a longer initiator is marked
        // itself, not its peer.
        Some(_) if syn_ack_only(rec) => a::SCAN | a::SCAN_SUCCESS,
        Some(_) => 0,
    }
}

/// A responder that answered with a SYN-ACK and sent fewer than 4 packets.
fn syn_ack_only(r: &FlowRecord) -> bool {
    r.tcpf.flags.syns == 0 && r.tcpf.flags.tcp_flags & t::SYN_ACK != 0 && r.stats.pkts < 4
}

/// A SYN flag seen, but never a SYN without ACK (only SYN-ACKs).
fn syn_acks_only(r: &FlowRecord) -> bool {
    r.tcpf.flags.syns == 0 && r.tcpf.flags.tcp_flags & t::SYN != 0
}

/// None of the segments carried a flag (SYN, FIN, RST, PSH, ACK, URG).
fn no_flags(r: &FlowRecord) -> bool {
    r.tcpf.flags.tcp_flags & (t::SYN | t::FIN | t::RST | t::ACK | t::PSH | t::URG) == 0
}

/// A mid-stream probe: a side that sent no SYN but a FIN within a few packets. Alone it must be
/// the A side; with its peer, the B side only when the A side is none (golden rows: then B marks
/// itself and not A; when both are, A is the probe and B its answer: wechat.pcap, Teredo.pcap).
fn fin_rst_prober(r: &FlowRecord, o: Option<&FlowRecord>) -> bool {
    match o {
        None => !r.inverted && mid_stream_closer(r),
        Some(o) => mid_stream_closer(r) && (!r.inverted || !mid_stream_closer(o)),
    }
}

/// No SYN, a FIN, fewer than 4 packets (a lone or answered reset is no probe: single-rst.pcap).
fn mid_stream_closer(r: &FlowRecord) -> bool {
    const SCAN_PMAX: u64 = 4;
    let f = r.tcpf.flags.tcp_flags;
    r.tcpf.flags.syns == 0 && f & t::SYN == 0 && f & t::FIN != 0 && r.stats.pkts < SCAN_PMAX
}

/// tcpFStat of a direction at output.
pub fn fstat(s: &TcpFlagsState, is_ip: bool, tcp: bool) -> u16 {
    if !is_ip {
        return 0;
    }
    let mut v = fstat::GOOD | s.flags.fstat;
    if tcp {
        v |= fstat::WIN_INIT | s.opts.fstat_bits() | s.win.fstat_bits();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags_of(raw: &[u8]) -> Flags {
        let mut f = Flags::default();
        // One second apart, as retransmissions are.
        for (i, &r) in raw.iter().enumerate() {
            let p = PacketInfo { tcp_flags: r, l4_proto: 6, l4_present: true, ..PacketInfo::default() };
            f.update(i as u64 * 1_000_000_000, &p, true, None);
        }
        f
    }

    #[test]
    fn combinations_and_syn_retry() {
        assert_eq!(flags_of(&[0x02, 0x10, 0x18, 0x11]).tcp_flags, 0x011b);
        assert_eq!(flags_of(&[0x12]).tcp_flags, 0x0212);
        assert_eq!(flags_of(&[0x00]).tcp_flags, 0x0800);
        assert_eq!(flags_of(&[0x29]).tcp_flags & 0x8000, 0x8000);
        assert_eq!(flags_of(&[0x02, 0x02]).anomaly & anomaly::SYN_RETRY, anomaly::SYN_RETRY);
    }

    #[test]
    fn a_quickly_repeated_syn_is_no_retry() {
        let mut f = Flags::default();
        let p = PacketInfo { tcp_flags: 0x02, l4_proto: 6, l4_present: true, ..PacketInfo::default() };
        f.update(1_000_000, &p, true, None);
        f.update(1_045_000, &p, true, None);
        assert_eq!((f.anomaly & anomaly::SYN_RETRY, f.fast_syn), (0, true));
    }
}
