//! The IP header columns: IP ID deltas, TTL range and changes, ToS, ipFlags and IP options.

use netanom_wire::{PacketInfo, L3};

use crate::schema::{write_hex, ValueSink};

/// ipFlags bits (reference §2.4).
pub mod ip_flags {
    pub const OPT_CORRUPT: u16 = 0x0001;
    pub const OUT_OF_ORDER: u16 = 0x0002;
    pub const ID_ROLLOVER: u16 = 0x0004;
    pub const MF: u16 = 0x0020;
    pub const DF: u16 = 0x0040;
    pub const RESERVED: u16 = 0x0080;
    pub const L3_CSUM: u16 = 0x0400;
    pub const L4_CSUM: u16 = 0x0800;
    pub const SNAPPED: u16 = 0x1000;
    pub const UDP_LEN: u16 = 0x2000;
    pub const DIST_ZERO: u16 = 0x4000;
    pub const DIST_NEG: u16 = 0x8000;
}
use ip_flags as f;

#[derive(Debug, Clone)]
pub struct IpFields {
    /// Time of this direction's previous packet, for the inter-distance bits.
    prev_ns: u64,
    pub(super) last_id: u16,
    min_did: u16,
    max_did: u16,
    min_ttl: u8,
    max_ttl: u8,
    last_ttl: u8,
    ttl_chg: u8,
    tos: u8,
    pub flags: u16,
    opt_cnt: u16,
    opt_cpcl: u8,
    opt_num: u32,
}

impl Default for IpFields {
    fn default() -> Self {
        IpFields {
            prev_ns: 0,
            last_id: 0,
            min_did: u16::MAX,
            max_did: 0,
            min_ttl: 0,
            max_ttl: 0,
            last_ttl: 0,
            ttl_chg: 0,
            tos: 0,
            flags: 0,
            opt_cnt: 0,
            opt_cpcl: 0,
            opt_num: 0,
        }
    }
}

impl IpFields {
    #[inline]
    pub fn update(&mut self, ts_ns: u64, p: &PacketInfo, n: u64) {
        if n > 1 {
            // "Packet inter-distance" is the time since this direction's previous packet.
            if ts_ns == self.prev_ns {
                self.flags |= f::DIST_ZERO;
            } else if ts_ns < self.prev_ns {
                self.flags |= f::DIST_NEG;
            }
        }
        self.prev_ns = ts_ns;
        if n <= 1 {
            self.min_ttl = p.ttl;
            self.max_ttl = p.ttl;
        } else {
            self.min_ttl = self.min_ttl.min(p.ttl);
            self.max_ttl = self.max_ttl.max(p.ttl);
            if p.ttl != self.last_ttl {
                self.ttl_chg = self.ttl_chg.saturating_add(1);
            }
        }
        self.last_ttl = p.ttl;
        self.tos |= p.tos;
        if p.l3 == L3::Ipv4 {
            let id = p.ip_id as u16;
            if n > 1 {
                // Tranalyzer2 takes the delta as a signed difference, compares it signed with the
                // running extremes but keeps them as U16: a negative delta lands as its two's
                // complement (43342 for −22194) and may then "beat" smaller positive ones. Kept,
                // since that is what its columns contain.
                let d = id as i32 - self.last_id as i32;
                if d < self.min_did as i32 {
                    self.min_did = d as u16;
                }
                if d > self.max_did as i32 {
                    self.max_did = d as u16;
                }
                if d < 0 {
                    self.flags |= f::ID_ROLLOVER;
                }
            }
            self.last_id = id;
            if p.dont_fragment {
                self.flags |= f::DF;
            }
            if p.reserved_bit {
                self.flags |= f::RESERVED;
            }
            if p.l3_csum_bad {
                self.flags |= f::L3_CSUM;
            }
            if p.ip_opt_len > 0 {
                self.opt_cnt = self.opt_cnt.saturating_add(1);
            }
            // IPv6 fragment headers do not set it in Tranalyzer2's output.
            if p.more_fragments {
                self.flags |= f::MF;
            }
        }
        if p.l4_csum_bad {
            self.flags |= f::L4_CSUM;
        }
        if p.l4_proto == 17 && p.l4_present {
            let ip_payload = p.ip_len.saturating_sub(p.l3_hdr_len);
            if p.udp_len as u32 != ip_payload {
                self.flags |= f::UDP_LEN;
            }
        }
    }

    pub fn write(&self, w: &mut dyn ValueSink) {
        w.uint(self.min_did as u64);
        w.uint(self.max_did as u64);
        w.uint(self.min_ttl as u64);
        w.uint(self.max_ttl as u64);
        w.uint(self.ttl_chg as u64);
        w.hex(self.tos as u64, 2);
        w.hex(self.flags as u64, 4);
        w.uint(self.opt_cnt as u64);
        let (cpcl, num) = (self.opt_cpcl, self.opt_num);
        w.text(&|o| {
            write_hex(o, cpcl as u64, 2)?;
            o.write_char('_')?;
            write_hex(o, num as u64, 8)
        });
        w.text(&|o| o.write_str("0_0"));
        w.text(&|o| o.write_str("0x00000000_0x00000000"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_id_deltas_kept_as_u16() {
        // B side of 1kxun.pcap's port-53623 conversation: golden min 43342, max 22189.
        let mut ip = IpFields::default();
        let mut p = PacketInfo { l3: L3::Ipv4, ..PacketInfo::default() };
        for (n, id) in [0u16, 0x56ad, 0x56ae, 0x56af, 0x56b0, 0x56b1, 0x56b2, 0].iter().enumerate() {
            p.ip_id = *id as u32;
            ip.update(n as u64, &p, n as u64 + 1);
        }
        assert_eq!((ip.min_did, ip.max_did), (43342, 22189));
        assert_ne!(ip.flags & f::ID_ROLLOVER, 0);
    }
}
