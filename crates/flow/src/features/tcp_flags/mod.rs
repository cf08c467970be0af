//! tcpFlags: IP header fields, TCP flags and anomalies, sequence/ACK accounting, effective window,
//! options, timestamps and trip times of one flow direction (Tranalyzer2 0.9.3's tcpFlags plugin,
//! reference §2.1–2.4 and §3.2). Tranalyzer2 fills the IP columns for every IP flow and leaves the
//! TCP ones at their initial values for other protocols; so do we.
//!
//! Several values need the opposite direction (ACK accounting, bytes in flight, trip times): the
//! meter hands the per-packet update the opposite record's state when that direction exists.

mod flags;
mod ip;
mod options;
mod rtt;
mod seq;
mod window;
pub mod ws;

use netanom_wire::{flowstat, PacketInfo, L3};

use crate::record::FlowRecord;
use crate::schema::{Column, Kind, ValueSink};

use flags::fstat;
pub use flags::{anomaly, tcp_flags};
pub use ip::ip_flags;

pub const COLUMNS: &[Column] = &[
    Column::new("tcpFStat", "H16", Kind::Hex(4), "tcpFlags status"),
    Column::new("ipMindIPID", "U16", Kind::UInt, "IP minimum delta IP ID"),
    Column::new("ipMaxdIPID", "U16", Kind::UInt, "IP maximum delta IP ID"),
    Column::new("ipMinTTL", "U8", Kind::UInt, "IP minimum TTL"),
    Column::new("ipMaxTTL", "U8", Kind::UInt, "IP maximum TTL"),
    Column::new("ipTTLChg", "U8", Kind::UInt, "IP TTL change count"),
    Column::new("ipToS", "H8", Kind::Hex(2), "IP Type of Service hex"),
    Column::new("ipFlags", "H16", Kind::Hex(4), "IP aggregated flags"),
    Column::new("ipOptCnt", "U16", Kind::UInt, "IP options count"),
    Column::new("ipOptCpCl_Num", "H8_H32", Kind::Text, "IP aggregated options, copy-class and number"),
    Column::new("ip6OptCntHH_D", "U16_U16", Kind::Text, "IPv6 Hop-by-Hop destination option counts"),
    Column::new("ip6OptHH_D", "H32_H32", Kind::Text, "IPv6 aggregated Hop-by-Hop destination options"),
    Column::new("tcpISeqN", "U32", Kind::UInt, "TCP initial sequence number"),
    Column::new("tcpPSeqCnt", "U16", Kind::UInt, "TCP packet seq count"),
    Column::new("tcpSeqSntBytes", "U64", Kind::UInt, "TCP sent seq diff bytes"),
    Column::new("tcpSeqFaultCnt", "U16", Kind::UInt, "TCP sequence number fault count"),
    Column::new("tcpPAckCnt", "U16", Kind::UInt, "TCP packet ACK count"),
    Column::new("tcpFlwLssAckRcvdBytes", "U64", Kind::UInt, "TCP flawless ACK received bytes"),
    Column::new("tcpAckFaultCnt", "U16", Kind::UInt, "TCP ACK number fault count"),
    Column::new("tcpBFlgtMx", "U32", Kind::UInt, "TCP Bytes in Flight MAX"),
    Column::new("tcpInitWinSz", "U32", Kind::UInt, "TCP initial effective window size"),
    Column::new("tcpAvgWinSz", "F", Kind::Float, "TCP average effective window size"),
    Column::new("tcpMinWinSz", "U32", Kind::UInt, "TCP minimum effective window size"),
    Column::new("tcpMaxWinSz", "U32", Kind::UInt, "TCP maximum effective window size"),
    Column::new("tcpWinSzDwnCnt", "U16", Kind::UInt, "TCP effective window size change down count"),
    Column::new("tcpWinSzUpCnt", "U16", Kind::UInt, "TCP effective window size change up count"),
    Column::new("tcpWinSzChgDirCnt", "U16", Kind::UInt, "TCP effective window size direction change count"),
    Column::new("tcpWinSzThRt", "F", Kind::Float, "TCP packet count ratio below window size WINMIN threshold"),
    Column::new(
        "tcpFlags",
        "H16",
        Kind::Hex(4),
        "TCP aggregated protocol flags (FIN-ACK, SYN-ACK, RST-ACK, CWR, ECE, URG, ACK, PSH, RST, SYN, FIN)",
    ),
    Column::new("tcpAnomaly", "H16", Kind::Hex(4), "TCP aggregated header anomaly flags"),
    Column::new("tcpJA4T", "SC", Kind::ShortStr, "TCP JA4T/JA4TS fingerprint"),
    Column::new("tcpOptPktCnt", "U16", Kind::UInt, "TCP options packet count"),
    Column::new("tcpOptCnt", "U16", Kind::UInt, "TCP options count"),
    Column::new("tcpOptions", "H32", Kind::Hex(8), "TCP aggregated options"),
    Column::new("tcpMSS", "U16", Kind::UInt, "TCP maximum segment size"),
    Column::new("tcpWS", "U16", Kind::UInt, "TCP window scale"),
    Column::new("tcpMPTBF", "H16", Kind::Hex(4), "TCP MPTCP type bitfield"),
    Column::new("tcpMPF", "H8", Kind::Hex(2), "TCP MPTCP flags"),
    Column::new("tcpMPAID", "U8", Kind::UInt, "TCP MPTCP address ID"),
    Column::new("tcpMPDSSF", "H8", Kind::Hex(2), "TCP MPTCP DSS flags"),
    Column::new("tcpTmS", "U32", Kind::UInt, "TCP time stamp"),
    Column::new("tcpTmER", "U32", Kind::UInt, "TCP time echo reply"),
    Column::new("tcpEcI", "F", Kind::Float, "TCP estimated counter increment"),
    Column::new("tcpUtm", "D", Kind::Double, "TCP estimated up time"),
    Column::new("tcpBtm", "U64.U32", Kind::Timestamp, "TCP estimated boot time"),
    Column::new("tcpSSASAATrip", "F", Kind::Float, "TCP trip time (A: SYN, SYN-ACK, B: SYN-ACK, ACK)"),
    Column::new("tcpRTTAckTripMin", "F", Kind::Float, "TCP ACK trip min"),
    Column::new("tcpRTTAckTripMax", "F", Kind::Float, "TCP ACK trip max"),
    Column::new("tcpRTTAckTripAvg", "F", Kind::Float, "TCP ACK trip average"),
    Column::new("tcpRTTAckTripJitAvg", "F", Kind::Float, "TCP ACK trip jitter average"),
    Column::new("tcpRTTSseqAA", "F", Kind::Float, "TCP round trip time (A: SYN, SYN-ACK, ACK, B: ACK-ACK)"),
    Column::new("tcpRTTAckJitAvg", "F", Kind::Float, "TCP ACK round trip average jitter"),
];

/// The plugin's state for one direction, one part per theme.
#[derive(Debug, Clone, Default)]
pub struct TcpFlagsState {
    pub ip: ip::IpFields,
    pub flags: flags::Flags,
    pub seq: seq::SeqAck,
    pub win: window::Window,
    pub opts: options::Options,
    pub rtt: rtt::Trips,
}

impl TcpFlagsState {
    /// One packet of this direction; `n` counts this direction's packets including this one, and
    /// `opp` is the other direction's state if it has been seen.
    #[inline]
    pub fn update(&mut self, ts_ns: u64, p: &PacketInfo, n: u64, mut opp: Option<&mut TcpFlagsState>) {
        if p.l3 == L3::None {
            return;
        }
        let same_id = p.l3 == L3::Ipv4 && n > 1 && p.ip_id as u16 == self.ip.last_id;
        self.ip.update(ts_ns, p, n);
        let tcp = p.l4_proto == 6 && p.l4_present;
        self.flags.update(ts_ns, p, tcp, opp.as_deref().map(|o| &o.seq));
        self.rtt.update(ts_ns, p, tcp, opp.as_deref_mut().map(|o| &mut o.rtt));
        if !tcp {
            return;
        }
        // Windows are scaled once both sides' window-scale options were seen before this segment.
        let shift = if self.opts.ws_agreed { self.opts.ws.unwrap_or(0) } else { 0 };
        self.opts.update(p, ts_ns);
        if let Some(o) = opp.as_deref_mut() {
            if self.opts.ws.is_some() && o.opts.ws.is_some() && !self.opts.ws_agreed {
                self.opts.ws_agreed = true;
                o.opts.ws_agreed = true;
            }
        }
        self.win.update(p, shift);
        if self.seq.is_window_update(p) {
            self.flags.fstat |= flags::fstat::WIN_UPDATE;
        }
        // A keep-alive: at most one byte, one below the next expected sequence number.
        let plain = p.tcp_flags & 0x07 == 0;
        let keepalive = plain && p.l7_len <= 1 && self.seq.has_ack && p.tcp_seq == self.seq.next_seq.wrapping_sub(1);
        let copy = same_id && self.seq.repeats_last(p);
        // A SYN-ACK again (its sequence number is no longer the next one expected).
        let syn_again = p.tcp_flags & 0x12 == 0x12 && self.seq.started() && p.tcp_seq != self.seq.next_seq;
        let mut anomaly = self.seq.update(p, opp.as_deref().map(|o| &o.seq));
        // Tranalyzer2's keep-alive ACK is a pure ACK one past the peer's empty segment; the ACK
        // of a one-byte keep-alive stays a duplicate ACK in its rows.
        if keepalive {
            anomaly = anomaly & !(anomaly::DUP_ACK | anomaly::SEQ_OUT_OF_ORDER) | anomaly::KEEPALIVE;
        } else if plain
            && p.l7_len == 0
            && opp.as_deref().is_some_and(|o| p.tcp_flags & 0x10 != 0 && o.seq.acked_one_past_empty(p.tcp_ack))
        {
            anomaly = anomaly & !anomaly::DUP_ACK | anomaly::KEEPALIVE_ACK;
        }
        if copy {
            // A packet captured twice is no duplicate ACK (golden rows).
            anomaly &= !anomaly::DUP_ACK;
        }
        // A retransmission of where the other side's duplicate ACKs point is a fast
        // retransmission (and a sequence fault).
        let retransmitted = anomaly & anomaly::SEQ_OUT_OF_ORDER != 0;
        if retransmitted
            && opp.as_deref().is_some_and(|o| o.flags.anomaly & anomaly::DUP_ACK != 0 && o.seq.last_ack == p.tcp_seq)
        {
            anomaly |= anomaly::SEQ_FRETRY;
            self.seq.fault();
        }
        // Retransmitted data (or a SYN-ACK sent again) the other side had already acknowledged: a
        // spurious retransmission.
        let end = p.tcp_seq.wrapping_add(p.l7_len);
        let end = if syn_again { end.wrapping_add(1) } else { end };
        if ((retransmitted && p.l7_len > 0) || syn_again)
            && opp.as_deref().is_some_and(|o| o.seq.has_ack && (o.seq.last_ack.wrapping_sub(end) as i32) >= 0)
        {
            anomaly |= anomaly::SEQ_MESS;
        }
        self.flags.anomaly |= anomaly;
    }
}

pub fn write(rec: &FlowRecord, opp: Option<&FlowRecord>, w: &mut dyn ValueSink) {
    let s = &rec.tcpf;
    let is_ip = rec.stat & (flowstat::IPV4_FLOW | flowstat::IPV6_FLOW) != 0;
    let tcp = rec.key.l4_proto == 6 && is_ip;
    w.hex(fstat(s, is_ip, tcp) as u64, 4);
    s.ip.write(w);
    s.seq.write_seq(w);
    s.win.write(rec.stats.pkts, w);
    w.hex(s.flags.tcp_flags as u64, 4);
    let scan = if tcp { flags::scan_bits(rec, opp) } else { 0 };
    w.hex((s.flags.anomaly | scan) as u64, 4);
    // JA4T is under the FoxIO licence (not open source for commercial use): not computed.
    w.short_str("-");
    s.opts.write(w);
    s.rtt.write(opp.map(|o| &o.tcpf.rtt), rec.inverted, w);
}
