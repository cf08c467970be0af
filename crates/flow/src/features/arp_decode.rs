//! arpDecode: ARP operations, the MAC/IP pairs announced, gratuitous ARP and spoofing (reference
//! §2.8). Only ARP flows carry state, boxed so that the other flows pay one pointer for it.

use netanom_wire::{flowstat, PacketInfo};

use crate::record::FlowRecord;
use crate::schema::{write_mac, Column, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[
    Column::new("arpStat", "H8", Kind::Hex(2), "ARP status"),
    Column::new("arpHwType", "U16", Kind::UInt, "ARP hardware type"),
    Column::new("arpOpcode", "H16", Kind::Hex(4), "ARP operational code"),
    Column::new("arpIpMacCnt", "U16", Kind::UInt, "ARP number of distinct MAC / IP pairs"),
    Column::new("arpMac_Ip_Cnt", "MAC_IP4_U16:R", Kind::Text, "ARP MAC, IP pairs found and count"),
];

pub const DETECTED: u8 = 0x01;
pub const GRATUITOUS: u8 = 0x02;
pub const PROBE: u8 = 0x04;
pub const ANNOUNCEMENT: u8 = 0x08;
pub const TRUNCATED: u8 = 0x20;
pub const SPOOFING: u8 = 0x80;

/// Most MAC/IP pairs listed per flow (Tranalyzer2's ARP_MAX_IP); more set [`TRUNCATED`].
pub const MAX_PAIRS: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct ArpState {
    stat: u8,
    hw_type: u16,
    opcodes: u16,
    /// (MAC, IPv4, packets) in order of appearance.
    pairs: Vec<([u8; 6], [u8; 4], u16)>,
}

impl ArpState {
    fn record(&mut self, mac: [u8; 6], ip: [u8; 4]) {
        if let Some(e) = self.pairs.iter_mut().find(|(m, i, _)| *m == mac && *i == ip) {
            e.2 = e.2.saturating_add(1);
            return;
        }
        if self.pairs.len() >= MAX_PAIRS {
            self.stat |= TRUNCATED;
            return;
        }
        // One address claimed by two MACs (the unspecified address of probes aside).
        if ip != [0; 4] && self.pairs.iter().any(|(m, i, _)| *i == ip && *m != mac) {
            self.stat |= SPOOFING;
        }
        self.pairs.push((mac, ip, 1));
    }
}

/// Per-packet update; allocates once, at a flow's first ARP packet.
#[inline]
pub fn update(slot: &mut Option<Box<ArpState>>, p: &PacketInfo) {
    if p.flow_stat & (flowstat::ARP | flowstat::RARP) == 0 || p.arp_opcode == 0 {
        return;
    }
    let s = slot.get_or_insert_with(Default::default);
    s.stat |= DETECTED;
    s.hw_type = p.arp_hw_type;
    if p.arp_opcode < 16 {
        s.opcodes |= 1 << p.arp_opcode;
    }
    if p.arp_sender_ip == p.arp_target_ip {
        s.stat |= GRATUITOUS;
        if p.arp_opcode == 1 {
            s.stat |= ANNOUNCEMENT;
        }
    }
    if p.arp_sender_ip == [0; 4] {
        s.stat |= PROBE;
    }
    if p.arp_sender_mac != [0; 6] {
        s.record(p.arp_sender_mac, p.arp_sender_ip);
    }
    if p.arp_target_mac != [0; 6] {
        s.record(p.arp_target_mac, p.arp_target_ip);
    }
}

pub fn write(rec: &FlowRecord, w: &mut dyn ValueSink) {
    let Some(s) = rec.arp.as_deref() else {
        w.hex(0, 2);
        w.uint(0);
        w.hex(0, 4);
        w.uint(0);
        w.empty();
        return;
    };
    w.hex(s.stat as u64, 2);
    w.uint(s.hw_type as u64);
    w.hex(s.opcodes as u64, 4);
    w.uint(s.pairs.len() as u64);
    w.text(&|o| {
        for (n, (mac, ip, cnt)) in s.pairs.iter().enumerate() {
            if n > 0 {
                o.write_char(';')?;
            }
            write_mac(o, mac)?;
            write!(o, "_{}.{}.{}.{}_{cnt}", ip[0], ip[1], ip[2], ip[3])?;
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_then_gratuitous_reply() {
        let mut slot = None;
        let mut p = PacketInfo {
            flow_stat: flowstat::ARP,
            arp_hw_type: 1,
            arp_opcode: 1,
            arp_sender_mac: [2, 0, 0, 0, 0, 1],
            arp_sender_ip: [10, 0, 0, 1],
            arp_target_ip: [10, 0, 0, 2],
            ..PacketInfo::default()
        };
        update(&mut slot, &p);
        update(&mut slot, &p);
        p.arp_opcode = 2;
        p.arp_target_ip = p.arp_sender_ip;
        p.arp_target_mac = [2, 0, 0, 0, 0, 9];
        update(&mut slot, &p);
        let s = slot.unwrap();
        assert_eq!(s.opcodes, 0x6);
        assert_eq!(s.stat, DETECTED | GRATUITOUS | SPOOFING);
        assert_eq!(s.pairs, vec![([2, 0, 0, 0, 0, 1], [10, 0, 0, 1], 3), ([2, 0, 0, 0, 0, 9], [10, 0, 0, 1], 1)]);
    }
}
