//! Teredo (RFC 4380), UDP port 3544: optional authentication and origin indication headers in front
//! of an IPv6 packet.

pub const PORT: u16 = 3544;

/// Offset of the IPv6 header inside a Teredo UDP payload, or `None` if the payload is not an IPv6
/// packet behind well-formed Teredo headers.
pub fn ipv6_offset(b: &[u8]) -> Option<usize> {
    let mut off = 0;
    // authentication header: 0x0001, id-len, auth-len, id, auth, nonce (8), confirmation (1)
    if b.len() >= off + 4 && b[off] == 0 && b[off + 1] == 1 {
        off += 4 + b[off + 2] as usize + b[off + 3] as usize + 9;
    }
    // origin indication: 0x0000, port (2), address (4)
    if b.len() >= off + 2 && b[off] == 0 && b[off + 1] == 0 {
        off += 8;
    }
    match b.get(off) {
        Some(v) if v >> 4 == 6 => Some(off),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn headers() {
        assert_eq!(ipv6_offset(&[0x60, 0, 0, 0]), Some(0));
        assert_eq!(ipv6_offset(&[0, 0, 1, 2, 3, 4, 5, 6, 0x60]), Some(8));
        let mut a = vec![0u8, 1, 0, 0];
        a.extend_from_slice(&[0; 9]);
        a.push(0x60);
        assert_eq!(ipv6_offset(&a), Some(13));
        assert_eq!(ipv6_offset(&[0x45]), None);
        assert_eq!(ipv6_offset(&[]), None);
    }
}
