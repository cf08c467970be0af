//! Per-reader counters for the end-of-run report.

use crate::DamageKind;

/// Damage events seen so far, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DamageCounts {
    pub truncated_file: u64,
    pub bad_length: u64,
    pub bad_block: u64,
    pub unknown_interface: u64,
}

impl DamageCounts {
    pub fn get(&self, kind: DamageKind) -> u64 {
        match kind {
            DamageKind::TruncatedFile => self.truncated_file,
            DamageKind::BadLength => self.bad_length,
            DamageKind::BadBlock => self.bad_block,
            DamageKind::UnknownInterface => self.unknown_interface,
        }
    }

    pub fn total(&self) -> u64 {
        DamageKind::ALL.iter().map(|&k| self.get(k)).sum()
    }

    /// Kinds with a non-zero count, in [`DamageKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (DamageKind, u64)> + '_ {
        DamageKind::ALL.iter().map(|&k| (k, self.get(k))).filter(|&(_, n)| n > 0)
    }

    pub(crate) fn add(&mut self, kind: DamageKind) {
        let n = match kind {
            DamageKind::TruncatedFile => &mut self.truncated_file,
            DamageKind::BadLength => &mut self.bad_length,
            DamageKind::BadBlock => &mut self.bad_block,
            DamageKind::UnknownInterface => &mut self.unknown_interface,
        };
        *n += 1;
    }
}

/// What one reader has read so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Bytes taken from the file or stdin (the compressed size for compressed input); useful for
    /// progress against the file size.
    pub input_bytes: u64,
    /// Bytes of the (decompressed) capture consumed, headers included.
    pub bytes: u64,
    /// Packets handed out.
    pub packets: u64,
    pub damaged: DamageCounts,
}
