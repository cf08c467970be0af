//! PPPoE header (RFC 2516), discovery and session stages.

use super::{be16, view};

#[derive(Debug, Clone, Copy)]
pub struct PppoeHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(PppoeHeader, 6);

impl<T: AsRef<[u8]>> PppoeHeader<T> {
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    #[inline]
    pub fn kind(&self) -> u8 {
        self.buffer.as_ref()[0] & 0x0f
    }
    #[inline]
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    #[inline]
    pub fn session_id(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Payload length (for the session stage: PPP protocol field included).
    #[inline]
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn header() {
        let p = PppoeHeader::new_checked(&[0x11u8, 0x00, 0x12, 0x34, 0x00, 0x2a][..]).unwrap();
        assert_eq!((p.version(), p.kind(), p.code()), (1, 1, 0));
        assert_eq!(p.session_id(), 0x1234);
        assert_eq!(p.length(), 42);
        assert!(PppoeHeader::new_checked(&[0u8; 5][..]).is_err());
    }
}
