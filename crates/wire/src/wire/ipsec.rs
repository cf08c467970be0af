//! IPsec: ESP (RFC 4303) and AH (RFC 4302) headers.

use super::{be32, view};

/// Encapsulating Security Payload: SPI and sequence number, then encrypted data.
#[derive(Debug, Clone, Copy)]
pub struct EspHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(EspHeader, 8);

impl<T: AsRef<[u8]>> EspHeader<T> {
    #[inline]
    pub fn spi(&self) -> u32 {
        be32(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
}

/// Authentication Header: next header, payload length (in 4-octet units minus 2), SPI, sequence.
#[derive(Debug, Clone, Copy)]
pub struct AhHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(AhHeader, 12);

impl<T: AsRef<[u8]>> AhHeader<T> {
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    /// Header length in bytes, `(payload_len + 2) * 4`.
    #[inline]
    pub fn header_len(&self) -> usize {
        (self.buffer.as_ref()[1] as usize + 2) * 4
    }
    #[inline]
    pub fn spi(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn both() {
        let e = EspHeader::new_checked(&[0u8, 0, 1, 0, 0, 0, 0, 5][..]).unwrap();
        assert_eq!((e.spi(), e.seq_number()), (256, 5));
        let a = AhHeader::new_checked(&[1u8, 4, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1][..]).unwrap();
        assert_eq!((a.next_header(), a.header_len(), a.spi()), (1, 24, 9));
        assert!(AhHeader::new_checked(&[0u8; 11][..]).is_err());
    }
}
