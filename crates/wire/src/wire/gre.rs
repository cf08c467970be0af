//! GRE (RFC 2784/2890) and the enhanced GRE of PPTP (RFC 2637, version 1).

use super::{be16, view};

pub const FLAG_CHECKSUM: u16 = 0x8000;
pub const FLAG_ROUTING: u16 = 0x4000;
pub const FLAG_KEY: u16 = 0x2000;
pub const FLAG_SEQ: u16 = 0x1000;
/// Version 1 only: acknowledgment number present.
pub const FLAG_ACK: u16 = 0x0080;

#[derive(Debug, Clone, Copy)]
pub struct GrePacket<T: AsRef<[u8]>> {
    buffer: T,
}

view!(GrePacket, 4);

impl<T: AsRef<[u8]>> GrePacket<T> {
    #[inline]
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn version(&self) -> u8 {
        (self.flags() & 7) as u8
    }
    /// Protocol type of the payload (an EtherType; 0x880b = PPP for version 1).
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Header length implied by the flags (checksum, key, sequence and, for version 1,
    /// acknowledgment fields). Source routing entries (R bit) are not counted.
    pub fn header_len(&self) -> usize {
        let f = self.flags();
        let mut n = 4;
        if f & (FLAG_CHECKSUM | FLAG_ROUTING) != 0 {
            n += 4;
        }
        if f & FLAG_KEY != 0 {
            n += 4;
        }
        if f & FLAG_SEQ != 0 {
            n += 4;
        }
        if self.version() == 1 && f & FLAG_ACK != 0 {
            n += 4;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn lengths() {
        let g = GrePacket::new_checked(&[0x00u8, 0x00, 0x08, 0x00][..]).unwrap();
        assert_eq!((g.version(), g.protocol(), g.header_len()), (0, 0x0800, 4));
        let g = GrePacket::new_checked(&[0x30u8, 0x81, 0x88, 0x0b][..]).unwrap();
        assert_eq!((g.version(), g.protocol(), g.header_len()), (1, 0x880b, 16));
        assert!(GrePacket::new_checked(&[0u8; 3][..]).is_err());
    }
}
