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
        // The timestamp clock's rate (ticks per second), estimated from the first and last
        // timestamps, gives the sender's up time and boot time.
        let (eci, utm, btm) = match self.ts_first {
            Some((v0, t0)) if self.ts_last_ns > t0 && val != v0 => {
                let dt = (self.ts_last_ns - t0) as f64 * 1e-9;
                let ticks = val.wrapping_sub(v0) as f64;
                let eci = dt / ticks;
                let utm = val as f64 * eci;
                let btm = (self.ts_last_ns as f64 * 1e-9 - utm).max(0.0);
                (eci, utm, (btm * 1e9) as u64)
            }
            _ => (0.0, 0.0, 0),
        };
        w.float(eci);
        w.double(utm);
        w.timestamp(btm);
    }
}
