//! Byte-order-aware field access. Callers check lengths first; the accessors still return 0
//! rather than panic if a slice is short, so a missed check cannot crash the reader.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    pub(crate) fn u16(self, b: &[u8], at: usize) -> u16 {
        match b.get(at..at + 2).and_then(|s| <[u8; 2]>::try_from(s).ok()) {
            Some(a) if self == Endian::Little => u16::from_le_bytes(a),
            Some(a) => u16::from_be_bytes(a),
            None => 0,
        }
    }

    pub(crate) fn u32(self, b: &[u8], at: usize) -> u32 {
        match b.get(at..at + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()) {
            Some(a) if self == Endian::Little => u32::from_le_bytes(a),
            Some(a) => u32::from_be_bytes(a),
            None => 0,
        }
    }

    pub(crate) fn u64(self, b: &[u8], at: usize) -> u64 {
        match b.get(at..at + 8).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(a) if self == Endian::Little => u64::from_le_bytes(a),
            Some(a) => u64::from_be_bytes(a),
            None => 0,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Endian::Little => "little-endian",
            Endian::Big => "big-endian",
        }
    }
}
