//! Linux "cooked" capture headers: SLL (16 bytes) and SLL2 (20 bytes).

use super::{be16, be32, view};

/// `LINKTYPE_LINUX_SLL`: packet type, ARPHRD type, address length, 8 address bytes, protocol.
#[derive(Debug, Clone, Copy)]
pub struct SllHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(SllHeader, 16);

impl<T: AsRef<[u8]>> SllHeader<T> {
    #[inline]
    pub fn packet_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn arphrd_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn addr_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    /// The link-layer address field (8 bytes, of which `addr_len` are meaningful).
    #[inline]
    pub fn addr(&self) -> &[u8] {
        &self.buffer.as_ref()[6..14]
    }
    /// Protocol: an EtherType, or a Linux `ETH_P_*` value below 0x0600.
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), 14)
    }
}

/// `LINKTYPE_LINUX_SLL2`: protocol, reserved, interface index, ARPHRD type, packet type, address
/// length, 8 address bytes.
#[derive(Debug, Clone, Copy)]
pub struct Sll2Header<T: AsRef<[u8]>> {
    buffer: T,
}

view!(Sll2Header, 20);

impl<T: AsRef<[u8]>> Sll2Header<T> {
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn if_index(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    #[inline]
    pub fn arphrd_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 8)
    }
    #[inline]
    pub fn packet_type(&self) -> u8 {
        self.buffer.as_ref()[10]
    }
    #[inline]
    pub fn addr_len(&self) -> u8 {
        self.buffer.as_ref()[11]
    }
    #[inline]
    pub fn addr(&self) -> &[u8] {
        &self.buffer.as_ref()[12..20]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn both() {
        let mut s = [0u8; 16];
        s[14] = 0x08;
        s[5] = 6;
        let h = SllHeader::new_checked(&s[..]).unwrap();
        assert_eq!(h.protocol(), 0x0800);
        assert_eq!(h.addr_len(), 6);
        assert!(SllHeader::new_checked(&s[..15]).is_err());
        let mut s2 = [0u8; 20];
        s2[0] = 0x86;
        s2[1] = 0xdd;
        s2[7] = 3;
        let h2 = Sll2Header::new_checked(&s2[..]).unwrap();
        assert_eq!(h2.protocol(), 0x86dd);
        assert_eq!(h2.if_index(), 3);
        assert!(Sll2Header::new_checked(&s2[..19]).is_err());
    }
}
