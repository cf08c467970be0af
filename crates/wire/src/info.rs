//! The dissector's output: everything the flow table and its feature plugins need to know about one
//! packet, in a fixed-size record reused from packet to packet (no allocation).
//!
//! Offsets index into the captured frame (`RawPacket::data`); the flow layer slices the frame itself
//! when a plugin needs bytes (TCP options, the first payload bytes).

use crate::hdrdesc::HdrDesc;
use crate::tcpopt::TcpOpts;

/// Tranalyzer2 0.9.3 `flowStat` bits (reference §2.5) that the dissector can decide per packet.
pub mod flowstat {
    pub const INVERTED: u64 = 1 << 0;
    pub const NO_ETH: u64 = 1 << 1;
    pub const PURE_L2: u64 = 1 << 2;
    pub const PPPOE_DISC: u64 = 1 << 3;
    pub const PPPOE_SESS: u64 = 1 << 4;
    pub const LLDP: u64 = 1 << 5;
    pub const ARP: u64 = 1 << 6;
    pub const RARP: u64 = 1 << 7;
    pub const VLAN: u64 = 1 << 8;
    pub const MPLS_UCAST: u64 = 1 << 9;
    pub const MPLS_MCAST: u64 = 1 << 10;
    pub const L2TP: u64 = 1 << 11;
    pub const GRE: u64 = 1 << 12;
    pub const PPP_AFTER_TUNNEL: u64 = 1 << 13;
    pub const IPV4_FLOW: u64 = 1 << 14;
    pub const IPV6_FLOW: u64 = 1 << 15;
    pub const IP_BOGUS: u64 = 1 << 16;
    pub const IP_IN_IP: u64 = 1 << 17;
    pub const ETH_OVER_IP: u64 = 1 << 18;
    pub const TEREDO: u64 = 1 << 19;
    pub const AYIYA: u64 = 1 << 20;
    pub const GTP: u64 = 1 << 21;
    pub const VXLAN: u64 = 1 << 22;
    pub const CAPWAP: u64 = 1 << 23;
    pub const SCTP: u64 = 1 << 24;
    pub const SSDP: u64 = 1 << 25;
    pub const ERSPAN: u64 = 1 << 26;
    pub const WCCP: u64 = 1 << 27;
    pub const SIP_RTP: u64 = 1 << 28;
    pub const GENEVE: u64 = 1 << 29;
    pub const IPSEC_AH: u64 = 1 << 30;
    pub const IPSEC_ESP: u64 = 1 << 31;
    pub const SNAP_L2: u64 = 1 << 32;
    pub const SNAP_L3_LEN: u64 = 1 << 33;
    pub const SNAP_L3_HDR: u64 = 1 << 34;
    pub const SNAP_L4_HDR: u64 = 1 << 35;
    pub const IPV4_FRAG: u64 = 1 << 36;
    pub const IPV4_FRAG_ERR: u64 = 1 << 37;
    pub const IPV4_FRAG_FIRST_MISSING: u64 = 1 << 38;
    pub const FRAG_PENDING: u64 = 1 << 39;
    pub const TIMEOUT: u64 = 1 << 40;
    pub const FORCE_REMOVE: u64 = 1 << 41;
    pub const AUTOPILOT: u64 = 1 << 42;
    pub const STOP_DISSECTING: u64 = 1 << 43;
    pub const DUP_IPID: u64 = 1 << 44;
    pub const PPP_L3_UNREADABLE: u64 = 1 << 45;
    pub const IPV4_HDR_SHORT: u64 = 1 << 46;
    pub const IP_LEN_MISMATCH: u64 = 1 << 47;
    pub const HDR_DESC_OVERRUN: u64 = 1 << 48;
    pub const LAND_ATTACK: u64 = 1 << 50;
    pub const TIME_JUMP: u64 = 1 << 51;
    pub const SUBNET_TESTED: u64 = 1 << 55;
    pub const TOR: u64 = 1 << 56;
    pub const VLAN_PRIO_TAG: u64 = 1 << 57;
    pub const IPV4_PKT: u64 = 1 << 58;
    pub const IPV6_PKT: u64 = 1 << 59;
    pub const LAPD: u64 = 1 << 60;
    pub const DTLS: u64 = 1 << 61;
    pub const DURATION_LIMIT: u64 = 1 << 62;
    pub const CAPLEN_REDUCED: u64 = 1 << 63;
}

/// A 16-byte address; IPv4 addresses occupy the first 4 bytes, the rest zero.
pub type IpAddrBytes = [u8; 16];

/// The network layer of the flow the packet belongs to (the innermost one after tunnels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum L3 {
    /// No IP layer: a layer-2 flow (ARP, LLDP, unknown ethertype…), keyed by MACs and ethType.
    #[default]
    None,
    Ipv4,
    Ipv6,
}

/// Why a packet was not turned into a flow; counted by reason in the end report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The capture's link type is not one we decode.
    UnsupportedLinkType,
    /// Fewer bytes than the smallest link-layer header.
    TooShortForLinkLayer,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::UnsupportedLinkType => "unsupported link type",
            SkipReason::TooShortForLinkLayer => "shorter than its link-layer header",
        }
    }
}

/// Everything known about one packet after dissection. Reset by [`PacketInfo::clear`] (called by
/// `dissect`) and refilled in place.
#[derive(Debug, Clone, Default)]
pub struct PacketInfo {
    /// Protocol stack as Tranalyzer2 names it (`hdrDesc`).
    pub hdr: HdrDesc,
    /// flowStat bits this packet contributes (tunnels, VLAN, snapped lengths, bogus IP…).
    pub flow_stat: u64,

    // ---- layer 2 (the Ethernet header Tranalyzer2 reports: the outermost one)
    pub has_mac: bool,
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    /// The flow's ethertype as Tranalyzer2 prints it (`ethType`).
    pub eth_type: u16,
    /// VLAN tags (whole 16-bit TCI), outermost first.
    pub vlans: [u16; 4],
    pub n_vlans: u8,

    // ---- layer 3 (innermost IP header, the flow's)
    pub l3: L3,
    pub src_ip: IpAddrBytes,
    pub dst_ip: IpAddrBytes,
    /// Offset of the flow's IP header in the frame.
    pub l3_offset: u32,
    /// IP header length including IPv6 extension headers.
    pub l3_hdr_len: u32,
    /// Length the IP header claims for the datagram (IPv4 total length, IPv6 40 + payload length).
    pub ip_len: u32,
    pub ttl: u8,
    pub tos: u8,
    /// IPv4 identification (IPv6: fragment header identification, else 0).
    pub ip_id: u32,
    /// Fragment offset in bytes.
    pub frag_offset: u32,
    pub more_fragments: bool,
    pub dont_fragment: bool,
    pub reserved_bit: bool,
    /// True for any fragment, first or later.
    pub is_fragment: bool,
    /// Offset and length of IPv4 options in the frame (length 0 if none).
    pub ip_opt_offset: u32,
    pub ip_opt_len: u32,

    // ---- layer 4
    /// IP protocol number of the transport header (after extension headers); 0 for layer-2 flows.
    pub l4_proto: u8,
    /// Offset of the transport header in the frame; 0 when absent (e.g. later fragments).
    pub l4_offset: u32,
    pub l4_hdr_len: u32,
    /// True when the transport header is present and complete in the captured bytes.
    pub l4_present: bool,
    pub src_port: u16,
    pub dst_port: u16,
    /// TCP flags byte (FIN 0x01 … CWR 0x80).
    pub tcp_flags: u8,
    pub tcp_seq: u32,
    pub tcp_ack: u32,
    pub tcp_win: u16,
    pub tcp_urp: u16,
    /// TCP options: offset and length in the frame.
    pub tcp_opt_offset: u32,
    pub tcp_opt_len: u32,
    /// The options decoded (what the flow layer's tcpFlags plugin needs of them).
    pub tcp_opts: TcpOpts,
    /// The IPv4 header checksum is wrong (IPv6 has none).
    pub l3_csum_bad: bool,
    /// The TCP/UDP checksum of a completely captured, unfragmented segment is wrong.
    pub l4_csum_bad: bool,
    pub icmp_type: u8,
    pub icmp_code: u8,
    pub icmp_id: u16,
    pub icmp_seq: u16,
    /// UDP length field.
    pub udp_len: u16,

    // ---- ARP (when `hdr` ends in arp/rarp)
    pub arp_hw_type: u16,
    pub arp_opcode: u16,
    pub arp_sender_mac: [u8; 6],
    pub arp_sender_ip: [u8; 4],
    pub arp_target_mac: [u8; 6],
    pub arp_target_ip: [u8; 4],

    // ---- sizes
    /// Bytes on the wire (`orig_len`).
    pub wire_len: u32,
    /// Bytes captured.
    pub cap_len: u32,
    /// Offset of the payload (layer 7) in the frame.
    pub l7_offset: u32,
    /// Payload size as Tranalyzer2 counts it for `l7BytesSnt` (from header lengths, not the snap).
    pub l7_len: u32,
    /// Ethernet padding after the IP datagram (`padBytesSnt`).
    pub pad_len: u32,

    // ---- payload
    /// The first captured payload bytes of a TCP or UDP packet (up to [`PAYLOAD_HEAD`]), copied so
    /// that flow features can classify them after the frame is gone (the sharded flow table gets
    /// only this record).
    pub payload_head: [u8; PAYLOAD_HEAD],
    /// How many bytes of `payload_head` are valid.
    pub payload_head_len: u8,
    /// Set by an observer outside the dissector: the frame carries an on-link IPv4 address with a
    /// MAC other than the one first seen for it, or is an ARP claim contradicting that MAC.
    pub mac_ip_conflict: bool,
}

/// Payload bytes kept per packet in [`PacketInfo::payload_head`]: enough to recognise TLS, HTTP,
/// SSH and DNS from their first bytes.
pub const PAYLOAD_HEAD: usize = 16;

impl PacketInfo {
    /// Resets every field so a reused record carries nothing over from the previous packet.
    #[inline]
    pub fn clear(&mut self) {
        *self = PacketInfo::default();
    }

    /// The captured payload bytes (possibly fewer than `l7_len` when snapped).
    pub fn payload<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        let start = (self.l7_offset as usize).min(frame.len());
        let end = start.saturating_add(self.l7_len as usize).min(frame.len());
        &frame[start..end]
    }

    /// The valid part of [`payload_head`](Self::payload_head).
    pub fn payload_head(&self) -> &[u8] {
        self.payload_head.get(..self.payload_head_len as usize).unwrap_or(&[])
    }

    pub fn is_ip(&self) -> bool {
        self.l3 != L3::None
    }
}
