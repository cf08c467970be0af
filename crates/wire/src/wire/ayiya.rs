//! AYIYA ("Anything In Anything", SixXS), UDP port 5072.

use super::view;

pub const PORT: u16 = 5072;

#[derive(Debug, Clone, Copy)]
pub struct AyiyaHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(AyiyaHeader, 8);

impl<T: AsRef<[u8]>> AyiyaHeader<T> {
    /// Header length: 8 fixed bytes, the identity (2^idlen bytes) and the signature (siglen*4).
    pub fn header_len(&self) -> usize {
        let b = self.buffer.as_ref();
        let id_len = 1usize << (b[0] >> 4).min(15);
        let sig_len = ((b[1] >> 4) as usize) * 4;
        8 + id_len + sig_len
    }
    #[inline]
    pub fn opcode(&self) -> u8 {
        self.buffer.as_ref()[2] & 0x0f
    }
    /// IP protocol number of the payload (41 = IPv6, 4 = IPv4).
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn len() {
        let a = AyiyaHeader::new_checked(&[0x41u8, 0x52, 0x11, 41, 0, 0, 0, 0][..]).unwrap();
        assert_eq!(a.header_len(), 8 + 16 + 20);
        assert_eq!((a.opcode(), a.next_header()), (1, 41));
        assert!(AyiyaHeader::new_checked(&[0u8; 7][..]).is_err());
    }
}
