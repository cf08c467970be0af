//! Tunnels and what else rides on UDP: GRE (with PPTP and ERSPAN), VXLAN, GENEVE, GTP, Teredo,
//! AYIYA, CAPWAP, UDP-encapsulated IPsec, SSDP and DTLS records.

use super::Dissector;
use crate::hdrdesc::Proto;
use crate::info::flowstat as fs;
use crate::wire::capwap::{self, CapwapHeader};
use crate::wire::dtls::{version as dv, DtlsRecord};
use crate::wire::erspan::ErspanHeader;
use crate::wire::ethernet::ethertype as et;
use crate::wire::geneve::{self, GeneveHeader};
use crate::wire::gtp::{self, GtpHeader};
use crate::wire::{ayiya, clip, teredo, vxlan, GrePacket, VxlanHeader};

/// At most this many DTLS records are listed per datagram.
const MAX_DTLS_RECORDS: usize = 16;

impl Dissector<'_, '_> {
    pub(super) fn gre(&mut self, off: usize, plen: usize) {
        self.push(Proto::Gre);
        self.stat(fs::GRE);
        let Ok(g) = GrePacket::new_checked(self.at(off)) else {
            self.stat(fs::SNAP_L4_HDR);
            return;
        };
        let hl = g.header_len();
        let next = off + hl;
        self.i.l4_hdr_len = hl as u32;
        self.i.l7_offset = next as u32;
        self.i.l7_len = plen.saturating_sub(hl) as u32;
        match g.protocol() {
            et::IPV4 => self.ipv4(next),
            et::IPV6 => self.ipv6(next),
            et::TRANS_ETH_BRIDGING => self.ethernet(next),
            et::PPP => {
                self.stat(fs::PPP_AFTER_TUNNEL);
                self.ppp(next, true)
            }
            et::ERSPAN2 => {
                self.push(Proto::Erspan);
                self.stat(fs::ERSPAN);
                if ErspanHeader::new_checked(self.at(next)).is_err() {
                    self.stat(fs::SNAP_L4_HDR);
                    return;
                }
                self.ethernet(next + ErspanHeader::<&[u8]>::HEADER_LEN)
            }
            et::MPLS_UCAST | et::MPLS_MCAST => self.ethertype(g.protocol(), next),
            t => {
                self.push_arg(Proto::UnkEthType, t);
                self.stat(fs::STOP_DISSECTING);
            }
        }
    }

    /// The payload of a UDP datagram (`len` bytes at `off` by the IP header's count).
    pub(super) fn udp_payload(&mut self, sp: u16, dp: u16, off: usize, len: usize) {
        let port = |p: u16| sp == p || dp == p;
        if port(vxlan::PORT) {
            if VxlanHeader::new_checked(self.at(off)).is_ok() {
                self.push(Proto::Vxlan);
                self.stat(fs::VXLAN);
                return self.ethernet(off + VxlanHeader::<&[u8]>::HEADER_LEN);
            }
        } else if port(teredo::PORT) {
            if let Some(n) = teredo::ipv6_offset(clip(self.f, off, off + len)) {
                self.push(Proto::Teredo);
                self.stat(fs::TEREDO);
                return self.ipv6(off + n);
            }
        } else if port(gtp::PORT_U) || port(gtp::PORT_C) || port(gtp::PORT_PRIME) {
            return self.gtp(off, len);
        } else if port(geneve::PORT) {
            if let Ok(g) = GeneveHeader::new_checked(self.at(off)) {
                self.push(Proto::Geneve);
                self.stat(fs::GENEVE);
                let next = off + g.header_len();
                return match g.protocol() {
                    et::TRANS_ETH_BRIDGING => self.ethernet(next),
                    et::IPV4 => self.ipv4(next),
                    et::IPV6 => self.ipv6(next),
                    _ => self.stat(fs::STOP_DISSECTING),
                };
            }
        } else if port(ayiya::PORT) {
            if let Ok(a) = ayiya::AyiyaHeader::new_checked(self.at(off)) {
                self.push(Proto::Ayiya);
                self.stat(fs::AYIYA);
                let next = off + a.header_len();
                return match a.next_header() {
                    41 => self.ipv6(next),
                    4 => self.ipv4(next),
                    _ => self.stat(fs::STOP_DISSECTING),
                };
            }
        } else if port(capwap::PORT_CONTROL) || port(capwap::PORT_DATA) {
            return self.capwap(port(capwap::PORT_DATA), off, len);
        } else if port(4500) {
            self.push(Proto::UdpEncap);
            let b = clip(self.f, off, off + len);
            if b.len() >= 4 && b[..4] == [0, 0, 0, 0] {
                self.push(Proto::Isakmp);
            } else if b.len() > 1 {
                self.push(Proto::Esp);
                self.stat(fs::IPSEC_ESP);
            }
            return;
        } else if port(1900) {
            self.push(Proto::Ssdp);
            self.stat(fs::SSDP);
            return;
        }
        self.dtls(off, len);
    }

    /// DTLS records, listed one `dtls1.x` per record, when the payload looks like DTLS.
    fn dtls(&mut self, off: usize, len: usize) {
        let mut pos = off;
        let end = off + len;
        for _ in 0..MAX_DTLS_RECORDS {
            let b = clip(self.f, pos, end);
            let Ok(r) = DtlsRecord::new_checked(b) else { break };
            if !r.is_plausible() {
                break;
            }
            let name = match r.version() {
                dv::DTLS1_0 => Proto::Dtls10,
                dv::DTLS1_2 => Proto::Dtls12,
                _ => Proto::Dtls13,
            };
            self.push(name);
            self.stat(fs::DTLS);
            pos += DtlsRecord::<&[u8]>::HEADER_LEN + r.length() as usize;
            if pos >= end {
                break;
            }
        }
    }

    fn gtp(&mut self, off: usize, len: usize) {
        let Ok(g) = GtpHeader::new_checked(self.at(off)) else {
            return self.dtls(off, len);
        };
        self.push(Proto::Gtp);
        self.stat(fs::GTP);
        if g.version() != 1 || g.msg_type() != gtp::MSG_GPDU {
            return;
        }
        let Some(hl) = g.v1_header_len() else {
            self.stat(fs::STOP_DISSECTING);
            return;
        };
        let next = off + hl;
        match self.at(next).first().map(|b| b >> 4) {
            Some(4) => self.ipv4(next),
            Some(6) => self.ipv6(next),
            _ => self.dtls(next, len.saturating_sub(hl)),
        }
    }

    fn capwap(&mut self, data: bool, off: usize, len: usize) {
        let Ok(c) = CapwapHeader::new_checked(self.at(off)) else {
            return self.dtls(off, len);
        };
        self.stat(fs::CAPWAP);
        if c.preamble_type() == 1 {
            self.push(Proto::Capwap);
            self.push(Proto::Dtls);
            self.stat(fs::DTLS);
            return;
        }
        self.push(if data { Proto::CapwapData } else { Proto::Capwap });
        if !data {
            return;
        }
        let next = off + c.header_len();
        if c.native_frame() && c.wbid() == 1 {
            self.wlan(next, true)
        } else {
            self.ethernet(next)
        }
    }
}
