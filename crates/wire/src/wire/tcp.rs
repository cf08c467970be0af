//! TCP header (RFC 9293).

use super::{be16, be32, clip, view};

#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

view!(TcpPacket, 20);

impl<T: AsRef<[u8]>> TcpPacket<T> {
    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    #[inline]
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 8)
    }
    /// Header length in bytes from the data offset field (may be < 20 when damaged).
    #[inline]
    pub fn header_len(&self) -> usize {
        ((self.buffer.as_ref()[12] >> 4) as usize) * 4
    }
    /// FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[13]
    }
    /// The NS/AE bit and the reserved bits (low nibble of byte 12).
    #[inline]
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[12] & 0x0f
    }
    #[inline]
    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 14)
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 16)
    }
    #[inline]
    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), 18)
    }
    /// Option bytes, clipped to the buffer.
    pub fn options(&self) -> &[u8] {
        clip(self.buffer.as_ref(), 20, self.header_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fields() {
        let h = [0x01u8, 0xbb, 0xc0, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0x60, 0x12, 0xff, 0xff, 0, 0, 0, 0, 2, 4, 5, 0xb4];
        let t = TcpPacket::new_checked(&h[..]).unwrap();
        assert_eq!(t.src_port(), 443);
        assert_eq!(t.dst_port(), 0xc000);
        assert_eq!(t.seq_number(), 1);
        assert_eq!(t.ack_number(), 2);
        assert_eq!(t.header_len(), 24);
        assert_eq!(t.flags(), 0x12);
        assert_eq!(t.window_len(), 0xffff);
        assert_eq!(t.options(), &[2, 4, 5, 0xb4]);
        assert!(TcpPacket::new_checked(&h[..19]).is_err());
    }
}
