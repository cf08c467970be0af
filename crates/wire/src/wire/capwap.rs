//! CAPWAP (RFC 5415): control on UDP 5246, data on 5247. The preamble's type says whether a
//! CAPWAP header (0) or a DTLS header (1) follows.

use super::view;

pub const PORT_CONTROL: u16 = 5246;
pub const PORT_DATA: u16 = 5247;

#[derive(Debug, Clone, Copy)]
pub struct CapwapHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(CapwapHeader, 8);

impl<T: AsRef<[u8]>> CapwapHeader<T> {
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    /// Preamble type: 0 = CAPWAP header follows, 1 = DTLS header follows.
    #[inline]
    pub fn preamble_type(&self) -> u8 {
        self.buffer.as_ref()[0] & 0x0f
    }
    /// Header length in bytes (HLEN, in 4-byte words).
    #[inline]
    pub fn header_len(&self) -> usize {
        ((self.buffer.as_ref()[1] >> 3) as usize) * 4
    }
    /// Wireless binding identifier (1 = IEEE 802.11): bits 18–22 of the first word.
    #[inline]
    pub fn wbid(&self) -> u8 {
        (self.buffer.as_ref()[2] >> 1) & 0x1f
    }
    /// T bit (bit 23): the payload is in the native format of the wireless binding (802.11),
    /// else 802.3.
    #[inline]
    pub fn native_frame(&self) -> bool {
        self.buffer.as_ref()[2] & 0x01 != 0
    }
    /// F bit (bit 24): the packet is a fragment.
    #[inline]
    pub fn fragment(&self) -> bool {
        self.buffer.as_ref()[3] & 0x80 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn header() {
        // HLEN 4 words, RID 0, WBID 1 (802.11), T set; then the same as 802.3 with F set
        let c = CapwapHeader::new_checked(&[0x00u8, 0x20, 0x43, 0x10, 0, 0, 0, 0][..]).unwrap();
        assert_eq!(
            (c.preamble_type(), c.header_len(), c.wbid(), c.native_frame(), c.fragment()),
            (0, 16, 1, true, false)
        );
        let c = CapwapHeader::new_checked(&[0x00u8, 0x20, 0x42, 0x80, 0, 0, 0, 0][..]).unwrap();
        assert_eq!((c.wbid(), c.native_frame(), c.fragment()), (1, false, true));
        assert!(CapwapHeader::new_checked(&[0u8; 7][..]).is_err());
    }
}
