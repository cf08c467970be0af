//! icmpDecode: ICMP message types and codes, echo success (reference §2.7).

use netanom_wire::PacketInfo;

use crate::record::FlowRecord;
use crate::schema::{write_hex, Column, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[
    Column::new("icmpStat", "H8", Kind::Hex(2), "ICMP status"),
    Column::new("icmpTCcnt", "U8", Kind::UInt, "ICMP type code count"),
    Column::new(
        "icmpBFTypH_TypL_Code",
        "H32_H32_H16",
        Kind::Text,
        "ICMP Aggregated type H (IPv6>128, IPv4>31), L (<32) & code bit field",
    ),
    Column::new("icmpTmGtw", "H32", Kind::Hex(8), "ICMP time/gateway"),
    Column::new("icmpEchoSuccRatio", "F", Kind::Float, "ICMP Echo reply/request success ratio"),
    Column::new("icmpPFindex", "U64", Kind::UInt, "ICMP parent flowIndex"),
];

/// icmpStat bit: the flow is ICMP.
pub const IS_ICMP: u8 = 0x01;

#[derive(Debug, Clone, Copy, Default)]
pub struct IcmpState {
    /// ICMP messages, counted in a byte as Tranalyzer2 does (it wraps at 256).
    count: u8,
    /// Types 32–63 (IPv4) or 128–159 (ICMPv6), one bit each.
    types_high: u32,
    /// Types 0–31.
    types_low: u32,
    /// Codes 0–15 of all messages.
    codes: u16,
    echo_requests: u32,
    echo_replies: u32,
}

impl IcmpState {
    #[inline]
    pub fn update(&mut self, p: &PacketInfo) {
        let v6 = match p.l4_proto {
            1 => false,
            58 => true,
            _ => return,
        };
        self.count = self.count.wrapping_add(1);
        if !p.l4_present {
            return;
        }
        let t = p.icmp_type as u32;
        match (v6, t) {
            (_, 0..=31) => self.types_low |= 1 << t,
            (false, 32..=63) => self.types_high |= 1 << (t - 32),
            (true, 128..=159) => self.types_high |= 1 << (t - 128),
            _ => {}
        }
        if p.icmp_code < 16 {
            self.codes |= 1 << p.icmp_code;
        }
        let (request, reply) = if v6 { (128, 129) } else { (8, 0) };
        if p.icmp_type == request {
            self.echo_requests += 1;
        } else if p.icmp_type == reply {
            self.echo_replies += 1;
        }
    }
}

pub fn write(rec: &FlowRecord, opp: Option<&FlowRecord>, w: &mut dyn ValueSink) {
    let s = &rec.icmp;
    let icmp = matches!(rec.key.l4_proto, 1 | 58);
    w.hex(if icmp { IS_ICMP as u64 } else { 0 }, 2);
    w.uint(s.count as u64);
    let (hi, lo, codes) = (s.types_high, s.types_low, s.codes);
    w.text(&|o| {
        write_hex(o, hi as u64, 8)?;
        o.write_char('_')?;
        write_hex(o, lo as u64, 8)?;
        o.write_char('_')?;
        write_hex(o, codes as u64, 4)
    });
    w.hex(0, 8);
    // Replies the other side sent per request this side sent.
    let replies = opp.map_or(0, |o| o.icmp.echo_replies);
    let ratio = if s.echo_requests > 0 { replies as f64 / s.echo_requests as f64 } else { 0.0 };
    w.float(ratio);
    w.uint(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_codes_become_bits() {
        let mut s = IcmpState::default();
        let mut p = PacketInfo { l4_proto: 1, l4_present: true, icmp_type: 3, icmp_code: 3, ..PacketInfo::default() };
        s.update(&p);
        p.icmp_type = 8;
        p.icmp_code = 0;
        s.update(&p);
        assert_eq!((s.count, s.types_high, s.types_low, s.codes), (2, 0, 0x108, 0x9));
        assert_eq!(s.echo_requests, 1);
        let mut p6 = PacketInfo { l4_proto: 58, l4_present: true, icmp_type: 143, ..PacketInfo::default() };
        s.update(&p6);
        p6.icmp_type = 129;
        s.update(&p6);
        assert_eq!(s.types_high, 0x8002);
        assert_eq!(s.echo_replies, 1);
    }
}
