//! ICMP and ICMPv6 (the first 8 bytes share one layout: type, code, checksum, rest-of-header;
//! for echo messages the rest is identifier and sequence number).

use super::{be16, be32, view};

#[derive(Debug, Clone, Copy)]
pub struct IcmpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

view!(IcmpPacket, 8);

impl<T: AsRef<[u8]>> IcmpPacket<T> {
    pub const HEADER_LEN: usize = 8;

    #[inline]
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    #[inline]
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Echo identifier (bytes 4–5).
    #[inline]
    pub fn echo_ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    /// Echo sequence number (bytes 6–7).
    #[inline]
    pub fn echo_seq_no(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    /// Bytes 4–7 as one word (gateway address of a redirect, MTU of "packet too big"…).
    #[inline]
    pub fn rest_of_header(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn echo() {
        let i = IcmpPacket::new_checked(&[8u8, 0, 0, 0, 0x12, 0x34, 0, 9][..]).unwrap();
        assert_eq!((i.msg_type(), i.msg_code(), i.echo_ident(), i.echo_seq_no()), (8, 0, 0x1234, 9));
        assert!(IcmpPacket::new_checked(&[0u8; 7][..]).is_err());
    }
}
