//! Sequence and acknowledgement accounting: initial sequence number, bytes sent in sequence,
//! bytes acknowledged, faults, and the most bytes in flight.

use netanom_wire::PacketInfo;

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
    has_ack: bool,
    first_ack: u32,
    /// The latest acknowledgement number this direction sent.
    pub last_ack: u32,
    ack_faults: u16,
    bytes_in_flight_max: u32,
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const ACK: u8 = 0x10;

impl SeqAck {
    #[inline]
    pub fn update(&mut self, p: &PacketInfo, opp: Option<&SeqAck>) {
        let seq = p.tcp_seq;
        let len = p.l7_len;
        let ctl = (p.tcp_flags & (SYN | FIN) != 0) as u32;
        if !self.started {
            self.started = true;
            self.isn = seq;
            self.next_seq = seq;
        }
        let d = seq.wrapping_sub(self.next_seq) as i32;
        if d >= 0 {
            self.seq_pkts = self.seq_pkts.saturating_add(1);
            self.seq_bytes += len as u64;
            self.next_seq = seq.wrapping_add(len + ctl);
        } else {
            self.seq_faults = self.seq_faults.saturating_add(1);
        }
        if p.tcp_flags & ACK != 0 {
            let ack = p.tcp_ack;
            if !self.has_ack {
                self.has_ack = true;
                self.first_ack = ack;
                self.last_ack = ack;
            }
            if ack.wrapping_sub(self.last_ack) as i32 >= 0 {
                self.ack_pkts = self.ack_pkts.saturating_add(1);
                self.last_ack = ack;
            } else {
                self.ack_faults = self.ack_faults.saturating_add(1);
            }
        }
        if let Some(o) = opp.filter(|o| o.has_ack) {
            let flight = self.next_seq.wrapping_sub(o.last_ack) as i32;
            if flight > 0 {
                self.bytes_in_flight_max = self.bytes_in_flight_max.max(flight as u32);
            }
        }
    }

    pub fn write_seq(&self, w: &mut dyn ValueSink) {
        w.uint(self.isn as u64);
        w.uint(self.seq_pkts as u64);
        w.uint(self.seq_bytes);
        w.uint(self.seq_faults as u64);
        w.uint(self.ack_pkts as u64);
        w.uint(self.last_ack.wrapping_sub(self.first_ack) as u64);
        w.uint(self.ack_faults as u64);
        w.uint(self.bytes_in_flight_max as u64);
    }
}
