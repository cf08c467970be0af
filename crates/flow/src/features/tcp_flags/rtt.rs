//! Trip times: how long the other side took to answer this direction's packets. Tranalyzer2
//! measures them for every protocol (a UDP request's "ACK trip" is the time to its answer).
//!
//! A packet answers the other direction when that direction sent something after this one's
//! last packet; the trip, from that last packet to the answer, belongs to the direction answered.
//! `tcpSSASAATrip` is the trip of a direction's very first packet when it was answered directly
//! (A: SYN → SYN-ACK, B: SYN-ACK → ACK for a clean handshake). The jitter columns and
//! `tcpRTTSseqAA` are not reproduced yet and print their initial values.

use netanom_wire::PacketInfo;

use crate::schema::ValueSink;

#[derive(Debug, Clone, Default)]
pub struct Trips {
    last_ns: u64,
    pkts: u32,
    n: u32,
    min: f64,
    max: f64,
    sum: f64,
    first: f64,
}

impl Trips {
    #[inline]
    pub fn update(&mut self, ts_ns: u64, _p: &PacketInfo, _tcp: bool, opp: Option<&mut Trips>) {
        if let Some(o) = opp {
            if o.pkts > 0 && o.last_ns >= self.last_ns && ts_ns >= o.last_ns {
                let trip = (ts_ns - o.last_ns) as f64 * 1e-9;
                o.add(trip);
            }
        }
        self.last_ns = ts_ns;
        self.pkts = self.pkts.saturating_add(1);
    }

    fn add(&mut self, trip: f64) {
        if self.n == 0 {
            self.min = trip;
            self.max = trip;
            if self.pkts == 1 {
                self.first = trip;
            }
        } else {
            self.min = self.min.min(trip);
            self.max = self.max.max(trip);
        }
        self.n += 1;
        self.sum += trip;
    }

    pub fn write(&self, _inverted: bool, w: &mut dyn ValueSink) {
        w.float(self.first);
        if self.n > 0 {
            w.float(self.min);
            w.float(self.max);
            w.float(self.sum / self.n as f64);
        } else {
            w.float(65535.0);
            w.float(0.0);
            w.float(0.0);
        }
        w.float(0.0);
        w.float(0.0);
        w.float(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_query_answered() {
        // 1kxun.pcap, port 51024: two queries, one answer 18.931 ms after the second.
        let (mut a, mut b) = (Trips::default(), Trips::default());
        let p = PacketInfo::default();
        a.update(734_137_000, &p, false, Some(&mut b));
        a.update(734_181_000, &p, false, Some(&mut b));
        b.update(753_112_000, &p, false, Some(&mut a));
        assert_eq!(a.n, 1);
        assert!((a.min - 0.018931).abs() < 1e-9);
        assert_eq!(a.first, 0.0, "the first query was not answered directly");
        assert_eq!(b.n, 0);
    }
}
