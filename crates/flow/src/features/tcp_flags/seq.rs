//! Sequence and acknowledgement accounting: initial sequence number, bytes sent in sequence,
//! bytes acknowledged, faults, and the most bytes in flight.

use netanom_wire::PacketInfo;

use super::flags::anomaly as a;
use crate::schema::ValueSink;

#[derive(Debug, Clone, Default)]
pub struct SeqAck {
    started: bool,
    isn: u32,
    /// The next sequence number expected from this direction.
    pub next_seq: u32,
    seq_pkts: u16,
    seq_bytes: u64,
    seq_faults: u16,
    ack_pkts: u16,
    pub has_ack: bool,
    /// The latest acknowledgement number this direction sent.
    pub last_ack: u32,
    ack_faults: u16,
    bytes_in_flight_max: u32,
    /// Bytes in flight now: this side's data since the peer's latest segment with ACK.
    flight: u32,
    /// Segments with ACK this direction sent, and the peer's count at this side's latest segment.
    ack_segs: u32,
    peer_ack_segs: u32,
    /// Where this direction's latest segment points, if it was a duplicate ACK.
    pub dup_ack: Option<u32>,
    /// Segments this direction sent, and the peer's count at this side's latest segment.
    segs: u32,
    peer_segs: u32,
    fin_seen: bool,
    /// The sequence number of this direction's (latest) FIN.
    fin_end: u32,
    /// This direction's first FIN came in order.
    fin_in_order: bool,
    last_win: u16,
    /// tcpFlwLssAckRcvdBytes: what this direction's acknowledgements moved on.
    acked_bytes: u64,
    /// Tranalyzer2's sequence-difference accounting (tcpPSeqCnt, tcpSeqSntBytes), which follows
    /// the previous accounted segment rather than the highest sequence number.
    diff: SeqDiff,
}

/// The previous segment accounted for tcpPSeqCnt and tcpSeqSntBytes.
#[derive(Debug, Clone, Copy, Default)]
struct SeqDiff {
    started: bool,
    seq: u32,
    len: u32,
    /// It carried SYN or FIN (one sequence number).
    ctl: bool,
}

/// Where a segment stands against the previous accounted one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Step {
    /// It starts where the previous one ended (its SYN or FIN included).
    in_seq: bool,
    /// Bytes it adds to tcpSeqSntBytes.
    add: u32,
}

impl SeqDiff {
    /// Accounts one segment. Read off the golden rows: a segment's bytes count when the next
    /// segment moves the sequence number on (so the last segment's never do, and a lone data
    /// segment gives 0); the number a SYN or FIN takes counts only after a segment that carried
    /// data too; a gap counts whole; a reset without ACK, or one behind the expected number, is
    /// not accounted at all.
    #[inline]
    fn update(&mut self, seq: u32, len: u32, flags: u8) -> Step {
        let ctl = flags & (SYN | FIN) != 0;
        let rst_skipped = flags & RST != 0 && flags & ACK == 0;
        if !self.started {
            if rst_skipped {
                return Step::default();
            }
            *self = SeqDiff { started: true, seq, len, ctl };
            return Step { in_seq: true, ..Step::default() };
        }
        let inc = seq.wrapping_sub(self.seq) as i32;
        let expected = seq.wrapping_sub(self.seq.wrapping_add(self.len + self.ctl as u32)) as i32;
        if rst_skipped || (flags & RST != 0 && expected < 0) {
            return Step::default();
        }
        let mut add = inc.max(0) as u32;
        if inc == 1 && self.ctl && self.len == 0 {
            add = 0;
        }
        *self = SeqDiff { started: true, seq, len, ctl };
        Step { in_seq: expected == 0, add }
    }
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const ACK: u8 = 0x10;
const RST: u8 = 0x04;

impl SeqAck {
    #[inline]
    /// Accounts one segment; returns the tcpAnomaly bits it raises.
    pub fn update(&mut self, p: &PacketInfo, opp: Option<&SeqAck>) -> u16 {
        let mut anomaly = 0;
        if p.tcp_flags & ACK != 0 {
            self.ack_segs = self.ack_segs.wrapping_add(1);
        }
        self.segs = self.segs.wrapping_add(1);
        self.peer_segs = opp.map_or(0, |o| o.segs);
        let seq = p.tcp_seq;
        let len = p.l7_len;
        let ctl = (p.tcp_flags & (SYN | FIN) != 0) as u32;
        if !self.started {
            self.started = true;
            self.isn = seq;
            self.next_seq = seq;
        }
        let d = seq.wrapping_sub(self.next_seq) as i32;
        let retransmitted = d < 0 && (len > 0 || ctl > 0);
        if d > 0 && p.tcp_flags & SYN == 0 {
            // a gap: bytes the capture did not see; Tranalyzer2 does not report it right after
            // a bare SYN (or FIN), and it is no sequence fault.
            if !(self.diff.ctl && self.diff.len == 0) {
                anomaly |= a::PKT_NOT_CAPTURED;
            }
        }
        // A FIN sent again without data is not out of order (golden rows).
        if retransmitted && len > 0 && p.tcp_flags & SYN == 0 {
            anomaly |= a::SEQ_OUT_OF_ORDER;
        }
        if !retransmitted && d >= 0 {
            self.next_seq = seq.wrapping_add(len + ctl);
        }
        let step = self.diff.update(seq, len, p.tcp_flags);
        // Only segments with ACK count as sequenced.
        if step.in_seq && p.tcp_flags & ACK != 0 {
            self.seq_pkts = self.seq_pkts.saturating_add(1);
        }
        self.seq_bytes += step.add as u64;
        self.flight(p, opp);
        if p.tcp_flags & FIN != 0 {
            if !self.fin_seen {
                self.fin_in_order = d >= 0;
            }
            self.fin_seen = true;
            self.fin_end = seq.wrapping_add(len);
        }
        if p.tcp_flags & ACK != 0 {
            let ack = p.tcp_ack;
            if !self.has_ack {
                self.has_ack = true;
                self.last_ack = ack;
            }
            let pure = len == 0 && p.tcp_flags & (SYN | FIN | RST) == 0;
            let dup = self.has_ack && pure && ack == self.last_ack && p.tcp_win == self.last_win && self.ack_pkts > 0;
            let unseen = opp.is_some_and(|o| o.started && (ack.wrapping_sub(o.next_seq) as i32) > 0);
            if dup {
                anomaly |= a::DUP_ACK;
            }
            if unseen {
                anomaly |= a::ACK_UNSEEN;
            }
            // Read off the golden rows: a fault is a duplicate ACK or one for bytes not seen (an
            // acknowledgement going back is none).
            if dup || unseen {
                self.ack_faults = self.ack_faults.saturating_add(1);
            }
            let inc = ack.wrapping_sub(self.last_ack) as i32;
            if inc >= 0 {
                self.ack_pkts = self.ack_pkts.saturating_add(1);
                self.last_ack = ack;
            }
            // The FIN's sequence number is no byte: an acknowledgement of just the peer's FIN
            // (or of one number, when the peer is not seen at all) adds nothing; one that
            // covers data and the FIN together counts whole (golden rows).
            let just_fin =
                inc == 1 && opp.is_none_or(|o| !o.started || (o.fin_seen && ack == o.fin_end.wrapping_add(1)));
            if inc > 0 && !just_fin {
                self.acked_bytes += inc as u64;
            }
        }
        self.last_win = p.tcp_win;
        anomaly
    }

    /// Bytes in flight, as read off the golden rows: Tranalyzer2 sums the lengths of this side's
    /// data segments since the other side's latest segment with ACK, whatever that acknowledged
    /// (a reset without ACK does not count). Retransmissions and capture duplicates count like
    /// new data; SYN and FIN segments, and segments before the other side was seen, do not.
    #[inline]
    fn flight(&mut self, p: &PacketInfo, opp: Option<&SeqAck>) {
        let Some(o) = opp.filter(|o| o.started) else {
            return;
        };
        if o.ack_segs != self.peer_ack_segs {
            self.peer_ack_segs = o.ack_segs;
            self.flight = 0;
        }
        if p.l7_len == 0 || p.tcp_flags & (SYN | FIN) != 0 {
            return;
        }
        self.flight = self.flight.saturating_add(p.l7_len);
        self.bytes_in_flight_max = self.bytes_in_flight_max.max(self.flight);
    }

    /// This direction has sent a segment.
    #[inline]
    pub fn started(&self) -> bool {
        self.started
    }

    /// A retransmission Tranalyzer2 classifies (fast or timeout): in the golden rows
    /// tcpSeqFaultCnt is non-zero exactly when tcpAnomaly has 0x0002 or 0x0004.
    #[inline]
    pub fn fault(&mut self) {
        self.seq_faults = self.seq_faults.saturating_add(1);
    }

    /// The other side sent nothing since this side's previous segment.
    #[inline]
    pub fn peer_quiet(&self, opp: Option<&SeqAck>) -> bool {
        opp.map_or(0, |o| o.segs) == self.peer_segs
    }

    /// The length of this direction's previous (accounted) segment.
    #[inline]
    pub fn last_len(&self) -> u32 {
        self.diff.len
    }

    /// tcpSeqFaultCnt.
    #[cfg(test)]
    pub fn faults(&self) -> u16 {
        self.seq_faults
    }

    /// `p` is at the sequence number of this direction's previous FIN, and that FIN's first one
    /// came in order (one seen only after later segments is no original to repeat).
    #[inline]
    pub fn repeats_fin(&self, p: &PacketInfo) -> bool {
        self.fin_seen && self.fin_in_order && p.tcp_seq == self.fin_end
    }

    /// This direction acknowledged everything before `end`.
    #[inline]
    pub fn acked(&self, end: u32) -> bool {
        self.has_ack && (self.last_ack.wrapping_sub(end) as i32) >= 0
    }

    /// `p` repeats this direction's previous segment (sequence and acknowledgement numbers,
    /// length, window): with the same IPv4 ID too, the capture holds the packet twice.
    #[inline]
    pub fn repeats_last(&self, p: &PacketInfo) -> bool {
        self.diff.started
            && self.has_ack
            && p.tcp_seq == self.diff.seq
            && p.l7_len == self.diff.len
            && p.tcp_ack == self.last_ack
            && p.tcp_win == self.last_win
    }

    /// `ack` acknowledges one number past this direction's latest segment, which carried
    /// nothing (no data, SYN or FIN): the answer to a keep-alive, as Tranalyzer2 sees it.
    #[inline]
    pub fn acked_one_past_empty(&self, ack: u32) -> bool {
        self.diff.started && !self.diff.ctl && self.diff.len == 0 && ack == self.diff.seq.wrapping_add(1)
    }

    /// A window update (tcpFStat 0x0020): a pure ACK at the same sequence and acknowledgement
    /// numbers as this direction's previous segment, only the window changed.
    #[inline]
    pub fn is_window_update(&self, p: &PacketInfo) -> bool {
        self.has_ack
            && p.tcp_flags & (SYN | FIN | RST | ACK) == ACK
            && p.l7_len == 0
            && p.tcp_seq == self.next_seq
            && p.tcp_ack == self.last_ack
            && p.tcp_win != self.last_win
    }

    pub fn write_seq(&self, w: &mut dyn ValueSink) {
        w.uint(self.isn as u64);
        w.uint(self.seq_pkts as u64);
        w.uint(self.seq_bytes);
        w.uint(self.seq_faults as u64);
        w.uint(self.ack_pkts as u64);
        w.uint(self.acked_bytes);
        w.uint(self.ack_faults as u64);
        w.uint(self.bytes_in_flight_max as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(flags: u8, seq: u32, ack: u32, len: u32) -> PacketInfo {
        PacketInfo { tcp_flags: flags, tcp_seq: seq, tcp_ack: ack, l7_len: len, ..PacketInfo::default() }
    }

    /// Feeds (direction, segment) in order; returns both directions' states.
    fn run(segs: &[(usize, PacketInfo)]) -> [SeqAck; 2] {
        let mut st = [SeqAck::default(), SeqAck::default()];
        for (d, p) in segs {
            let (a, b) = st.split_at_mut(1);
            let (me, opp) = if *d == 0 { (&mut a[0], &b[0]) } else { (&mut b[0], &a[0]) };
            let opp = opp.started.then_some(opp);
            me.update(p, opp);
        }
        st
    }

    #[test]
    fn seq_bytes_count_when_the_sequence_moves_on() {
        // SYN, ACK, 100 bytes, 50 bytes, FIN: the SYN's number and the last segment's bytes do
        // not count; a data-carrying FIN's number does.
        let a = [seg(SYN, 10, 0, 0), seg(ACK, 11, 1, 0), seg(ACK, 11, 1, 100), seg(ACK, 111, 1, 50)];
        let mut segs: Vec<_> = a.iter().map(|p| (0, p.clone())).collect();
        segs.push((0, seg(FIN | ACK, 161, 1, 0)));
        let st = run(&segs);
        assert_eq!((st[0].seq_bytes, st[0].seq_pkts), (150, 4));
        let st = run(&[(0, seg(ACK | FIN, 5, 1, 28)), (0, seg(ACK, 34, 1, 0))]);
        assert_eq!(st[0].seq_bytes, 29);
        // A lone data segment counts nothing; a gap counts whole.
        assert_eq!(run(&[(0, seg(ACK, 5, 1, 500))])[0].seq_bytes, 0);
        let st = run(&[(0, seg(SYN, 0, 0, 0)), (0, seg(ACK | FIN, 820, 1, 0))]);
        assert_eq!((st[0].seq_bytes, st[0].seq_pkts), (820, 0));
        // A reset without ACK is not accounted.
        let st = run(&[(0, seg(ACK, 0, 1, 64)), (0, seg(RST, 64, 0, 0)), (0, seg(ACK, 64, 1, 0))]);
        assert_eq!((st[0].seq_bytes, st[0].seq_pkts), (64, 2));
    }

    #[test]
    fn flight_waits_for_the_peer_and_restarts_at_its_acks() {
        let st = run(&[
            (0, seg(ACK, 0, 0, 880)),   // peer not seen yet: not in flight
            (1, seg(ACK, 0, 880, 100)), // acknowledges it
            (0, seg(ACK, 880, 100, 860)),
            (0, seg(ACK, 880, 100, 860)),       // a duplicate counts again
            (0, seg(ACK | FIN, 1740, 100, 50)), // a FIN's data does not
        ]);
        assert_eq!(st[0].bytes_in_flight_max, 1720);
        // teams.pcap: an acknowledgement of only part of what was sent still starts again from 0,
        // so does a duplicate ACK (weibo.pcap).
        let mut segs = vec![(1, seg(SYN, 0, 0, 0)), (0, seg(SYN | ACK, 0, 1, 0)), (1, seg(ACK, 1, 1, 0))];
        segs.extend((0..3).map(|i| (1, seg(ACK, 1 + 1428 * i, 1, 1428))));
        segs.push((0, seg(ACK, 1, 1429, 0)));
        segs.extend((3..7).map(|i| (1, seg(ACK, 1 + 1428 * i, 1, 1428))));
        segs.push((0, seg(ACK, 1, 1429, 0)));
        segs.extend((7..9).map(|i| (1, seg(ACK, 1 + 1428 * i, 1, 1428))));
        assert_eq!(run(&segs)[1].bytes_in_flight_max, 4 * 1428);
        // reddit.pcap: a reset without ACK from the peer is no acknowledgement; payload-synack.pcap:
        // a SYN-ACK's payload is not in flight.
        let st = run(&[
            (1, seg(SYN, 0, 0, 0)),
            (0, seg(SYN | ACK, 0, 1, 110)),
            (1, seg(ACK, 1, 1, 0)),
            (0, seg(ACK, 1, 1, 1048)),
            (1, seg(RST, 1, 0, 0)),
            (0, seg(ACK, 1049, 1, 1048)),
        ]);
        assert_eq!(st[0].bytes_in_flight_max, 2096);
        // Retransmissions count again (alexa-app.pcapng).
        let st = run(&[
            (1, seg(ACK, 0, 0, 0)),
            (0, seg(ACK, 0, 0, 100)),
            (0, seg(ACK, 100, 0, 50)),
            (0, seg(ACK, 0, 0, 100)),
        ]);
        assert_eq!((st[0].bytes_in_flight_max, st[0].flight), (250, 250));
    }

    #[test]
    fn ack_faults_and_flawless_bytes() {
        let st = run(&[
            (0, seg(ACK, 0, 0, 100)),
            (1, seg(ACK, 0, 100, 0)),
            (1, seg(ACK, 0, 100, 0)), // duplicate ACK: a fault
            (1, seg(ACK, 0, 50, 0)),  // going back: no fault
            (0, seg(ACK | FIN, 100, 0, 0)),
            (1, seg(ACK, 0, 101, 0)), // just the FIN: no byte
            (1, seg(ACK, 0, 105, 0)), // beyond what was sent: a fault
        ]);
        assert_eq!(st[1].ack_faults, 2);
        assert_eq!(st[1].acked_bytes, 4);
        // Data and FIN acknowledged together count whole.
        let st = run(&[
            (0, seg(ACK, 0, 0, 0)),
            (1, seg(ACK, 0, 0, 0)),
            (0, seg(ACK | FIN, 0, 0, 9)),
            (1, seg(ACK, 0, 10, 0)),
        ]);
        assert_eq!(st[1].acked_bytes, 10);
    }
}
