//! IPv4 header (RFC 791).

use super::{be16, clip, view};

#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

view!(Ipv4Packet, 20);

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    /// Header length in bytes as the IHL field says (may be < 20 in damaged packets).
    #[inline]
    pub fn header_len(&self) -> usize {
        ((self.buffer.as_ref()[0] & 0x0f) as usize) * 4
    }
    #[inline]
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    #[inline]
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    #[inline]
    fn flags_frag(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    #[inline]
    pub fn reserved_flag(&self) -> bool {
        self.flags_frag() & 0x8000 != 0
    }
    #[inline]
    pub fn dont_frag(&self) -> bool {
        self.flags_frag() & 0x4000 != 0
    }
    #[inline]
    pub fn more_frags(&self) -> bool {
        self.flags_frag() & 0x2000 != 0
    }
    /// Fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u32 {
        ((self.flags_frag() & 0x1fff) as u32) * 8
    }
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[8]
    }
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[9]
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 10)
    }
    #[inline]
    pub fn src_addr(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[12], b[13], b[14], b[15]]
    }
    #[inline]
    pub fn dst_addr(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[16], b[17], b[18], b[19]]
    }
    /// Option bytes (clipped to the buffer).
    pub fn options(&self) -> &[u8] {
        clip(self.buffer.as_ref(), 20, self.header_len())
    }
    /// Bytes after the header, clipped to the buffer and to the total length.
    pub fn payload(&self) -> &[u8] {
        let end = (self.total_len() as usize).max(self.header_len());
        clip(self.buffer.as_ref(), self.header_len(), end)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn header(proto: u8, payload_len: usize) -> [u8; 20] {
        let tl = (20 + payload_len) as u16;
        [0x45, 0, (tl >> 8) as u8, tl as u8, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
    }

    #[test]
    fn fields() {
        let h = header(6, 20);
        let p = Ipv4Packet::new_checked(&h[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 40);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag() && !p.more_frags());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.protocol(), 6);
        assert_eq!(p.src_addr(), [10, 0, 0, 1]);
        assert_eq!(p.options(), &[] as &[u8]);
        assert_eq!(p.payload(), &[] as &[u8]);
        assert!(Ipv4Packet::new_checked(&h[..19]).is_err());
    }
}
