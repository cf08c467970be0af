//! TCP options: packets with options, option count, kinds seen, MSS, window scale, MPTCP, and the
//! timestamp option's clock (counter increment, up time, boot time).

use netanom_wire::PacketInfo;

use super::flags::fstat;
use crate::schema::ValueSink;

#[derive(Debug, Clone, Default)]
pub struct Options {
    pkts: u16,
    count: u16,
    kinds: u32,
    mss: u16,
    /// Window-scale shift from this direction's options, once seen.
    pub ws: Option<u8>,
    /// Both directions sent the window-scale option: windows are scaled from then on.
    pub ws_agreed: bool,
    /// This direction sent a SYN-ACK with the window-scale option.
    pub syn_ack_ws: bool,
    /// What tcpWS shows depends on the whole capture: set when the flow ends (see `ws`).
    pub ws_shown: bool,
    mp_types: u16,
    mp_flags: u8,
    mp_addr_id: u8,
    mp_dss: u8,
    corrupt: bool,
    ts_first: Option<(u32, u64)>,
    ts_last: (u32, u32),
    ts_last_ns: u64,
    /// TTL (hop limit) of the last timestamped packet: the clock guess without a measured rate.
    ts_ttl: u8,
    ts_decreasing: bool,
}

impl Options {
    #[inline]
    pub fn update(&mut self, p: &PacketInfo, ts_ns: u64) {
        let o = &p.tcp_opts;
        if p.l4_hdr_len > 20 {
            self.pkts = self.pkts.saturating_add(1);
        }
        if o.count == 0 && !o.corrupt {
            return;
        }
        self.count = self.count.saturating_add(o.count as u16);
        self.kinds |= o.kinds;
        if o.mss != 0 {
            self.mss = o.mss;
        }
        if let Some(ws) = o.ws {
            self.ws = Some(ws);
            self.syn_ack_ws |= p.tcp_flags & 0x12 == 0x12;
        }
        self.corrupt |= o.corrupt;
        self.mp_types |= o.mp_subtypes;
        self.mp_flags |= o.mp_flags;
        self.mp_dss |= o.mp_dss_flags;
        if o.mp_addr_id != 0 {
            self.mp_addr_id = o.mp_addr_id;
        }
        if let Some((val, ecr)) = o.ts {
            if self.ts_first.is_none() {
                self.ts_first = Some((val, ts_ns));
            } else if val < self.ts_last.0 {
                self.ts_decreasing = true;
            }
            self.ts_last = (val, ecr);
            self.ts_last_ns = ts_ns;
            self.ts_ttl = p.ttl;
        }
    }

    pub fn fstat_bits(&self) -> u16 {
        let mut v = 0;
        if self.ts_first.is_some() {
            v |= fstat::OPT_INIT;
        }
        if self.ws_agreed {
            v |= fstat::WS_USED;
        }
        if self.corrupt {
            v |= fstat::OPT_CORRUPT;
        }
        if self.ts_decreasing {
            v |= fstat::TS_DECREASING;
        }
        if self.kinds & (1 << 5) != 0 {
            v |= fstat::SACK;
        }
        if self.mp_types != 0 {
            v |= fstat::MPTCP;
        }
        v
    }

    pub fn write(&self, w: &mut dyn ValueSink) {
        w.uint(self.pkts as u64);
        w.uint(self.count as u64);
        w.hex(self.kinds as u64, 8);
        w.uint(self.mss as u64);
        w.uint(if self.ws_shown { 1u64 << self.ws.unwrap_or(0).min(14) } else { 0 });
        w.hex(self.mp_types as u64, 4);
        w.hex(self.mp_flags as u64, 2);
        w.uint(self.mp_addr_id as u64);
        w.hex(self.mp_dss as u64, 2);
        let (val, ecr) = self.ts_last;
        w.uint(val as u64);
        w.uint(ecr as u64);
        // Tranalyzer2 rounds the clock period to a common tick (1, 4, 10 or 100 ms) and uses it
        // as an f32: the up time is the last timestamp times that period.
        let Some(eci) = self.period() else {
            w.float(0.0);
            w.double(0.0);
            w.timestamp(0);
            return;
        };
        let utm = val as f64 * (eci as f32 as f64);
        w.float(eci);
        w.double(utm);
        match boot_time(self.ts_last_ns, utm) {
            Ok(ns) => w.timestamp(ns),
            Err((secs, frac)) => w.text(&|f| write!(f, "{secs}.{frac:09}")),
        }
    }

    /// The timestamp clock's period (tcpEcI), once a timestamp was seen.
    pub fn period(&self) -> Option<f64> {
        let (v0, t0) = self.ts_first?;
        Some(clock_period(elapsed(t0, self.ts_last_ns), self.ts_last.0.wrapping_sub(v0) as i32, self.ts_ttl))
    }
}

/// The timestamp clock's period in seconds from `secs` elapsed over `ticks`, rounded to the
/// nearest common tick (the golden rows put the boundaries at 2, 5 and 20 ms). Without a tick
/// elapsed (a single timestamp, or a clock that did not move) Tranalyzer2 guesses from the TTL
/// (hop limit) of the last timestamped packet, like an OS fingerprint: 128 and above (Windows,
/// network gear) 100 ms, 64 to 127 (Linux) 4 ms, 32 to 63 10 ms, below 1 ms (1,695 golden rows,
/// all matched; the 32 boundary lies between the TTLs 27 and 39 seen).
fn clock_period(secs: f64, ticks: i32, ttl: u8) -> f64 {
    if ticks == 0 {
        return match ttl {
            128.. => 0.1,
            64.. => 0.004,
            32.. => 0.01,
            _ => 0.001,
        };
    }
    let raw = secs / ticks as f64;
    if raw < 0.002 {
        0.001
    } else if raw < 0.005 {
        0.004
    } else if raw < 0.02 {
        0.01
    } else {
        0.1
    }
}

/// Seconds from `t0` to `t1` as Tranalyzer2 measures them for the clock period: whole seconds and
/// nanoseconds apart, with a microsecond-era borrow that adds only 10^6 ns (as in the boot time).
/// So a direction whose last timestamp falls earlier in its second than the first one looks up to
/// a second shorter, or negative (and its period 1 ms): 122 golden rows.
fn elapsed(t0: u64, t1: u64) -> f64 {
    let mut secs = (t1 / 1_000_000_000) as i64 - (t0 / 1_000_000_000) as i64;
    let mut frac = (t1 % 1_000_000_000) as i64 - (t0 % 1_000_000_000) as i64;
    if frac < 0 {
        secs -= 1;
        frac += 1_000_000;
    }
    secs as f64 + frac as f64 * 1e-9
}

/// The boot time, last timestamp's packet time minus the up time, as Tranalyzer2 computes it:
/// whole seconds and truncated nanoseconds apart, and a borrow that adds only 10^6 ns (a
/// microsecond-era `timersub`). `Ok` when that is a plain time; otherwise `Err` with the
/// seconds and nanosecond field as Tranalyzer2 prints them (wrapped to 64 and 32 bits).
fn boot_time(last_ns: u64, utm: f64) -> Result<u64, (u64, u32)> {
    let utm_s = utm.trunc();
    let utm_ns = ((utm - utm_s) * 1e9) as i64;
    let mut secs = (last_ns / 1_000_000_000) as i64 - utm_s as i64;
    let mut frac = (last_ns % 1_000_000_000) as i64 - utm_ns;
    if frac < 0 {
        secs -= 1;
        frac += 1_000_000;
    }
    if secs >= 0 && frac >= 0 {
        Ok(secs as u64 * 1_000_000_000 + frac as u64)
    } else {
        Err((secs as u64, frac as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_rounds_to_common_ticks() {
        assert_eq!(clock_period(0.452, 450, 64), 0.001);
        assert_eq!(clock_period(0.113739, 46, 64), 0.004);
        assert_eq!(clock_period(386.630552, 77324, 64), 0.01);
        // instagram.pcap B and gre-sample.pcap B: 29 and 21 ms are 100 ms ticks.
        assert_eq!(clock_period(0.029175, 1, 64), 0.1);
        assert_eq!(clock_period(3.111927, 149, 64), 0.1);
        assert_eq!(clock_period(0.01709, 1, 64), 0.01);
        assert_eq!(clock_period(0.098309, 1, 64), 0.1);
        assert_eq!(clock_period(-0.99045, 1, 64), 0.001, "a borrow made it negative");
    }

    #[test]
    fn period_without_ticks_guessed_from_ttl() {
        assert_eq!(clock_period(0.0, 0, 255), 0.1);
        assert_eq!(clock_period(0.0, 0, 128), 0.1);
        assert_eq!(clock_period(0.0, 0, 127), 0.004);
        assert_eq!(clock_period(0.0, 0, 64), 0.004);
        assert_eq!(clock_period(0.5, 0, 63), 0.01, "the clock did not move");
        assert_eq!(clock_period(0.0, 0, 32), 0.01);
        assert_eq!(clock_period(0.0, 0, 27), 0.001);
    }

    #[test]
    fn elapsed_borrows_a_millisecond() {
        assert_eq!(elapsed(5_250_000_000, 7_500_000_000), 2.25);
        // alexa-app.pcapng A: 0.753 s across a second boundary is measured as -0.246 s.
        let e = elapsed(1_490_976_035_553_389_000, 1_490_976_036_306_696_000);
        assert!((e - -0.245693).abs() < 1e-9, "{e}");
        // android.pcap A: 1.61 s counts as 0.615 s.
        let e = elapsed(1_582_454_868_511_574_000, 1_582_454_870_126_153_000);
        assert!((e - 0.615579).abs() < 1e-9, "{e}");
    }

    #[test]
    fn single_timestamp_period_follows_ttl() {
        let mut o = Options::default();
        let mut p = PacketInfo::default();
        p.tcp_opts.count = 1;
        p.tcp_opts.ts = Some((3_269_300_975, 2_843_426_718));
        p.ttl = 52;
        o.update(&p, 1_000_000_000);
        assert_eq!(o.period(), Some(0.01));
        p.ttl = 64;
        p.tcp_opts.ts = Some((3_269_300_975, 2_843_426_718));
        o.update(&p, 1_300_000_000);
        assert_eq!(o.period(), Some(0.004), "the same value again: the last packet's TTL");
        p.tcp_opts.ts = Some((3_269_301_075, 2_843_426_718));
        o.update(&p, 2_300_000_000);
        assert_eq!(o.period(), Some(0.01), "100 ticks in 1.3 s");
    }

    #[test]
    fn boot_time_borrow_like_tranalyzer2() {
        // cachefly.pcapng B: no borrow, exact nanoseconds.
        let utm = 4_166_559_928_f64 * (0.001f32 as f64);
        assert_eq!(boot_time(1_639_053_997_267_567_000, utm), Ok(1_634_887_437_141_666_023));
        // bittorrent.pcap A: the borrow adds only 10^6 ns and the field wraps.
        let utm = 433_844_999_f64 * (0.001f32 as f64);
        assert_eq!(boot_time(1_455_469_968_002_632_000, utm), Err((1_455_036_122, 4_278_992_765)));
    }
}
