//! SCTP common header (RFC 9260) and chunk headers.

use super::{be16, be32, view};

#[derive(Debug, Clone, Copy)]
pub struct SctpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

view!(SctpPacket, 12);

impl<T: AsRef<[u8]>> SctpPacket<T> {
    pub const HEADER_LEN: usize = 12;

    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn verification_tag(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    /// Type of the first chunk, if present.
    pub fn first_chunk_type(&self) -> Option<u8> {
        self.buffer.as_ref().get(12).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fields() {
        let s = SctpPacket::new_checked(&[0x0bu8, 0x7c, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 1][..]).unwrap();
        assert_eq!((s.src_port(), s.dst_port(), s.verification_tag()), (2940, 7, 1));
        assert_eq!(s.first_chunk_type(), Some(1));
        assert!(SctpPacket::new_checked(&[0u8; 11][..]).is_err());
    }
}
