//! IPv4 and IPv6 (with extension headers): the flow's addresses, fragments, sizes and padding.

use super::Dissector;
use crate::hdrdesc::Proto;
use crate::info::{flowstat as fs, L3};
use crate::tcpopt::{csum_add, csum_fold};
use crate::wire::ipv6::next_header as nh;
use crate::wire::{clip, Ipv4Packet, Ipv6ExtHeader, Ipv6FragHeader, Ipv6Packet};

/// At most this many IPv6 extension headers are walked.
const MAX_EXT_HEADERS: usize = 16;

impl Dissector<'_, '_> {
    /// An IP header of unknown version at `off` (raw link types, MPLS, GTP…).
    pub(super) fn ip_by_version(&mut self, off: usize) {
        match self.at(off).first().map(|b| b >> 4) {
            Some(6) => self.ipv6(off),
            _ => self.ipv4(off),
        }
    }

    /// Clears the transport-layer fields before a new (inner) IP header takes over the flow.
    fn reset_l4(&mut self) {
        let i = &mut *self.i;
        i.l4_proto = 0;
        i.l4_offset = 0;
        i.l4_hdr_len = 0;
        i.l4_present = false;
        i.src_port = 0;
        i.dst_port = 0;
        i.tcp_flags = 0;
        i.icmp_type = 0;
        i.icmp_code = 0;
        i.icmp_id = 0;
        i.icmp_seq = 0;
        i.udp_len = 0;
        i.l7_offset = 0;
        i.l7_len = 0;
        i.is_fragment = false;
        i.more_fragments = false;
        i.frag_offset = 0;
        i.ip_opt_offset = 0;
        i.ip_opt_len = 0;
        i.l3_csum_bad = false;
        i.l4_csum_bad = false;
        i.tcp_opts = Default::default();
    }

    /// A header that claims to be IP but whose version does not fit: a bogus layer-2 flow.
    fn ipvx(&mut self, off: usize) {
        self.push(Proto::Ipvx);
        self.stat(fs::IP_BOGUS);
        let t = self.i.eth_type;
        self.l2_payload(off);
        self.i.eth_type = t;
    }

    /// The datagram length to dissect with, from the `claimed` length of the IP header at `off`
    /// and the frame, as Tranalyzer2 sizes payloads:
    /// * a claimed length of 0 (TCP segmentation offload: the NIC fills it in later) means the
    ///   frame's length, flagged "IP payload length != framing length";
    /// * a datagram claiming more than the frame carried on the wire is cut to the frame (the
    ///   bytes never existed), while one cut by the capture's snap length keeps its claimed length
    ///   (the bytes existed, they were just not recorded) and is flagged as snapped;
    /// * the outermost datagram's excess frame bytes are Ethernet padding.
    fn ip_len(&mut self, off: usize, claimed: usize, hdr_len: usize) -> usize {
        let wire = self.wire_avail(off);
        let len = if claimed == 0 || claimed < hdr_len && claimed < wire {
            self.stat(fs::IP_LEN_MISMATCH);
            wire
        } else {
            claimed.min(wire)
        };
        if !self.outer_ip_done {
            self.outer_ip_done = true;
            // Padding is what fills a frame up to Ethernet's 60-byte minimum (64 with the FCS);
            // bytes after the datagram in a longer frame are a trailer, which Tranalyzer2 does
            // not count as padding either.
            if wire > len && self.i.wire_len <= 64 {
                self.i.pad_len = (wire - len) as u32;
            }
        }
        if self.avail(off) < len {
            self.stat(fs::SNAP_L3_LEN);
        }
        len
    }

    pub(super) fn ipv4(&mut self, off: usize) {
        if !self.step() {
            return;
        }
        let b = self.at(off);
        match b.first() {
            None => {
                self.stat(fs::SNAP_L3_HDR | fs::STOP_DISSECTING);
                return;
            }
            Some(v) if v >> 4 != 4 => return self.ipvx(off),
            _ => {}
        }
        let Ok(ip) = Ipv4Packet::new_checked(b) else {
            self.push(Proto::Ipv4);
            self.stat(fs::IPV4_PKT | fs::SNAP_L3_HDR | fs::STOP_DISSECTING);
            return;
        };
        let ihl = ip.header_len();
        if ihl < 20 {
            self.stat(fs::IPV4_HDR_SHORT);
            return self.ipvx(off);
        }
        self.push(Proto::Ipv4);
        self.stat(fs::IPV4_PKT);
        self.reset_l4();
        let total = self.ip_len(off, ip.total_len() as usize, ihl);
        {
            let i = &mut *self.i;
            i.l3 = L3::Ipv4;
            i.eth_type = 0x0800;
            i.src_ip = [0; 16];
            i.dst_ip = [0; 16];
            i.src_ip[..4].copy_from_slice(&ip.src_addr());
            i.dst_ip[..4].copy_from_slice(&ip.dst_addr());
            i.l3_offset = off as u32;
            i.l3_hdr_len = ihl as u32;
            i.ip_len = total as u32;
            i.ttl = ip.ttl();
            i.tos = ip.tos();
            i.ip_id = ip.ident() as u32;
            i.frag_offset = ip.frag_offset();
            i.more_fragments = ip.more_frags();
            i.dont_fragment = ip.dont_frag();
            i.reserved_bit = ip.reserved_flag();
            i.is_fragment = i.more_fragments || i.frag_offset > 0;
            if ihl > 20 {
                // Only the option bytes that were captured: a snapped header (flagged below)
                // must not point the options past the end of the frame.
                i.ip_opt_offset = (off + 20) as u32;
                i.ip_opt_len = clip(self.f, off + 20, off + ihl).len() as u32;
            }
        }
        if total < ihl || self.avail(off) < ihl {
            self.stat(fs::SNAP_L3_HDR | fs::STOP_DISSECTING);
            return;
        }
        if let Some(h) = self.f.get(off..off + ihl) {
            self.i.l3_csum_bad = csum_fold(csum_add(0, h)) != 0xffff;
        }
        let later = self.i.frag_offset > 0;
        if self.i.is_fragment {
            self.stat(fs::IPV4_FRAG);
        }
        if later {
            self.stat(fs::STOP_DISSECTING);
        }
        self.transport(ip.protocol(), off + ihl, total - ihl, later, false);
    }

    pub(super) fn ipv6(&mut self, off: usize) {
        if !self.step() {
            return;
        }
        let b = self.at(off);
        match b.first() {
            None => {
                self.stat(fs::SNAP_L3_HDR | fs::STOP_DISSECTING);
                return;
            }
            Some(v) if v >> 4 != 6 => return self.ipvx(off),
            _ => {}
        }
        let Ok(ip) = Ipv6Packet::new_checked(b) else {
            self.push(Proto::Ipv6);
            self.stat(fs::IPV6_PKT | fs::SNAP_L3_HDR | fs::STOP_DISSECTING);
            return;
        };
        self.push(Proto::Ipv6);
        self.stat(fs::IPV6_PKT);
        self.reset_l4();
        let total = match ip.payload_len() {
            // a jumbogram or an offloaded segment: the length is the frame's
            0 => self.ip_len(off, 0, 40),
            n => self.ip_len(off, 40 + n as usize, 40),
        };
        {
            let i = &mut *self.i;
            i.l3 = L3::Ipv6;
            i.eth_type = 0x86dd;
            i.src_ip = ip.src_addr();
            i.dst_ip = ip.dst_addr();
            i.l3_offset = off as u32;
            i.l3_hdr_len = 40;
            i.ip_len = total as u32;
            i.ttl = ip.hop_limit();
            i.tos = ip.traffic_class();
            i.ip_id = 0;
        }
        let mut next = ip.next_header();
        let mut pos = off + 40;
        let end = off + total;
        let mut later = false;
        for _ in 0..MAX_EXT_HEADERS {
            let name = match next {
                nh::HOPOPT => Proto::Ipv6HopOpts,
                nh::ROUTING => Proto::Ipv6Route,
                nh::DSTOPTS => Proto::Ipv6DstOpts,
                nh::FRAGMENT => Proto::Ipv6FragHdr,
                nh::AH => Proto::Ah,
                _ => break,
            };
            self.push(name);
            if !self.step() {
                return;
            }
            match next {
                nh::FRAGMENT => {
                    let Ok(fh) = Ipv6FragHeader::new_checked(self.at(pos)) else {
                        self.stat(fs::SNAP_L3_HDR | fs::STOP_DISSECTING);
                        return;
                    };
                    self.stat(fs::IPV4_FRAG);
                    let i = &mut *self.i;
                    i.ip_id = fh.ident();
                    i.frag_offset = fh.frag_offset();
                    i.more_fragments = fh.more_frags();
                    i.is_fragment = true;
                    next = fh.next_header();
                    pos += 8;
                    if fh.frag_offset() > 0 {
                        later = true;
                        break;
                    }
                }
                nh::AH => {
                    let Ok(eh) = Ipv6ExtHeader::new_checked(self.at(pos)) else {
                        self.stat(fs::SNAP_L3_HDR | fs::STOP_DISSECTING);
                        return;
                    };
                    self.stat(fs::IPSEC_AH);
                    next = eh.next_header();
                    pos += eh.ah_len();
                }
                _ => {
                    let Ok(eh) = Ipv6ExtHeader::new_checked(self.at(pos)) else {
                        self.stat(fs::SNAP_L3_HDR | fs::STOP_DISSECTING);
                        return;
                    };
                    next = eh.next_header();
                    pos += eh.header_len();
                }
            }
        }
        self.i.l3_hdr_len = (pos - off) as u32;
        let plen = end.saturating_sub(pos);
        if later {
            self.i.l4_proto = next;
            self.i.l7_len = plen as u32;
            self.stat(fs::STOP_DISSECTING);
            return;
        }
        self.transport(next, pos, plen, false, true);
    }
}

#[cfg(test)]
mod fuzz_regressions {
    use crate::info::{flowstat, PacketInfo};
    use crate::{dissect, linktype};

    /// Found by the `dissect` fuzz target: an IPv4 header whose IHL (60 bytes) runs past the
    /// captured bytes reported options past the end of the frame.
    #[test]
    fn snapped_ipv4_options_stay_in_the_frame() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&[0x4f, 0, 0, 0x72, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[1, 1, 1, 1]); // 4 of the 40 option bytes were captured
        let mut i = PacketInfo::default();
        dissect(linktype::ETHERNET, &f, 14 + 0x72, &mut i).unwrap();
        assert_ne!(i.flow_stat & flowstat::SNAP_L3_HDR, 0);
        assert_eq!((i.ip_opt_offset, i.ip_opt_len), (34, 4));
        f.truncate(34);
        dissect(linktype::ETHERNET, &f, 14 + 0x72, &mut i).unwrap();
        assert_eq!(i.ip_opt_len, 0);
    }
}
