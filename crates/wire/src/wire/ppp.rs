//! PPP framing (RFC 1661/1662): optional `ff 03` address/control, then a 1- or 2-byte protocol.

pub mod proto {
    pub const IPV4: u16 = 0x0021;
    pub const IPV6: u16 = 0x0057;
    pub const MPLS_UCAST: u16 = 0x0281;
    pub const MPLS_MCAST: u16 = 0x0283;
    pub const LCP: u16 = 0xc021;
    pub const PAP: u16 = 0xc023;
    pub const CHAP: u16 = 0xc223;
    pub const IPCP: u16 = 0x8021;
    pub const IPV6CP: u16 = 0x8057;
    pub const CCP: u16 = 0x80fd;
    pub const COMP: u16 = 0x00fd;
}

/// A parsed PPP header: the protocol and the header length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PppHeader {
    pub protocol: u16,
    pub header_len: usize,
}

impl PppHeader {
    /// Parses the header at the start of `b`; `address_control` tells whether an `ff 03` prefix may
    /// be present (HDLC-like framing), in which case it is skipped when found.
    pub fn parse(b: &[u8], address_control: bool) -> super::Result<PppHeader> {
        let mut off = 0;
        if address_control && b.len() >= 2 && b[0] == 0xff && b[1] == 0x03 {
            off = 2;
        }
        let first = *b.get(off).ok_or(super::Truncated)?;
        if first & 1 == 1 {
            // protocol field compressed to one byte
            return Ok(PppHeader { protocol: first as u16, header_len: off + 1 });
        }
        let second = *b.get(off + 1).ok_or(super::Truncated)?;
        Ok(PppHeader { protocol: u16::from_be_bytes([first, second]), header_len: off + 2 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn forms() {
        assert_eq!(
            PppHeader::parse(&[0xff, 0x03, 0x00, 0x21], true).unwrap(),
            PppHeader { protocol: 0x21, header_len: 4 }
        );
        assert_eq!(PppHeader::parse(&[0x00, 0x57], false).unwrap(), PppHeader { protocol: 0x57, header_len: 2 });
        assert_eq!(PppHeader::parse(&[0x21], false).unwrap(), PppHeader { protocol: 0x21, header_len: 1 });
        assert!(PppHeader::parse(&[0xff, 0x03], true).is_err());
        assert!(PppHeader::parse(&[0x00], false).is_err());
    }
}
