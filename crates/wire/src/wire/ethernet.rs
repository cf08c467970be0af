//! Ethernet II / IEEE 802.3 header.

use super::{be16, mac, view};

pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const RARP: u16 = 0x8035;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const VLAN_9100: u16 = 0x9100;
    pub const VLAN_9200: u16 = 0x9200;
    pub const IPV6: u16 = 0x86dd;
    pub const MPLS_UCAST: u16 = 0x8847;
    pub const MPLS_MCAST: u16 = 0x8848;
    pub const PPPOE_DISC: u16 = 0x8863;
    pub const PPPOE_SESS: u16 = 0x8864;
    pub const LLDP: u16 = 0x88cc;
    pub const EAPOL: u16 = 0x888e;
    pub const REALTEK: u16 = 0x8899;
    pub const TRANS_ETH_BRIDGING: u16 = 0x6558;
    pub const ERSPAN2: u16 = 0x88be;
    pub const ERSPAN3: u16 = 0x22eb;
    pub const PPP: u16 = 0x880b;
    pub const WCCP: u16 = 0x883e;
    pub const APPLETALK: u16 = 0x809b;
    pub const IPX: u16 = 0x8137;
    pub const LOOPBACK: u16 = 0x9000;
}

/// An Ethernet header: destination, source, EtherType (or 802.3 length when < 0x0600).
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

view!(EthernetFrame, 14);

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    pub const HEADER_LEN: usize = 14;

    #[inline]
    pub fn dst_addr(&self) -> [u8; 6] {
        mac(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn src_addr(&self) -> [u8; 6] {
        mac(self.buffer.as_ref(), 6)
    }
    /// EtherType, or the IEEE 802.3 length when the value is below 0x0600.
    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), 12)
    }
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[14..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fields_and_short() {
        let f = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00, 0x45];
        let e = EthernetFrame::new_checked(&f[..]).unwrap();
        assert_eq!(e.dst_addr(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(e.src_addr(), [7, 8, 9, 10, 11, 12]);
        assert_eq!(e.ethertype(), 0x0800);
        assert_eq!(e.payload(), &[0x45]);
        assert!(EthernetFrame::new_checked(&f[..13]).is_err());
    }
}
