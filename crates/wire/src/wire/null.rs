//! BSD loopback encapsulation (`LINKTYPE_NULL` host byte order, `LINKTYPE_LOOP` network order): a
//! 4-byte address family.

pub const HEADER_LEN: usize = 4;

/// What a loopback family value designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Ipv4,
    Ipv6,
    Other(u32),
}

/// Decodes the family from the first 4 bytes, accepting both byte orders (the capture's host order
/// is unknown for `LINKTYPE_NULL`): 2 is AF_INET; 10, 24, 28 and 30 are AF_INET6 on the various
/// systems.
pub fn family(b: &[u8]) -> super::Result<Family> {
    if b.len() < HEADER_LEN {
        return Err(super::Truncated);
    }
    let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let v = if le <= 0xffff { le } else { be };
    Ok(match v {
        2 => Family::Ipv4,
        10 | 24 | 28 | 30 => Family::Ipv6,
        x => Family::Other(x),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn orders() {
        assert_eq!(family(&[2, 0, 0, 0]).unwrap(), Family::Ipv4);
        assert_eq!(family(&[0, 0, 0, 2]).unwrap(), Family::Ipv4);
        assert_eq!(family(&[30, 0, 0, 0]).unwrap(), Family::Ipv6);
        assert_eq!(family(&[0, 0, 0, 24]).unwrap(), Family::Ipv6);
        assert_eq!(family(&[0, 0, 0, 7]).unwrap(), Family::Other(7));
        assert!(family(&[2, 0, 0]).is_err());
    }
}
