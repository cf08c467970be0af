use std::path::Path;

use crate::{CaptureError, ReadEvent};

/// The container format detected from a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Pcap,
    PcapNg,
}

/// Reads one capture file (or stdin for `-`), whatever its format and compression.
pub struct CaptureReader {
    _priv: (),
}

impl CaptureReader {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        Err(CaptureError::NotACapture { path: path.to_path_buf(), looks_like: "unimplemented".into() })
    }

    pub fn next_event(&mut self) -> Result<Option<ReadEvent<'_>>, CaptureError> {
        Ok(None)
    }
}
