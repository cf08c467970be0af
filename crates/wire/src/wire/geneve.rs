//! GENEVE header (RFC 8926), UDP port 6081.

use super::{be16, view};

pub const PORT: u16 = 6081;

#[derive(Debug, Clone, Copy)]
pub struct GeneveHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(GeneveHeader, 8);

impl<T: AsRef<[u8]>> GeneveHeader<T> {
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 6
    }
    /// Header length including options.
    #[inline]
    pub fn header_len(&self) -> usize {
        8 + ((self.buffer.as_ref()[0] & 0x3f) as usize) * 4
    }
    /// Protocol type of the payload (an EtherType; 0x6558 = Ethernet).
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn vni(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([0, b[4], b[5], b[6]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fields() {
        let g = GeneveHeader::new_checked(&[0x02u8, 0, 0x65, 0x58, 0, 0, 7, 0][..]).unwrap();
        assert_eq!((g.version(), g.header_len(), g.protocol(), g.vni()), (0, 16, 0x6558, 7));
        assert!(GeneveHeader::new_checked(&[0u8; 7][..]).is_err());
    }
}
