//! basicStats: packet, byte, size and inter-arrival statistics of one flow direction.

use crate::record::FlowRecord;
use crate::schema::{Column, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[
    Column::new("pktsSnt", "U64", Kind::UInt, "Number of transmitted packets"),
    Column::new("pktsRcvd", "U64", Kind::UInt, "Number of received packets"),
    Column::new("padBytesSnt", "I64", Kind::Int, "Number of transmitted padding bytes"),
    Column::new("l7BytesSnt", "U64", Kind::UInt, "Number of transmitted layer 7 bytes"),
    Column::new("l7BytesRcvd", "U64", Kind::UInt, "Number of received layer 7 bytes"),
    Column::new("minL7PktSz", "U16", Kind::UInt, "Minimum layer 7 packet size"),
    Column::new("maxL7PktSz", "U16", Kind::UInt, "Maximum layer 7 packet size"),
    Column::new("avgL7PktSz", "F", Kind::Float, "Average layer 7 packet size"),
    Column::new("stdL7PktSz", "F", Kind::Float, "Standard deviation layer 7 packet size"),
    Column::new("minIAT", "F", Kind::Float, "Minimum IAT"),
    Column::new("maxIAT", "F", Kind::Float, "Maximum IAT"),
    Column::new("avgIAT", "F", Kind::Float, "Average IAT"),
    Column::new("stdIAT", "F", Kind::Float, "Standard deviation IAT"),
    Column::new("pktps", "F", Kind::Float, "Sent packets per second"),
    Column::new("bytps", "F", Kind::Float, "Sent bytes per second"),
    Column::new("pktAsm", "F", Kind::Float, "Packet stream asymmetry"),
    Column::new("bytAsm", "F", Kind::Float, "Byte stream asymmetry"),
];

/// Running statistics of one direction, updated in one pass without storing packets.
///
/// The spreads use Tranalyzer2's running estimator, `var += ((x − mean_before)² − var) / n` from
/// the second value on,
/// rather than the textbook sample variance: it is what its `std*` columns contain (it reproduces
/// the golden values exactly, where the sample standard deviation is off by 5–10% on short flows).
#[derive(Debug, Clone, Default)]
pub struct BasicStats {
    pub pkts: u64,
    pub l7_bytes: u64,
    pub pad_bytes: i64,
    pub min_l7: u32,
    pub max_l7: u32,
    l7: Running,
    iat: Running,
    min_iat: f64,
    max_iat: f64,
    last_ns: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Running {
    mean: f64,
    var: f64,
}

impl Running {
    /// Adds the `n`-th value (`n` counted from 1). The first value only sets the mean.
    #[inline]
    fn push(&mut self, x: f64, n: u64) {
        if n <= 1 {
            self.mean = x;
            self.var = 0.0;
            return;
        }
        let d = x - self.mean;
        let n = n as f64;
        self.mean += d / n;
        self.var += (d * d - self.var) / n;
    }

    fn std(&self) -> f64 {
        self.var.max(0.0).sqrt()
    }
}

impl BasicStats {
    #[inline]
    pub fn update(&mut self, ts_ns: u64, l7_len: u32, pad_len: u32) {
        // The first packet contributes an IAT of 0 (so the average comes out as duration/packets);
        // a timestamp that goes backwards gives a negative IAT, as in Tranalyzer2.
        let iat = if self.pkts == 0 { 0.0 } else { ts_ns.wrapping_sub(self.last_ns) as i64 as f64 * 1e-9 };
        if self.pkts == 0 {
            self.min_l7 = l7_len;
            self.max_l7 = l7_len;
            self.min_iat = iat;
            self.max_iat = iat;
        } else {
            self.min_l7 = self.min_l7.min(l7_len);
            self.max_l7 = self.max_l7.max(l7_len);
            self.min_iat = self.min_iat.min(iat);
            self.max_iat = self.max_iat.max(iat);
        }
        self.pkts += 1;
        self.l7_bytes += l7_len as u64;
        self.pad_bytes += pad_len as i64;
        self.l7.push(l7_len as f64, self.pkts);
        self.iat.push(iat, self.pkts);
        self.last_ns = ts_ns;
    }
}

pub fn write(rec: &FlowRecord, opp: Option<&FlowRecord>, w: &mut dyn ValueSink) {
    let s = &rec.stats;
    let (rp, rb) = opp.map(|o| (o.stats.pkts, o.stats.l7_bytes)).unwrap_or((0, 0));
    w.uint(s.pkts);
    w.uint(rp);
    w.int(s.pad_bytes);
    w.uint(s.l7_bytes);
    w.uint(rb);
    w.uint(s.min_l7 as u64);
    w.uint(s.max_l7 as u64);
    w.float(s.l7.mean);
    w.float(s.l7.std());
    w.float(s.min_iat);
    w.float(s.max_iat);
    w.float(s.iat.mean);
    w.float(s.iat.std());
    let dur = rec.duration_ns() as f64 * 1e-9;
    let (pps, bps) = if dur > 0.0 { (s.pkts as f64 / dur, s.l7_bytes as f64 / dur) } else { (0.0, 0.0) };
    w.float(pps);
    w.float(bps);
    let asym = |a: u64, b: u64| if a + b == 0 { 0.0 } else { (a as f64 - b as f64) / (a + b) as f64 };
    // A lone reply (inverted, no partner) has its packet asymmetry measured from the initiator's
    // side; Tranalyzer2 does not do the same for bytes, and neither do we, to stay comparable.
    let sign = if rec.inverted && opp.is_none() { -1.0 } else { 1.0 };
    w.float(sign * asym(s.pkts, rp));
    w.float(asym(s.l7_bytes, rb));
}
