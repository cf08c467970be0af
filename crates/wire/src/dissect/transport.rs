//! Transport layer: TCP, UDP, UDP-Lite, ICMP/ICMPv6, SCTP, the IP protocols Tranalyzer2 names
//! without decoding, and the protocols carried directly over IP (GRE, IP-in-IP, IPsec).

use super::Dissector;
use crate::hdrdesc::Proto;
use crate::info::{flowstat as fs, L3};
use crate::tcpopt::{csum_add, csum_fold, TcpOpts};
use crate::wire::ipsec::AhHeader;
use crate::wire::{clip, IcmpPacket, SctpPacket, TcpPacket, UdpPacket};

pub mod ipproto {
    pub const HOPOPT: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const IGMP: u8 = 2;
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const DDP: u8 = 37;
    pub const IPV6: u8 = 41;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const NO_NEXT: u8 = 59;
    pub const DSTOPTS: u8 = 60;
    pub const EIGRP: u8 = 88;
    pub const OSPF: u8 = 89;
    pub const PIM: u8 = 103;
    pub const VRRP: u8 = 112;
    pub const PGM: u8 = 113;
    pub const L2TP: u8 = 115;
    pub const SCTP: u8 = 132;
    pub const MOBILITY: u8 = 135;
    pub const UDPLITE: u8 = 136;
}

use ipproto as p;

impl Dissector<'_, '_> {
    /// The IP payload at `off`: protocol `proto`, `plen` bytes according to the IP header.
    /// `later` marks a non-first fragment (no transport header); `in_v6` an IPv6 parent.
    pub(super) fn transport(&mut self, proto: u8, off: usize, plen: usize, later: bool, in_v6: bool) {
        if !self.step() {
            return;
        }
        self.i.l4_proto = proto;
        self.i.l4_offset = off as u32;
        if later {
            // a later fragment: the transport header is in the first one
            if let Some(name) = simple_name(proto) {
                self.push(name);
            } else if !in_v6 {
                self.push_arg(Proto::UnkIpProto, proto as u16);
            }
            self.i.l4_offset = 0;
            self.i.l7_offset = off as u32;
            self.i.l7_len = plen as u32;
            return;
        }
        match proto {
            p::TCP => self.tcp(off, plen),
            p::UDP => self.udp(off, plen, false),
            p::UDPLITE => self.udp(off, plen, true),
            p::ICMP | p::ICMPV6 => self.icmp(proto, off, plen),
            p::SCTP => self.sctp(off, plen),
            p::GRE => self.gre(off, plen),
            p::IPIP => {
                if !in_v6 {
                    self.stat(fs::IP_IN_IP);
                }
                self.ipv4(off)
            }
            p::IPV6 => {
                self.stat(fs::IP_IN_IP);
                self.ipv6(off)
            }
            p::ESP => {
                self.push(Proto::Esp);
                // Tranalyzer2 0.9.3 flags ESP only over IPv4
                if !in_v6 {
                    self.stat(fs::IPSEC_ESP);
                }
                // over IPv4 the SPI and sequence number are not payload (esp.pcapng), over
                // IPv6 they are (ip6_esp.pcap), as for the other protocols it does not decode
                self.opaque_header(off, plen, if in_v6 { 0 } else { 8 });
            }
            p::AH => {
                self.push(Proto::Ah);
                self.stat(fs::IPSEC_AH);
                let Ok(ah) = AhHeader::new_checked(self.at(off)) else {
                    self.stat(fs::SNAP_L4_HDR);
                    return;
                };
                let n = ah.header_len();
                // Tranalyzer2 sizes the inner payload without taking the AH header off.
                self.transport(ah.next_header(), off + n, plen, false, in_v6);
                // Tranalyzer2 keeps AH (51) as the flow's layer-4 protocol, without ports
                self.i.l4_proto = p::AH;
                self.i.src_port = 0;
                self.i.dst_port = 0;
            }
            p::NO_NEXT if in_v6 => {}
            _ => {
                if let Some(name) = simple_name(proto) {
                    self.push(name);
                    if proto == p::L2TP {
                        self.stat(fs::L2TP);
                    }
                    // Tranalyzer2 takes a header off these over IPv4 only (OSPF's 24 bytes,
                    // else 8); over IPv6 all of it is payload (vrrp3.pcapng, mip6_*.pcap).
                    let hdr = match proto {
                        _ if in_v6 => 0,
                        p::OSPF => 24,
                        _ => 8,
                    };
                    self.opaque_header(off, plen, hdr);
                } else {
                    if !in_v6 {
                        self.push_arg(Proto::UnkIpProto, proto as u16);
                    }
                    self.stat(fs::STOP_DISSECTING);
                    // Tranalyzer2 still takes 8 bytes off as a header over IPv4 (never below 0:
                    // unknown-ip-short-payload.pcap, fuzz-2006-06-26-2594.pcap); the rest is
                    // payload (l7BytesSnt).
                    self.opaque_header(off, plen, if in_v6 { 0 } else { 8 });
                    if plen == 0 {
                        self.stat(fs::SNAP_L4_HDR);
                    }
                }
            }
        }
    }

    /// A transport Tranalyzer2 names but does not decode, with a fixed `hdr` byte header.
    fn opaque_header(&mut self, off: usize, plen: usize, hdr: usize) {
        self.i.l7_offset = (off + hdr) as u32;
        self.i.l7_len = plen.saturating_sub(hdr) as u32;
    }

    /// Everything after the IP header counts as payload (ESP).
    fn opaque_payload(&mut self, off: usize, plen: usize) {
        self.i.l7_offset = off as u32;
        self.i.l7_len = plen as u32;
    }

    fn tcp(&mut self, off: usize, plen: usize) {
        self.push(Proto::Tcp);
        if plen < 20 {
            // The IP header says the segment is shorter than a TCP header. When the segment
            // still holds the data-offset byte, that header length contradicts the IP length and
            // the bytes are not trusted (no ports); when it is cut before that byte, the ports
            // are all there is to read. Both as Tranalyzer2 does.
            // Tranalyzer2 counts the bytes of a segment cut before that byte as payload, and
            // nothing of one it does not trust (fuzz-2006-09-29-28586.pcap: 15 bytes, none).
            if plen > 12 {
                self.stat(fs::SNAP_L4_HDR | fs::STOP_DISSECTING);
            } else {
                if plen >= 4 {
                    self.partial_ports(off);
                }
                self.opaque_payload(off, plen);
            }
            return;
        }
        let Ok(t) = TcpPacket::new_checked(self.at(off)) else {
            self.stat(fs::SNAP_L4_HDR);
            self.partial_ports(off);
            return;
        };
        let hl = t.header_len();
        let i = &mut *self.i;
        i.src_port = t.src_port();
        i.dst_port = t.dst_port();
        i.tcp_flags = t.flags();
        i.tcp_seq = t.seq_number();
        i.tcp_ack = t.ack_number();
        i.tcp_win = t.window_len();
        i.tcp_urp = t.urgent_at();
        i.l4_hdr_len = hl as u32;
        i.l4_present = self.f.len() >= off + hl.max(20);
        if hl > 20 {
            i.tcp_opt_offset = (off + 20) as u32;
            i.tcp_opt_len = clip(self.f, off + 20, off + hl).len() as u32;
            i.tcp_opts = TcpOpts::parse(clip(self.f, off + 20, off + hl));
        }
        self.i.l4_csum_bad = self.l4_checksum_bad(p::TCP, off, plen);
        let i = &mut *self.i;
        i.l7_offset = (off + hl) as u32;
        i.l7_len = plen.saturating_sub(hl) as u32;
        if i.src_port == 1900 || i.dst_port == 1900 {
            self.push(Proto::Ssdp);
            self.stat(fs::SSDP);
        }
    }

    /// Whether the checksum of the `plen`-byte segment at `off` is wrong. Only a segment captured
    /// whole can be checked; a snapped or fragmented one counts as correct.
    fn l4_checksum_bad(&self, proto: u8, off: usize, plen: usize) -> bool {
        let i = &*self.i;
        if i.is_fragment {
            return false;
        }
        let Some(seg) = self.f.get(off..off + plen) else { return false };
        let sum = match i.l3 {
            L3::Ipv4 => csum_add(0, &i.src_ip[..4]) + csum_add(0, &i.dst_ip[..4]),
            L3::Ipv6 => csum_add(0, &i.src_ip) + csum_add(0, &i.dst_ip),
            L3::None => return false,
        };
        let sum = sum + proto as u64 + plen as u64;
        csum_fold(csum_add(sum, seg)) != 0xffff
    }

    /// Ports from a transport header cut short by the snap length, if at least they are there.
    fn partial_ports(&mut self, off: usize) {
        let b = self.at(off);
        if b.len() >= 4 {
            self.i.src_port = u16::from_be_bytes([b[0], b[1]]);
            self.i.dst_port = u16::from_be_bytes([b[2], b[3]]);
        }
    }

    fn udp(&mut self, off: usize, plen: usize, lite: bool) {
        self.push(if lite { Proto::UdpLite } else { Proto::Udp });
        let Ok(u) = UdpPacket::new_checked(self.at(off)) else {
            self.stat(fs::SNAP_L4_HDR);
            self.partial_ports(off);
            return;
        };
        let (sp, dp) = (u.src_port(), u.dst_port());
        let i = &mut *self.i;
        i.src_port = sp;
        i.dst_port = dp;
        i.udp_len = u.len();
        // UDP-Lite covers only part of the datagram. A missing IPv4 UDP checksum (0) is allowed
        // by the RFC, but Tranalyzer2 computes it anyway and reports the mismatch (ipFlags 0x0800).
        // A length field that disagrees with the IPv4 payload (also a first fragment's) fails it
        // too, unless the datagram itself claims more than the frame carried.
        let l3 = i.l3_offset as usize;
        let claimed = self.f.get(l3 + 2..l3 + 4).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]) as usize);
        let whole = claimed == i.l3_hdr_len as usize + plen && self.f.len() >= off + plen;
        let len_off = whole && i.l3 == L3::Ipv4 && u.len() as usize != plen;
        let bad = !lite && (len_off || self.l4_checksum_bad(p::UDP, off, plen));
        let i = &mut *self.i;
        i.l4_csum_bad = bad;
        i.l4_hdr_len = 8;
        i.l4_present = true;
        i.l7_offset = (off + 8) as u32;
        i.l7_len = plen.saturating_sub(8) as u32;
        if !lite {
            self.udp_payload(sp, dp, off + 8, plen.saturating_sub(8));
        }
    }

    fn icmp(&mut self, proto: u8, off: usize, plen: usize) {
        self.push(if proto == p::ICMP { Proto::Icmp } else { Proto::Icmpv6 });
        let Ok(c) = IcmpPacket::new_checked(self.at(off)) else {
            self.stat(fs::SNAP_L4_HDR);
            return;
        };
        let i = &mut *self.i;
        i.icmp_type = c.msg_type();
        i.icmp_code = c.msg_code();
        i.icmp_id = c.echo_ident();
        i.icmp_seq = c.echo_seq_no();
        i.l4_hdr_len = 8;
        i.l4_present = true;
        i.l7_offset = (off + 8) as u32;
        i.l7_len = plen.saturating_sub(8) as u32;
    }

    fn sctp(&mut self, off: usize, plen: usize) {
        self.push(Proto::Sctp);
        self.stat(fs::SCTP);
        // Tranalyzer2 wants a chunk header after the common header, within the IP length: a
        // shorter packet is flagged short and keeps no ports (cisco-fabric-path.pcap).
        let Ok(s) = SctpPacket::new_checked(self.at(off)) else {
            self.stat(fs::SNAP_L4_HDR);
            return;
        };
        if plen < SctpPacket::<&[u8]>::HEADER_LEN + 4 {
            self.stat(fs::SNAP_L4_HDR);
            return;
        }
        let i = &mut *self.i;
        i.src_port = s.src_port();
        i.dst_port = s.dst_port();
        i.l4_hdr_len = 12;
        i.l4_present = true;
        i.l7_offset = (off + 12) as u32;
        i.l7_len = plen.saturating_sub(12) as u32;
    }
}

/// IP protocols Tranalyzer2 names in `hdrDesc` without decoding them further.
fn simple_name(proto: u8) -> Option<Proto> {
    Some(match proto {
        p::HOPOPT => Proto::Ipv6HopOpts,
        p::ROUTING => Proto::Ipv6Route,
        p::FRAGMENT => Proto::Ipv6FragHdr,
        p::DSTOPTS => Proto::Ipv6DstOpts,
        p::ICMP => Proto::Icmp,
        p::ICMPV6 => Proto::Icmpv6,
        p::IGMP => Proto::Igmp,
        p::TCP => Proto::Tcp,
        p::UDP => Proto::Udp,
        p::UDPLITE => Proto::UdpLite,
        p::DDP => Proto::Ddp,
        p::GRE => Proto::Gre,
        p::ESP => Proto::Esp,
        p::AH => Proto::Ah,
        p::EIGRP => Proto::Eigrp,
        p::OSPF => Proto::Ospf,
        p::PIM => Proto::Pim,
        p::VRRP => Proto::Vrrp,
        p::PGM => Proto::Pgm,
        p::L2TP => Proto::L2tp,
        p::SCTP => Proto::Sctp,
        p::MOBILITY => Proto::Mipv6,
        p::IPIP => Proto::Ipv4,
        p::IPV6 => Proto::Ipv6,
        _ => return None,
    })
}
