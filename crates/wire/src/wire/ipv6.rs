//! IPv6 header (RFC 8200) and its extension headers.

use super::{be16, be32, view};

pub mod next_header {
    pub const HOPOPT: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const NO_NEXT: u8 = 59;
    pub const DSTOPTS: u8 = 60;
    pub const MOBILITY: u8 = 135;
    pub const HIP: u8 = 139;
    pub const SHIM6: u8 = 140;
}

#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

view!(Ipv6Packet, 40);

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub const HEADER_LEN: usize = 40;

    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        (be16(self.buffer.as_ref(), 0) >> 4) as u8
    }
    #[inline]
    pub fn flow_label(&self) -> u32 {
        be32(self.buffer.as_ref(), 0) & 0x000f_ffff
    }
    #[inline]
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[6]
    }
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[7]
    }
    #[inline]
    pub fn src_addr(&self) -> [u8; 16] {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[8..24]);
        a
    }
    #[inline]
    pub fn dst_addr(&self) -> [u8; 16] {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[24..40]);
        a
    }
}

/// A generic extension header (hop-by-hop, routing, destination options, mobility…): next header
/// and length in 8-octet units beyond the first 8.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(Ipv6ExtHeader, 8);

impl<T: AsRef<[u8]>> Ipv6ExtHeader<T> {
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    /// Header length in bytes, `(hdr_ext_len + 1) * 8`.
    #[inline]
    pub fn header_len(&self) -> usize {
        (self.buffer.as_ref()[1] as usize + 1) * 8
    }
    /// Length of an Authentication Header in bytes, `(payload_len + 2) * 4`.
    #[inline]
    pub fn ah_len(&self) -> usize {
        (self.buffer.as_ref()[1] as usize + 2) * 4
    }
}

/// The fragment extension header.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6FragHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(Ipv6FragHeader, 8);

impl<T: AsRef<[u8]>> Ipv6FragHeader<T> {
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    /// Fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u32 {
        (be16(self.buffer.as_ref(), 2) & 0xfff8) as u32
    }
    #[inline]
    pub fn more_frags(&self) -> bool {
        self.buffer.as_ref()[3] & 1 != 0
    }
    #[inline]
    pub fn ident(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn header_and_ext() {
        let mut h = [0u8; 40];
        h[0] = 0x60;
        h[4] = 0;
        h[5] = 16;
        h[6] = 44;
        h[7] = 64;
        h[23] = 1;
        let p = Ipv6Packet::new_checked(&h[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.payload_len(), 16);
        assert_eq!(p.next_header(), 44);
        assert_eq!(p.src_addr()[15], 1);
        assert!(Ipv6Packet::new_checked(&h[..39]).is_err());
        let f = Ipv6FragHeader::new_checked(&[17u8, 0, 0x05, 0xa9, 0, 0, 0, 7][..]).unwrap();
        assert_eq!(f.frag_offset(), 0x5a8);
        assert!(f.more_frags());
        assert_eq!(f.ident(), 7);
        let e = Ipv6ExtHeader::new_checked(&[6u8, 1, 0, 0, 0, 0, 0, 0][..]).unwrap();
        assert_eq!(e.header_len(), 16);
        assert_eq!(e.ah_len(), 12);
    }
}
