use std::path::PathBuf;

/// Errors that end reading a capture.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: cannot open: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    /// `looks_like` says what the data is instead, e.g. "text beginning \"GET / HTTP/1.1\" (first bytes 47 45 54 …)".
    #[error("{path}: not a packet capture: looks like {looks_like}")]
    NotACapture { path: PathBuf, looks_like: String },
    #[error("{path}: read error at offset {offset}: {source}")]
    Io { path: PathBuf, offset: u64, source: std::io::Error },
}
