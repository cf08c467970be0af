//! The flow key: what makes two packets belong to the same direction of the same conversation.

use netanom_wire::{PacketInfo, L3};

/// Tranalyzer2's flow key (reference §3.3): addresses, ports, protocol, ethertype and VLAN.
/// Layer-2 flows (no IP) are keyed by their MAC addresses, stored in the address fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlowKey {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub src_port: u16,
    pub dst_port: u16,
    pub eth_type: u16,
    /// VLAN ID (12 bits) of the innermost tag, 0 if untagged.
    pub vlan: u16,
    pub l4_proto: u8,
    pub l3: L3,
}

impl FlowKey {
    pub fn from_packet(p: &PacketInfo) -> FlowKey {
        let vlan = if p.n_vlans > 0 { p.vlans[p.n_vlans as usize - 1] & 0x0fff } else { 0 };
        let mut k = FlowKey {
            src: p.src_ip,
            dst: p.dst_ip,
            src_port: p.src_port,
            dst_port: p.dst_port,
            eth_type: p.eth_type,
            vlan,
            l4_proto: p.l4_proto,
            l3: p.l3,
        };
        if p.l3 == L3::None {
            k.src = [0; 16];
            k.dst = [0; 16];
            k.src[..6].copy_from_slice(&p.src_mac);
            k.dst[..6].copy_from_slice(&p.dst_mac);
        }
        k
    }

    /// The key of the opposite direction.
    pub fn reversed(&self) -> FlowKey {
        FlowKey { src: self.dst, dst: self.src, src_port: self.dst_port, dst_port: self.src_port, ..*self }
    }

    /// Same host and port both ways: a land attack when it is TCP.
    pub fn is_self_reverse(&self) -> bool {
        self.src == self.dst && self.src_port == self.dst_port
    }
}

/// The ports a flow row shows: ICMP's are printed as 0.
pub fn shown_ports(k: &FlowKey) -> (u16, u16) {
    if k.l4_proto == 1 || k.l4_proto == 58 {
        (0, 0)
    } else {
        (k.src_port, k.dst_port)
    }
}

/// Key under which later IP fragments (no transport header) find their first fragment's flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragKey {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub ip_id: u32,
    pub l4_proto: u8,
    pub vlan: u16,
}

impl FragKey {
    pub fn from_packet(p: &PacketInfo) -> FragKey {
        let vlan = if p.n_vlans > 0 { p.vlans[p.n_vlans as usize - 1] & 0x0fff } else { 0 };
        FragKey { src: p.src_ip, dst: p.dst_ip, ip_id: p.ip_id, l4_proto: p.l4_proto, vlan }
    }
}
