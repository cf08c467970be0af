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
    first_ack: u32,
    /// The latest acknowledgement number this direction sent.
    pub last_ack: u32,
    ack_faults: u16,
    bytes_in_flight_max: u32,
    bytes_sent_all: u64,
    fin_seen: bool,
    last_win: u16,
    acked_fin: bool,
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
        let seq = p.tcp_seq;
        let len = p.l7_len;
        let ctl = (p.tcp_flags & (SYN | FIN) != 0) as u32;
        if !self.started {
            self.started = true;
            self.isn = seq;
            self.next_seq = seq;
        }
        self.bytes_sent_all += len as u64;
        let d = seq.wrapping_sub(self.next_seq) as i32;
        let retransmitted = d < 0 && (len > 0 || ctl > 0);
        if d > 0 && p.tcp_flags & SYN == 0 {
            // a gap: bytes the capture did not see
            self.seq_faults = self.seq_faults.saturating_add(1);
            anomaly |= a::PKT_NOT_CAPTURED;
        }
        if retransmitted && p.tcp_flags & SYN == 0 {
            anomaly |= a::SEQ_OUT_OF_ORDER;
        }
        if !retransmitted {
            // Tranalyzer2 counts sequenced packets from the first that acknowledges something.
            if p.tcp_flags & ACK != 0 {
                self.seq_pkts = self.seq_pkts.saturating_add(1);
            }
            self.seq_bytes += len as u64;
            if d >= 0 {
                self.next_seq = seq.wrapping_add(len + ctl);
            }
        }
        if p.tcp_flags & FIN != 0 {
            self.fin_seen = true;
        }
        if p.tcp_flags & ACK != 0 {
            let ack = p.tcp_ack;
            if !self.has_ack {
                self.has_ack = true;
                self.first_ack = ack;
                self.last_ack = ack;
            }
            let pure = len == 0 && p.tcp_flags & (SYN | FIN | RST) == 0;
            if self.has_ack && pure && ack == self.last_ack && p.tcp_win == self.last_win && self.ack_pkts > 0 {
                anomaly |= a::DUP_ACK;
            }
            if opp.is_some_and(|o| o.started && (ack.wrapping_sub(o.next_seq) as i32) > 0) {
                anomaly |= a::ACK_UNSEEN;
            }
            if ack.wrapping_sub(self.last_ack) as i32 >= 0 {
                self.ack_pkts = self.ack_pkts.saturating_add(1);
                self.last_ack = ack;
                // The FIN's sequence number is no byte: the "flawless" count leaves it out.
                self.acked_fin = opp.is_some_and(|o| o.fin_seen && ack == o.next_seq);
            } else {
                self.ack_faults = self.ack_faults.saturating_add(1);
            }
        }
        // In flight: every byte sent, retransmissions included (as Tranalyzer2 counts them),
        // less what the other side has acknowledged so far.
        self.last_win = p.tcp_win;
        let acked = opp.filter(|o| o.has_ack).map_or(0, |o| o.last_ack.wrapping_sub(o.first_ack) as u64);
        let flight = self.bytes_sent_all.saturating_sub(acked).min(u32::MAX as u64) as u32;
        self.bytes_in_flight_max = self.bytes_in_flight_max.max(flight);
        anomaly
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
        w.uint((self.last_ack.wrapping_sub(self.first_ack) as u64).saturating_sub(self.acked_fin as u64));
        w.uint(self.ack_faults as u64);
        w.uint(self.bytes_in_flight_max as u64);
    }
}
