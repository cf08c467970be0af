//! IEEE 802.11 MAC header (data frames), and the radiotap and PPI capture headers in front of it.

use super::{be16, mac, view};

#[derive(Debug, Clone, Copy)]
pub struct WlanHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(WlanHeader, 10);

impl<T: AsRef<[u8]>> WlanHeader<T> {
    /// Frame control field as transmitted (little-endian on the wire; returned as the first byte in
    /// the high half).
    #[inline]
    pub fn frame_control(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    /// 0 management, 1 control, 2 data.
    #[inline]
    pub fn frame_type(&self) -> u8 {
        (self.buffer.as_ref()[0] >> 2) & 3
    }
    #[inline]
    pub fn subtype(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    #[inline]
    pub fn to_ds(&self) -> bool {
        self.buffer.as_ref()[1] & 1 != 0
    }
    #[inline]
    pub fn from_ds(&self) -> bool {
        self.buffer.as_ref()[1] & 2 != 0
    }
    #[inline]
    pub fn protected(&self) -> bool {
        self.buffer.as_ref()[1] & 0x40 != 0
    }
    /// Header length of a data frame (24, +6 with 4 addresses, +2 for QoS subtypes), or `None` for
    /// other frame types.
    pub fn data_header_len(&self) -> Option<usize> {
        let b = self.buffer.as_ref();
        data_header_len(b[0], b[1])
    }
    /// Address 1/2/3 (when the buffer holds them).
    pub fn addr(&self, i: usize) -> Option<[u8; 6]> {
        let off = 4 + 6 * i.checked_sub(1)?;
        if i > 3 || self.buffer.as_ref().len() < off + 6 {
            return None;
        }
        Some(mac(self.buffer.as_ref(), off))
    }
}

/// Flags bit of the second frame-control byte: the body is encrypted.
pub const PROTECTED: u8 = 0x40;

/// [`WlanHeader::data_header_len`] from the two frame-control bytes in transmission order, for
/// callers that had to reorder them.
pub fn data_header_len(fc0: u8, fc1: u8) -> Option<usize> {
    if (fc0 >> 2) & 3 != 2 {
        return None;
    }
    let mut n = 24;
    if fc1 & 3 == 3 {
        n += 6;
    }
    if (fc0 >> 4) & 0x08 != 0 {
        n += 2;
    }
    Some(n)
}

/// Length of a radiotap header (little-endian `it_len` at offset 2).
pub fn radiotap_len(b: &[u8]) -> super::Result<usize> {
    if b.len() < 4 {
        return Err(super::Truncated);
    }
    Ok(u16::from_le_bytes([b[2], b[3]]) as usize)
}

/// PPI header: length (LE at 2) and DLT of the payload (LE u32 at 4).
pub fn ppi_header(b: &[u8]) -> super::Result<(usize, u32)> {
    if b.len() < 8 {
        return Err(super::Truncated);
    }
    Ok((u16::from_le_bytes([b[2], b[3]]) as usize, u32::from_le_bytes([b[4], b[5], b[6], b[7]])))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn data_frame() {
        let mut h = [0u8; 26];
        h[0] = 0x88; // QoS data
        h[1] = 0x01; // to DS
        let w = WlanHeader::new_checked(&h[..]).unwrap();
        assert_eq!(w.frame_type(), 2);
        assert_eq!(w.data_header_len(), Some(26));
        assert!(w.addr(0).is_none());
        assert!(w.addr(3).is_some());
        assert_eq!(radiotap_len(&[0, 0, 18, 0]).unwrap(), 18);
        assert!(WlanHeader::new_checked(&h[..9]).is_err());
    }
}
