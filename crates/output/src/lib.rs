//! Writing flow tables.
//!
//! Every format is driven the same way: [`open`] with the column list, then one
//! [`TableWriter::row`] call per row whose closure pushes the values through a
//! [`ValueSink`](netanom_flow::schema::ValueSink), then [`TableWriter::finish`]. The flow crate
//! therefore never knows about formats, and a format never knows about features.

mod csvlike;
mod headers;
mod jsonl;
mod parquet_out;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use netanom_flow::schema::{Column, ValueSink};

pub use headers::{headers_path, write_headers};

/// Output formats of `netanom flows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tranalyzer2's `_flows.txt`: tab-separated, `%` header, T2 value formatting.
    T2,
    Csv,
    /// One JSON object per row, typed values.
    Jsonl,
    /// Parquet with a typed Arrow schema.
    Parquet,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "t2" | "tsv" | "txt" => Some(Format::T2),
            "csv" => Some(Format::Csv),
            "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }
}

/// Provenance recorded with the table (sidecar file or Parquet metadata).
#[derive(Debug, Clone, Default)]
pub struct TableMeta {
    pub tool_version: String,
    pub t2_version: String,
    pub command_line: String,
}

/// A table being written.
pub trait TableWriter: Send {
    /// Writes one row; `fill` must push exactly one value per column, in order.
    fn row(&mut self, fill: &mut dyn FnMut(&mut dyn ValueSink)) -> io::Result<()>;
    /// Flushes and closes the output.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// Where a table goes.
#[derive(Debug, Clone)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

impl Destination {
    pub fn from_arg(s: &str) -> Destination {
        if s == "-" {
            Destination::Stdout
        } else {
            Destination::File(PathBuf::from(s))
        }
    }

    /// The destination as a buffered byte stream (what [`open_to`] takes).
    pub fn open(&self) -> io::Result<Box<dyn Write + Send>> {
        Ok(match self {
            Destination::Stdout => Box::new(BufWriter::with_capacity(1 << 16, io::stdout())),
            Destination::File(p) => Box::new(BufWriter::with_capacity(1 << 16, create(p)?)),
        })
    }
}

fn create(p: &Path) -> io::Result<File> {
    File::create(p).map_err(|e| io::Error::new(e.kind(), format!("{}: cannot create: {e}", p.display())))
}

/// Opens a writer for `columns` in `format` at `dest`.
pub fn open(
    format: Format,
    dest: &Destination,
    columns: Vec<Column>,
    meta: &TableMeta,
) -> io::Result<Box<dyn TableWriter>> {
    open_to(format, dest.open()?, columns, meta)
}

/// [`open`] onto a byte stream: lets a caller format rows in pieces elsewhere (one writer per
/// thread into memory) and append them to the same stream.
pub fn open_to(
    format: Format,
    out: Box<dyn Write + Send>,
    columns: Vec<Column>,
    meta: &TableMeta,
) -> io::Result<Box<dyn TableWriter>> {
    Ok(match format {
        Format::T2 => Box::new(csvlike::CsvLike::new(out, columns, csvlike::Dialect::T2)?),
        Format::Csv => Box::new(csvlike::CsvLike::new(out, columns, csvlike::Dialect::Csv)?),
        Format::Jsonl => Box::new(jsonl::Jsonl::new(out, columns)),
        Format::Parquet => Box::new(parquet_out::ParquetOut::new(out, columns, meta)?),
    })
}
