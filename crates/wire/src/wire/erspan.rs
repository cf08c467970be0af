//! ERSPAN type II header (GRE protocol 0x88be): 8 bytes in front of the mirrored Ethernet frame.

use super::{be16, view};

#[derive(Debug, Clone, Copy)]
pub struct ErspanHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(ErspanHeader, 8);

impl<T: AsRef<[u8]>> ErspanHeader<T> {
    pub const HEADER_LEN: usize = 8;

    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    #[inline]
    pub fn vlan(&self) -> u16 {
        be16(self.buffer.as_ref(), 0) & 0x0fff
    }
    #[inline]
    pub fn session_id(&self) -> u16 {
        be16(self.buffer.as_ref(), 2) & 0x03ff
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn header() {
        let e = ErspanHeader::new_checked(&[0x10u8, 0x05, 0x00, 0x64, 0, 0, 0, 0][..]).unwrap();
        assert_eq!((e.version(), e.vlan(), e.session_id()), (1, 5, 100));
        assert!(ErspanHeader::new_checked(&[0u8; 7][..]).is_err());
    }
}
