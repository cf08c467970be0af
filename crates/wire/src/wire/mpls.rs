//! MPLS label stack entry (RFC 3032).

use super::{be32, view};

#[derive(Debug, Clone, Copy)]
pub struct MplsLabel<T: AsRef<[u8]>> {
    buffer: T,
}

view!(MplsLabel, 4);

impl<T: AsRef<[u8]>> MplsLabel<T> {
    #[inline]
    fn word(&self) -> u32 {
        be32(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn label(&self) -> u32 {
        self.word() >> 12
    }
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        ((self.word() >> 9) & 7) as u8
    }
    /// Bottom of stack.
    #[inline]
    pub fn bottom(&self) -> bool {
        self.word() & 0x100 != 0
    }
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.word() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn entry() {
        let m = MplsLabel::new_checked(&[0x00u8, 0x01, 0x21, 0x40][..]).unwrap();
        assert_eq!(m.label(), 18);
        assert!(m.bottom());
        assert_eq!(m.ttl(), 64);
        assert!(MplsLabel::new_checked(&[0u8; 2][..]).is_err());
    }
}
