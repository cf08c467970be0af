//! GTP (3GPP TS 29.060 / 29.281 / 29.274): GTP-U on UDP 2152, GTP-C on 2123.

use super::{be16, be32, view};

pub const PORT_U: u16 = 2152;
pub const PORT_C: u16 = 2123;
pub const PORT_PRIME: u16 = 3386;
/// Message type of a G-PDU (carries a user IP packet).
pub const MSG_GPDU: u8 = 0xff;

#[derive(Debug, Clone, Copy)]
pub struct GtpHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(GtpHeader, 8);

impl<T: AsRef<[u8]>> GtpHeader<T> {
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 5
    }
    /// Protocol type bit (1 = GTP, 0 = GTP').
    #[inline]
    pub fn protocol_type(&self) -> bool {
        self.buffer.as_ref()[0] & 0x10 != 0
    }
    /// E, S or PN set: the optional 4-byte field is present (version 1).
    #[inline]
    pub fn has_optional(&self) -> bool {
        self.buffer.as_ref()[0] & 0x07 != 0
    }
    #[inline]
    pub fn extension_flag(&self) -> bool {
        self.buffer.as_ref()[0] & 0x04 != 0
    }
    #[inline]
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    /// Length of everything after the first 8 bytes.
    #[inline]
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn teid(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    /// Length of a version 1 header including the optional field and extension headers, or `None`
    /// when an extension header runs past the buffer or has length 0.
    pub fn v1_header_len(&self) -> Option<usize> {
        let b = self.buffer.as_ref();
        if !self.has_optional() {
            return Some(8);
        }
        let mut off = 12;
        let mut next = *b.get(11)?;
        let mut guard = 0;
        while self.extension_flag() && next != 0 {
            let units = *b.get(off)? as usize;
            if units == 0 || guard > 16 {
                return None;
            }
            off += units * 4;
            next = *b.get(off - 1)?;
            guard += 1;
        }
        Some(off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn v1() {
        let g = GtpHeader::new_checked(&[0x30u8, 0xff, 0, 40, 0, 0, 0, 1][..]).unwrap();
        assert_eq!((g.version(), g.msg_type(), g.length(), g.teid()), (1, 0xff, 40, 1));
        assert_eq!(g.v1_header_len(), Some(8));
        let e = [0x34u8, 0xff, 0, 40, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10, 0x05, 0];
        assert_eq!(GtpHeader::new_checked(&e[..]).unwrap().v1_header_len(), Some(16));
        assert_eq!(GtpHeader::new_checked(&e[..13]).unwrap().v1_header_len(), None);
        assert!(GtpHeader::new_checked(&[0u8; 7][..]).is_err());
    }
}
