//! IEEE 802.1Q / 802.1ad VLAN tag (the 4 bytes after the TPID).

use super::{be16, view};

/// A VLAN tag as it follows its TPID: TCI, then the next EtherType.
#[derive(Debug, Clone, Copy)]
pub struct VlanTag<T: AsRef<[u8]>> {
    buffer: T,
}

view!(VlanTag, 4);

impl<T: AsRef<[u8]>> VlanTag<T> {
    /// The whole 16-bit Tag Control Information (PCP, DEI, VID).
    #[inline]
    pub fn tci(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn vid(&self) -> u16 {
        self.tci() & 0x0fff
    }
    #[inline]
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }
    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tci() {
        let t = VlanTag::new_checked(&[0xe0u8, 0x0a, 0x08, 0x00][..]).unwrap();
        assert_eq!(t.tci(), 57354);
        assert_eq!(t.vid(), 10);
        assert_eq!(t.pcp(), 7);
        assert_eq!(t.ethertype(), 0x0800);
        assert!(VlanTag::new_checked(&[0u8; 3][..]).is_err());
    }
}
