//! IEEE 802.2 LLC header and the SNAP extension.

use super::{be16, view};

pub mod sap {
    pub const SNAP: u8 = 0xaa;
    pub const STP: u8 = 0x42;
    pub const NETBIOS: u8 = 0xf0;
    pub const IPX: u8 = 0xe0;
    pub const HPEXT: u8 = 0xf8;
    pub const IP: u8 = 0x06;
}

/// LLC: DSAP, SSAP, control (1 byte for U-frames, 2 for I/S-frames).
#[derive(Debug, Clone, Copy)]
pub struct LlcHeader<T: AsRef<[u8]>> {
    buffer: T,
}

view!(LlcHeader, 3);

impl<T: AsRef<[u8]>> LlcHeader<T> {
    #[inline]
    pub fn dsap(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    #[inline]
    pub fn ssap(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    #[inline]
    pub fn control(&self) -> u8 {
        self.buffer.as_ref()[2]
    }
    /// Whether a SNAP header (OUI + protocol id) follows.
    #[inline]
    pub fn is_snap(&self) -> bool {
        self.dsap() == sap::SNAP && self.ssap() == sap::SNAP
    }
    /// SNAP protocol id (an EtherType when the OUI is 0), if the SNAP header is complete.
    pub fn snap_pid(&self) -> Option<u16> {
        let b = self.buffer.as_ref();
        if self.is_snap() && b.len() >= 8 {
            Some(be16(b, 6))
        } else {
            None
        }
    }
    pub fn snap_oui(&self) -> Option<u32> {
        let b = self.buffer.as_ref();
        if self.is_snap() && b.len() >= 8 {
            Some(u32::from_be_bytes([0, b[3], b[4], b[5]]))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn snap() {
        let l = LlcHeader::new_checked(&[0xaau8, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0x00][..]).unwrap();
        assert!(l.is_snap());
        assert_eq!(l.snap_oui(), Some(0x0c));
        assert_eq!(l.snap_pid(), Some(0x2000));
        let s = LlcHeader::new_checked(&[0x42u8, 0x42, 0x03][..]).unwrap();
        assert_eq!(s.snap_pid(), None);
        assert!(LlcHeader::new_checked(&[0u8; 2][..]).is_err());
    }
}
