//! L2TP: version 2 over UDP 1701 (RFC 2661) and version 3 over IP protocol 115 (RFC 3931).

use super::{be16, view};

pub const PORT: u16 = 1701;

/// L2TPv2 header (flags/version first).
#[derive(Debug, Clone, Copy)]
pub struct L2tpHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(L2tpHeader, 6);

impl<T: AsRef<[u8]>> L2tpHeader<T> {
    #[inline]
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn version(&self) -> u8 {
        (self.flags() & 0x0f) as u8
    }
    /// T bit: control message.
    #[inline]
    pub fn is_control(&self) -> bool {
        self.flags() & 0x8000 != 0
    }
    /// Header length of a version 2 header from its flags (length, sequence, offset fields), or
    /// `None` if the offset field runs past the buffer.
    pub fn v2_header_len(&self) -> Option<usize> {
        let f = self.flags();
        let mut n = 6;
        if f & 0x4000 != 0 {
            n += 2;
        }
        if f & 0x0800 != 0 {
            n += 4;
        }
        if f & 0x0200 != 0 {
            let b = self.buffer.as_ref();
            if b.len() < n + 2 {
                return None;
            }
            n += 2 + be16(b, n) as usize;
        }
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn v2() {
        let l = L2tpHeader::new_checked(&[0x40u8, 0x02, 0, 20, 0, 1, 0, 2][..]).unwrap();
        assert_eq!((l.version(), l.is_control(), l.v2_header_len()), (2, false, Some(8)));
        assert!(L2tpHeader::new_checked(&[0u8; 5][..]).is_err());
    }
}
