//! Trip times: how long one direction takes to answer the other. Tranalyzer2 measures them for
//! every protocol (a UDP request's "ACK trip" is the time to its answer).
//!
//! Each packet of a direction takes one sample, the time since the other direction's last packet
//! (0 while the other direction has sent nothing: such samples enter the average and the jitter
//! but not the minimum and maximum). The samples tell how fast this direction answers, so the
//! *other* direction's row prints them. The average is a running mean and the jitter the square
//! root of the running variance `v_n = ((n-1)·v_{n-1} + (x - avg_{n-1})²) / n`. After a FIN or a
//! reset, the direction's further packets take no sample until the other side has answered.
//!
//! A sample answering the other direction's very first packet (UDP and others: any answer while
//! it has sent one packet; TCP: any answer to a lone SYN, or the first one to a lone SYN-ACK) is
//! `tcpSSASAATrip`: it replaces the average instead of entering it and
//! leaves the variance alone. `tcpRTTSseqAA` adds both directions' values: the two
//! `tcpSSASAATrip` for the A row, the two averages for the B row; the B row's
//! `tcpRTTAckJitAvg` adds the two variances (the A row prints 0).
//!
//! Tranalyzer2 subtracts packet times with each nanosecond field rounded to an `f32` (24-bit
//! mantissa): its trips are off by up to 64 ns, which shows on sub-millisecond trips.

use netanom_wire::PacketInfo;

use crate::schema::ValueSink;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

#[derive(Debug, Clone, Default)]
pub struct Trips {
    last_ns: u64,
    pkts: u32,
    /// TCP flags of this direction's first packet (0 for other protocols).
    first_flags: u8,
    /// The other direction has answered this one at least once.
    answered: bool,
    /// This direction's last sampling packet carried FIN or RST.
    closing: bool,
    n: u32,
    avg: f64,
    var: f64,
    /// Whether a real trip was sampled (min/max hold values).
    real: bool,
    min: f64,
    max: f64,
    ssa: f64,
}

/// Seconds from `from_ns` to `to_ns` the way Tranalyzer2 computes them: whole seconds exactly,
/// nanosecond fields through `f32`.
fn trip_secs(from_ns: u64, to_ns: u64) -> f64 {
    let (s0, n0) = (from_ns / 1_000_000_000, (from_ns % 1_000_000_000) as u32);
    let (s1, n1) = (to_ns / 1_000_000_000, (to_ns % 1_000_000_000) as u32);
    let secs = s1 as f64 - s0 as f64;
    secs + (n1 as f32 as f64 - n0 as f32 as f64) * 1e-9
}

impl Trips {
    /// This direction's previous packet time (if any) and its running mean of answer times, to be
    /// read before this packet's update and handed to [`Trips::silent_longer_than_usual`].
    #[inline]
    pub fn before(&self) -> (Option<u64>, f64) {
        ((self.pkts > 0).then_some(self.last_ns), self.avg)
    }

    /// The time from the previous packet to `ts_ns` exceeds the mean answer time.
    pub fn silent_longer_than_usual(before: (Option<u64>, f64), ts_ns: u64) -> bool {
        before.0.is_some_and(|last| trip_secs(last, ts_ns) > before.1)
    }

    #[inline]
    pub fn update(&mut self, ts_ns: u64, p: &PacketInfo, tcp: bool, opp: Option<&mut Trips>) {
        let flags = if tcp { p.tcp_flags } else { 0 };
        let opp_last = opp.as_ref().map_or(0, |o| o.last_ns);
        // Packets following this direction's FIN or reset before the other side answered take
        // no sample (a burst of resets counts once).
        if self.closing && opp_last <= self.last_ns {
            self.last_ns = ts_ns;
            self.pkts = self.pkts.saturating_add(1);
            return;
        }
        match opp {
            Some(o) if o.pkts > 0 => {
                let trip = trip_secs(o.last_ns, ts_ns);
                let first = o.pkts == 1 && (!tcp || o.first_answer());
                o.answered = true;
                self.add(trip, first);
            }
            _ => self.add_zero(),
        }
        if self.pkts == 0 {
            self.first_flags = flags;
        }
        self.closing = flags & (FIN | RST) != 0;
        self.last_ns = ts_ns;
        self.pkts = self.pkts.saturating_add(1);
    }

    /// Whether a TCP packet answering this direction's lone first packet is its
    /// `tcpSSASAATrip`: any answer to a SYN (the last one wins), only the first one (whatever
    /// its flags: an ACK, a repeated SYN, a reset) to a SYN-ACK.
    fn first_answer(&self) -> bool {
        match self.first_flags & (SYN | ACK) {
            SYN => true,
            f if f == SYN | ACK => !self.answered,
            _ => false,
        }
    }

    fn add(&mut self, trip: f64, first: bool) {
        self.n = self.n.saturating_add(1);
        if self.real {
            self.min = self.min.min(trip);
            self.max = self.max.max(trip);
        } else {
            self.real = true;
            self.min = trip;
            self.max = trip;
        }
        if first {
            self.ssa = trip;
            self.avg = trip;
        } else {
            self.sample(trip);
        }
    }

    fn add_zero(&mut self) {
        self.n = self.n.saturating_add(1);
        self.sample(0.0);
    }

    fn sample(&mut self, x: f64) {
        let n = self.n as f64;
        let old = self.avg;
        self.avg = old + (x - old) / n;
        self.var = (self.var * (n - 1.0) + (x - old) * (x - old)) / n;
    }

    /// `self` is the row's direction, `opp` the other one: the row prints the other direction's
    /// samples (how fast it answered this one).
    pub fn write(&self, opp: Option<&Trips>, inverted: bool, w: &mut dyn ValueSink) {
        let o = opp.cloned().unwrap_or_default();
        w.float(o.ssa);
        if o.real {
            w.float(o.min);
            w.float(o.max);
        } else {
            w.float(65535.0);
            w.float(0.0);
        }
        w.float(o.avg);
        w.float(o.var.sqrt());
        if inverted {
            w.float(self.avg + o.avg);
            w.float((self.var + o.var).sqrt());
        } else {
            w.float(self.ssa + o.ssa);
            w.float(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(flags: u8) -> PacketInfo {
        PacketInfo { tcp_flags: flags, ..PacketInfo::default() }
    }

    #[test]
    fn quantised_like_tranalyzer2() {
        // ajp.pcap: SYN-ACK at .447547, ACK at .447616 → 0.000068992 s.
        let t = trip_secs(1_505_154_584_447_547_000, 1_505_154_584_447_616_000);
        assert!((t - 0.000068992).abs() < 1e-12, "{t}");
    }

    #[test]
    fn udp_two_queries_one_answer() {
        // 1kxun.pcap, port 51024: two queries, one answer 18.931 ms after the second.
        let (mut a, mut b) = (Trips::default(), Trips::default());
        let p = PacketInfo::default();
        a.update(734_137_000, &p, false, Some(&mut b));
        a.update(734_181_000, &p, false, Some(&mut b));
        b.update(753_112_000, &p, false, Some(&mut a));
        // The A row prints B's samples: one trip, jitter = the trip (variance from a zero mean).
        assert_eq!(b.n, 1);
        assert!((b.avg - 0.018931).abs() < 1e-7);
        assert!((b.var.sqrt() - 0.018931).abs() < 1e-7);
        assert_eq!(b.ssa, 0.0, "the first query was not answered directly");
        // The B row prints A's samples: two zeros (B had not sent yet), no trip.
        assert_eq!((a.n, a.real, a.avg), (2, false, 0.0));
    }

    #[test]
    fn udp_exchanges() {
        // ah.pcapng: A 0, B 6.932 ms, A 15.946 ms, B 23.868 ms.
        let (mut a, mut b) = (Trips::default(), Trips::default());
        let p = PacketInfo::default();
        a.update(1_000_000_000, &p, false, Some(&mut b));
        b.update(1_006_932_000, &p, false, Some(&mut a));
        a.update(1_015_946_000, &p, false, Some(&mut b));
        b.update(1_023_868_000, &p, false, Some(&mut a));
        assert!((b.ssa - 0.006932).abs() < 1e-9 && (a.ssa - 0.009014).abs() < 1e-9);
        assert!((b.avg - 0.007427).abs() < 1e-9);
        assert!((b.var.sqrt() - 0.0007000357).abs() < 1e-9, "{}", b.var.sqrt());
        assert!((a.avg - 0.009014).abs() < 1e-9 && a.var == 0.0, "A's zero sample then its SSA");
    }

    #[test]
    fn tcp_handshake_only_first_answer() {
        // SYN, SYN-ACK 1.212 ms later, ACK 0.041 ms later, PSH-ACK 1.243 ms after the SYN-ACK.
        let (mut a, mut b) = (Trips::default(), Trips::default());
        a.update(0, &pkt(SYN), true, Some(&mut b));
        b.update(1_212_000, &pkt(SYN | ACK), true, Some(&mut a));
        a.update(1_253_000, &pkt(ACK), true, Some(&mut b));
        a.update(2_455_000, &pkt(ACK | 0x08), true, Some(&mut b));
        assert!((b.ssa - 0.001212).abs() < 1e-9);
        assert!((a.ssa - 0.000041).abs() < 1e-9);
        // A's samples: 0 (no B yet), SSA 0.041 ms replacing the mean, then 1.243 ms.
        assert!((a.avg - (0.000041 + (0.001243 - 0.000041) / 3.0)).abs() < 1e-9, "{}", a.avg);
    }

    #[test]
    fn tcp_any_answer_to_a_lone_syn() {
        // bro.org-filtered.pcap: SYN, SYN-ACK after 72 ms, FIN-ACK after 5.39 s, nothing between.
        let (mut a, mut b) = (Trips::default(), Trips::default());
        a.update(0, &pkt(SYN), true, Some(&mut b));
        b.update(72_126_000, &pkt(SYN | ACK), true, Some(&mut a));
        b.update(5_390_482_000, &pkt(FIN | ACK), true, Some(&mut a));
        assert!((b.ssa - 5.390482).abs() < 1e-7 && (b.avg - 5.390482).abs() < 1e-7 && b.var == 0.0);
        assert!((b.min - 0.072126).abs() < 1e-9);
    }

    #[test]
    fn reset_burst_samples_once() {
        let (mut a, mut b) = (Trips::default(), Trips::default());
        a.update(0, &pkt(ACK), true, Some(&mut b));
        b.update(1_000_000, &pkt(RST), true, Some(&mut a));
        b.update(2_000_000, &pkt(RST), true, Some(&mut a));
        b.update(3_000_000, &pkt(RST), true, Some(&mut a));
        assert_eq!((b.n, b.pkts), (1, 3));
        // Once A has answered, B's next reset samples again, from A's packet.
        a.update(4_000_000, &pkt(ACK), true, Some(&mut b));
        b.update(4_500_000, &pkt(RST), true, Some(&mut a));
        assert_eq!(b.n, 2);
        assert!((b.min - 0.0005).abs() < 1e-12);
    }
}
