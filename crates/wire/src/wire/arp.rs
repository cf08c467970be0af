//! ARP / RARP (RFC 826), read generically with the Ethernet/IPv4 address layout when it applies.

use super::{be16, view};

#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

view!(ArpPacket, 8);

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Length of an Ethernet/IPv4 ARP packet.
    pub const ETH_IPV4_LEN: usize = 28;

    #[inline]
    pub fn hw_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn proto_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn hw_len(&self) -> u8 {
        self.buffer.as_ref()[4]
    }
    #[inline]
    pub fn proto_len(&self) -> u8 {
        self.buffer.as_ref()[5]
    }
    #[inline]
    pub fn operation(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    /// Total length implied by the address lengths.
    pub fn total_len(&self) -> usize {
        8 + 2 * (self.hw_len() as usize + self.proto_len() as usize)
    }
    /// Sender MAC, sender IPv4, target MAC, target IPv4, when the packet is a complete
    /// Ethernet/IPv4 one (hardware length 6, protocol length 4).
    pub fn eth_ipv4(&self) -> Option<([u8; 6], [u8; 4], [u8; 6], [u8; 4])> {
        let b = self.buffer.as_ref();
        if self.hw_len() != 6 || self.proto_len() != 4 || b.len() < Self::ETH_IPV4_LEN {
            return None;
        }
        Some((super::mac(b, 8), [b[14], b[15], b[16], b[17]], super::mac(b, 18), [b[24], b[25], b[26], b[27]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn request() {
        let mut p = [0u8; 28];
        p[..8].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        p[8..14].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        p[14..18].copy_from_slice(&[10, 0, 0, 1]);
        p[24..28].copy_from_slice(&[10, 0, 0, 2]);
        let a = ArpPacket::new_checked(&p[..]).unwrap();
        assert_eq!(a.hw_type(), 1);
        assert_eq!(a.operation(), 1);
        let (sm, si, _tm, ti) = a.eth_ipv4().unwrap();
        assert_eq!(sm, [1, 2, 3, 4, 5, 6]);
        assert_eq!(si, [10, 0, 0, 1]);
        assert_eq!(ti, [10, 0, 0, 2]);
        assert!(ArpPacket::new_checked(&p[..27]).unwrap().eth_ipv4().is_none());
        assert!(ArpPacket::new_checked(&p[..7]).is_err());
    }
}
