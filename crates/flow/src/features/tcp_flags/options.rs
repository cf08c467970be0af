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
        let Some((v0, t0)) = self.ts_first else {
            w.float(0.0);
            w.double(0.0);
            w.timestamp(0);
            return;
        };
        // Tranalyzer2 rounds the clock period to a common tick (1, 4, 10 or 100 ms) and uses it
        // as an f32: the up time is the last timestamp times that period.
        let eci = clock_period((self.ts_last_ns.saturating_sub(t0)) as f64 * 1e-9, val.wrapping_sub(v0) as i32);
        let utm = val as f64 * (eci as f32 as f64);
        w.float(eci);
        w.double(utm);
        match boot_time(self.ts_last_ns, utm) {
            Ok(ns) => w.timestamp(ns),
            Err((secs, frac)) => w.text(&|f| write!(f, "{secs}.{frac:09}")),
        }
    }
}

/// The timestamp clock's period in seconds from `secs` elapsed over `ticks`, rounded to the
/// nearest common tick. Without a measurable rate (a single timestamp, or none elapsed)
/// Tranalyzer2's guess varies; 4 ms is its most frequent one.
fn clock_period(secs: f64, ticks: i32) -> f64 {
    if ticks == 0 || secs <= 0.0 {
        return 0.004;
    }
    let raw = secs / ticks as f64;
    if raw < 0.002 {
        0.001
    } else if raw < 0.005 {
        0.004
    } else if raw < 0.05 {
        0.01
    } else {
        0.1
    }
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
        assert_eq!(clock_period(0.452, 450), 0.001);
        assert_eq!(clock_period(0.113739, 46), 0.004);
        assert_eq!(clock_period(386.630552, 77324), 0.01);
        assert_eq!(clock_period(0.098309, 1), 0.1);
        assert_eq!(clock_period(0.0, 0), 0.004, "a single timestamp");
    }

    #[test]
    fn boot_time_borrow_like_tranalyzer2() {
        // cachefly.pcapng B: no borrow, exact nanoseconds.
        let utm = 4166559928u32 as f64 * (0.001f32 as f64);
        assert_eq!(boot_time(1_639_053_997_267_567_000, utm), Ok(1_634_887_437_141_666_023));
        // bittorrent.pcap A: the borrow adds only 10^6 ns and the field wraps.
        let utm = 433844999u32 as f64 * (0.001f32 as f64);
        assert_eq!(boot_time(1_455_469_968_002_632_000, utm), Err((1_455_036_122, 4_278_992_765)));
    }
}
