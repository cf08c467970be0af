//! UDP (and UDP-Lite, which shares the layout with a checksum coverage instead of a length).

use super::{be16, view};

#[derive(Debug, Clone, Copy)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

view!(UdpPacket, 8);

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub const HEADER_LEN: usize = 8;

    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Length field (UDP-Lite: checksum coverage).
    #[inline]
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[8..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fields() {
        let u = UdpPacket::new_checked(&[0x12u8, 0xb5, 0x00, 0x35, 0x00, 0x0a, 0, 0, 0xaa, 0xbb][..]).unwrap();
        assert_eq!((u.src_port(), u.dst_port(), u.len()), (4789, 53, 10));
        assert_eq!(u.payload(), &[0xaa, 0xbb]);
        assert!(UdpPacket::new_checked(&[0u8; 7][..]).is_err());
    }
}
