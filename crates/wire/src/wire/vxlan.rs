//! VXLAN header (RFC 7348), UDP port 4789 (8472 on older Linux).

use super::view;

pub const PORT: u16 = 4789;

#[derive(Debug, Clone, Copy)]
pub struct VxlanHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(VxlanHeader, 8);

impl<T: AsRef<[u8]>> VxlanHeader<T> {
    pub const HEADER_LEN: usize = 8;

    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    /// VXLAN network identifier.
    #[inline]
    pub fn vni(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([0, b[4], b[5], b[6]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn vni() {
        let v = VxlanHeader::new_checked(&[0x08u8, 0, 0, 0, 0, 0x01, 0x02, 0][..]).unwrap();
        assert_eq!((v.flags(), v.vni()), (0x08, 0x102));
        assert!(VxlanHeader::new_checked(&[0u8; 7][..]).is_err());
    }
}
