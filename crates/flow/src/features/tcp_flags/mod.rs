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
        // How long this side was quiet, and how long it usually takes to answer, before this packet.
        let rtt_before = self.rtt.before();
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
        // A packet the capture holds twice: the same IPv4 ID and segment with nothing from the
        // other side in between. Golden rows: while the other side has sent bytes this one does
        // not acknowledge yet, a repeated ACK is a duplicate ACK all the same.
        let quiet = self.seq.peer_quiet(opp.as_deref().map(|o| &o.seq));
        // The same FIN again (its first one in order).
        let fin_repeat = p.tcp_flags & 0x07 == 0x01 && p.l7_len == 0 && self.seq.repeats_fin(p);
        let copy = same_id
            && self.seq.repeats_last(p)
            && quiet
            && !opp.as_deref().is_some_and(|o| o.seq.started() && (o.seq.next_seq.wrapping_sub(p.tcp_ack) as i32) > 0);
        // A SYN-ACK again (its sequence number is no longer the next one expected).
        let syn_again = p.tcp_flags & 0x12 == 0x12 && self.seq.started() && p.tcp_seq != self.seq.next_seq;
        // A FIN sent again with the same acknowledgement number (a FIN that also acknowledges the
        // peer's FIN is a new segment, not a repeat).
        let fin_again = p.tcp_flags & 0x07 == 0x01
            && p.l7_len == 0
            && self.seq.has_ack
            && p.tcp_ack == self.seq.last_ack
            && (p.tcp_seq.wrapping_sub(self.seq.next_seq) as i32) < 0;
        // In a conversation whose SYN was sent twice in quick succession, a pure ACK right after
        // this side's data segment is no duplicate ACK (golden rows: webex.pcap, wow.pcap).
        let after_data = self.flags.fast_syn && self.seq.last_len() != 0;
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
        if copy || after_data {
            // A packet captured twice is no duplicate ACK (golden rows).
            anomaly &= !anomaly::DUP_ACK;
        }
        let retransmitted = anomaly & anomaly::SEQ_OUT_OF_ORDER != 0;
        // Retransmitted data that carries a FIN is not out of order in Tranalyzer2's rows (it can
        // still be a fast retransmission: tls1_1.pcap, or spurious).
        if p.tcp_flags & 0x01 != 0 {
            anomaly &= !anomaly::SEQ_OUT_OF_ORDER;
        }
        self.seq.dup_ack = (anomaly & anomaly::DUP_ACK != 0).then_some(p.tcp_ack);
        // A retransmission of where the other side's latest segment, a duplicate ACK, points (and
        // not acknowledged since) is a fast retransmission and a sequence fault (golden rows:
        // not when anything else came from the other side after the duplicate ACK).
        let end = p.tcp_seq.wrapping_add(p.l7_len);
        if retransmitted && opp.as_deref().is_some_and(|o| o.seq.dup_ack == Some(p.tcp_seq) && !o.seq.acked(end)) {
            anomaly |= anomaly::SEQ_FRETRY;
            self.seq.fault();
        }
        // Retransmitted data, a SYN-ACK or a FIN sent again that the other side had already
        // acknowledged: a spurious retransmission.
        let end = if syn_again || fin_again { end.wrapping_add(1) } else { end };
        if ((retransmitted && p.l7_len > 0) || syn_again || fin_again)
            && opp.as_deref().is_some_and(|o| o.seq.acked(end))
        {
            anomaly |= anomaly::SEQ_MESS;
        }
        // A FIN sent again, unacknowledged, after this side was quiet longer than it usually takes
        // to answer and nothing came from the other side: a timeout retransmission (golden rows;
        // a FIN repeated sooner, or after the other side sent something, is none).
        if fin_repeat
            && quiet
            && rtt::Trips::silent_longer_than_usual(rtt_before, ts_ns)
            && !copy
            && opp.as_deref().is_some_and(|o| o.seq.started() && !o.seq.acked(p.tcp_seq.wrapping_add(1)))
        {
            anomaly |= anomaly::SEQ_TRETRY;
            self.seq.fault();
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

#[cfg(test)]
mod tests {
    use super::anomaly as a;
    use super::*;

    const SYN: u8 = 0x02;
    const FIN: u8 = 0x01;
    const RST: u8 = 0x04;
    const ACK: u8 = 0x10;

    fn seg(flags: u8, seq: u32, ack: u32, len: u32, win: u16, id: u32) -> PacketInfo {
        PacketInfo {
            l3: L3::Ipv4,
            l4_proto: 6,
            l4_present: true,
            tcp_flags: flags,
            tcp_seq: seq,
            tcp_ack: ack,
            l7_len: len,
            tcp_win: win,
            ip_id: id,
            ..PacketInfo::default()
        }
    }

    /// Feeds (direction, millisecond, segment) in order; returns both records (B inverted).
    fn run(segs: &[(usize, u64, PacketInfo)]) -> [FlowRecord; 2] {
        let mut r = [FlowRecord::default(), FlowRecord::default()];
        r[1].inverted = true;
        let mut seen = [false; 2];
        for (d, ms, p) in segs {
            let ts = ms * 1_000_000;
            if !seen[*d] {
                seen[*d] = true;
                r[*d].first_ns = ts;
            }
            let (x, y) = r.split_at_mut(1);
            let (me, opp) = if *d == 0 { (&mut x[0], &mut y[0]) } else { (&mut y[0], &mut x[0]) };
            me.update(ts, p, seen[1 - d].then_some(opp));
        }
        r
    }

    /// A handshake, then 10 bytes from A (sequence numbers 1..11 both ways).
    fn opening() -> Vec<(usize, u64, PacketInfo)> {
        vec![
            (0, 0, seg(SYN, 0, 0, 0, 100, 1)),
            (1, 1, seg(SYN | ACK, 0, 1, 0, 200, 50)),
            (0, 2, seg(ACK, 1, 1, 0, 100, 2)),
            (0, 3, seg(ACK, 1, 1, 10, 100, 3)),
        ]
    }

    #[test]
    fn a_packet_captured_twice_is_a_duplicate_ack_only_while_the_peer_waits() {
        // The repeated ACK leaves A's 10 bytes unacknowledged: a duplicate ACK (rtsp.pcap).
        let mut s = opening();
        s.extend([(1, 4, seg(ACK, 1, 1, 0, 100, 51)), (1, 4, seg(ACK, 1, 1, 0, 100, 51))]);
        assert_ne!(run(&s)[1].tcpf.flags.anomaly & a::DUP_ACK, 0);
        // Acknowledging everything, the copy is no duplicate ACK.
        let mut s = opening();
        s.extend([(1, 4, seg(ACK, 1, 11, 0, 100, 51)), (1, 4, seg(ACK, 1, 11, 0, 100, 51))]);
        assert_eq!(run(&s)[1].tcpf.flags.anomaly & a::DUP_ACK, 0);
        // Unless A sent something in between (vnd.ms-cab-compressed-multi-conn.pcap).
        let mut s = opening();
        s.extend([
            (1, 4, seg(ACK, 1, 11, 0, 100, 51)),
            (0, 5, seg(ACK, 11, 1, 0, 90, 4)),
            (1, 6, seg(ACK, 1, 11, 0, 100, 51)),
        ]);
        assert_ne!(run(&s)[1].tcpf.flags.anomaly & a::DUP_ACK, 0);
    }

    #[test]
    fn after_a_quickly_repeated_syn_an_ack_after_data_is_no_duplicate() {
        // webex.pcap: SYN twice within 0.1 s; A's pure ACK after its data repeats the ACK number.
        let tail = [
            (0, 200, seg(ACK, 1, 1, 10, 100, 3)),
            (1, 201, seg(ACK, 1, 11, 0, 200, 51)),
            (0, 300, seg(ACK, 11, 1, 0, 100, 4)),
        ];
        let mut s = vec![
            (0, 0, seg(SYN, 0, 0, 0, 100, 1)),
            (0, 78, seg(SYN, 0, 0, 0, 100, 2)),
            (1, 90, seg(SYN | ACK, 0, 1, 0, 200, 50)),
            (0, 100, seg(ACK, 1, 1, 0, 100, 2)),
        ];
        s.extend(tail.clone());
        assert_eq!(run(&s)[0].tcpf.flags.anomaly & a::DUP_ACK, 0);
        // With a single SYN it is one.
        let mut s = vec![
            (0, 0, seg(SYN, 0, 0, 0, 100, 1)),
            (1, 90, seg(SYN | ACK, 0, 1, 0, 200, 50)),
            (0, 100, seg(ACK, 1, 1, 0, 100, 2)),
        ];
        s.extend(tail);
        assert_ne!(run(&s)[0].tcpf.flags.anomaly & a::DUP_ACK, 0);
    }

    #[test]
    fn retransmitted_data_with_a_fin_is_not_out_of_order() {
        // android.pcap: data, data + FIN, then both again in one segment with the FIN.
        let mut s = opening();
        s.extend([(0, 4, seg(ACK | FIN, 11, 1, 5, 100, 4)), (0, 300, seg(ACK | FIN, 1, 1, 15, 100, 5))]);
        assert_eq!(run(&s)[0].tcpf.flags.anomaly & a::SEQ_OUT_OF_ORDER, 0);
        let mut s = opening();
        s.extend([(0, 4, seg(ACK, 11, 1, 5, 100, 4)), (0, 300, seg(ACK, 1, 1, 15, 100, 5))]);
        assert_ne!(run(&s)[0].tcpf.flags.anomaly & a::SEQ_OUT_OF_ORDER, 0);
    }

    #[test]
    fn fast_retransmission_answers_the_latest_duplicate_ack() {
        let mut s = opening();
        s.extend([
            (0, 4, seg(ACK, 11, 1, 10, 100, 4)),
            (1, 5, seg(ACK, 1, 11, 0, 100, 51)),
            (1, 6, seg(ACK, 1, 11, 0, 100, 52)), // duplicate ACK at 11
        ]);
        let mut fast = s.clone();
        fast.push((0, 7, seg(ACK, 11, 1, 10, 100, 5)));
        let r = run(&fast);
        assert_eq!(
            r[0].tcpf.flags.anomaly & (a::SEQ_FRETRY | a::SEQ_OUT_OF_ORDER),
            a::SEQ_FRETRY | a::SEQ_OUT_OF_ORDER
        );
        // Data from B after its duplicate ACK: the retransmission is no fast one (alexa-app.pcapng).
        s.extend([(1, 7, seg(ACK, 1, 11, 5, 100, 53)), (0, 8, seg(ACK, 11, 6, 10, 100, 5))]);
        let r = run(&s);
        assert_eq!(r[0].tcpf.flags.anomaly & (a::SEQ_FRETRY | a::SEQ_OUT_OF_ORDER), a::SEQ_OUT_OF_ORDER);
    }

    #[test]
    fn a_fin_sent_again_after_its_acknowledgement_is_spurious() {
        let mut s = opening();
        s.extend([(0, 4, seg(FIN | ACK, 11, 1, 0, 100, 4)), (1, 5, seg(ACK, 1, 12, 0, 100, 51))]);
        let mut again = s.clone();
        again.push((0, 6, seg(FIN | ACK, 11, 1, 0, 100, 5)));
        assert_ne!(run(&again)[0].tcpf.flags.anomaly & a::SEQ_MESS, 0);
        // A FIN that also acknowledges the peer's FIN is no repeat (mysql/auth.pcap).
        s.extend([(1, 6, seg(FIN | ACK, 1, 12, 0, 100, 52)), (0, 7, seg(FIN | ACK, 11, 2, 0, 100, 5))]);
        assert_eq!(run(&s)[0].tcpf.flags.anomaly & a::SEQ_MESS, 0);
    }

    #[test]
    fn a_fin_repeated_after_a_silence_is_a_timeout_retransmission() {
        // radmin3.pcapng, smb1_transaction_request.pcap: B's data acknowledged, A's FIN unanswered.
        let mut s = opening();
        s.extend([(1, 4, seg(ACK, 1, 11, 0, 100, 51)), (0, 5, seg(FIN | ACK, 11, 1, 0, 100, 4))]);
        let mut late = s.clone();
        late.push((0, 300, seg(FIN | ACK, 11, 1, 0, 100, 5)));
        let r = run(&late);
        assert_ne!(r[0].tcpf.flags.anomaly & a::SEQ_TRETRY, 0);
        assert_eq!(r[0].tcpf.seq.faults(), 1);
        // Sent again at once (waze.pcap) or after the other side spoke (qi_internet_SYNACK_curl_jsonip.pcap): none.
        let mut soon = s.clone();
        soon.push((0, 5, seg(FIN | ACK, 11, 1, 0, 100, 5)));
        assert_eq!(run(&soon)[0].tcpf.flags.anomaly & a::SEQ_TRETRY, 0);
        s.extend([(1, 200, seg(ACK | 0x08, 1, 11, 5, 100, 52)), (0, 300, seg(FIN | ACK, 11, 1, 0, 100, 5))]);
        assert_eq!(run(&s)[0].tcpf.flags.anomaly & a::SEQ_TRETRY, 0);
    }

    #[test]
    fn scan_bits_of_lone_answers_flagless_probes_and_early_b_sides() {
        let r = run(&[(0, 0, seg(SYN | ACK, 0, 1, 0, 100, 1))]);
        assert_eq!(flags::scan_bits(&r[0], None), a::SCAN);
        let r = run(&[(0, 0, seg(0, 0, 0, 0, 100, 1)), (0, 1, seg(0, 0, 0, 0, 100, 2))]);
        assert_eq!(flags::scan_bits(&r[0], None), a::SCAN);
        // A lone SYN then ACK (mongodb.pcap) or reset (syn-then-rst.pcap) is a probe; SYNs retried
        // a second apart are not (gnutella.pcap).
        let r = run(&[(0, 0, seg(SYN, 0, 0, 0, 100, 1)), (0, 1, seg(RST, 1, 0, 0, 100, 2))]);
        assert_eq!(flags::scan_bits(&r[0], None), a::SCAN);
        let r = run(&[(0, 0, seg(SYN, 0, 0, 0, 100, 1)), (0, 1000, seg(SYN, 0, 0, 0, 100, 2))]);
        assert_eq!(flags::scan_bits(&r[0], None), 0);
        // A lone reset is no probe (single-rst.pcap), a lone FIN is.
        let r = run(&[(0, 0, seg(RST | ACK, 1, 1, 0, 100, 1))]);
        assert_eq!(flags::scan_bits(&r[0], None), 0);
        let r = run(&[(0, 0, seg(FIN | ACK, 1, 1, 0, 100, 1))]);
        assert_eq!(flags::scan_bits(&r[0], None), a::SCAN);
        // Only B closed mid-stream (Teredo.pcap): B marks itself, A stays clean; A's reset makes
        // no probe.
        let r = run(&[
            (1, 0, seg(FIN | ACK, 1, 1, 0, 100, 1)),
            (0, 1, seg(ACK, 1, 2, 0, 100, 2)),
            (0, 5, seg(RST | ACK, 1, 2, 0, 100, 3)),
            (1, 9, seg(RST | ACK, 2, 1, 0, 100, 3)),
        ]);
        assert_eq!(flags::scan_bits(&r[1], Some(&r[0])), a::SCAN | a::SCAN_SUCCESS);
        assert_eq!(flags::scan_bits(&r[0], Some(&r[1])), 0);
        // Both closed (wechat.pcap): A is the probe, B its answer, whoever came first.
        let r = run(&[
            (1, 0, seg(ACK, 1, 1, 10, 100, 1)),
            (0, 1, seg(ACK, 1, 11, 0, 100, 2)),
            (1, 5, seg(FIN | ACK, 11, 1, 0, 100, 3)),
            (0, 6, seg(FIN | ACK, 1, 12, 0, 100, 4)),
        ]);
        assert_eq!(flags::scan_bits(&r[0], Some(&r[1])), a::SCAN | a::SCAN_SUCCESS);
        assert_eq!(flags::scan_bits(&r[1], Some(&r[0])), a::SCAN_SUCCESS);
    }
}
