//! Errors of the ML crate: every message names the file, and for data errors the line and column.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MlError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{file}:{line}: {msg}")]
    BadRow { file: String, line: usize, msg: String },
    #[error("{file}: {msg}")]
    Data { file: String, msg: String },
    #[error("{0}")]
    Config(String),
    #[error("model {path}: {msg}")]
    Model { path: String, msg: String },
}

pub type Result<T> = std::result::Result<T, MlError>;

pub(crate) fn config<T>(msg: impl Into<String>) -> Result<T> {
    Err(MlError::Config(msg.into()))
}
