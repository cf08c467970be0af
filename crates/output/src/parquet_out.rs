//! Parquet with a typed Arrow schema: integers and bit fields as UInt64/Int64, floats as Float64,
//! times as UTC nanosecond timestamps, durations as Float64 seconds, everything else as strings.

use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, StringBuilder, TimestampNanosecondBuilder, UInt64Builder};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use netanom_flow::schema::{write_mac, Column, IpText, Kind, ValueSink};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::{TableMeta, TableWriter};

const BATCH_ROWS: usize = 65_536;

enum Builder {
    Str(StringBuilder),
    U64(UInt64Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Ts(TimestampNanosecondBuilder),
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::UInt | Kind::Hex(_) => DataType::UInt64,
        Kind::Int => DataType::Int64,
        Kind::Float | Kind::Double | Kind::Duration => DataType::Float64,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        Kind::Char | Kind::Str | Kind::ShortStr | Kind::Ip | Kind::Mac | Kind::Text => DataType::Utf8,
    }
}

fn builder(kind: Kind) -> Builder {
    match data_type(kind) {
        DataType::UInt64 => Builder::U64(UInt64Builder::new()),
        DataType::Int64 => Builder::I64(Int64Builder::new()),
        DataType::Float64 => Builder::F64(Float64Builder::new()),
        DataType::Timestamp(..) => Builder::Ts(TimestampNanosecondBuilder::new().with_timezone("UTC")),
        _ => Builder::Str(StringBuilder::new()),
    }
}

pub struct ParquetOut {
    writer: ArrowWriter<Box<dyn Write + Send>>,
    schema: Arc<Schema>,
    builders: Vec<Builder>,
    col: usize,
    rows: usize,
    scratch: String,
}

fn to_io(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}

impl ParquetOut {
    pub fn new(out: Box<dyn Write + Send>, columns: Vec<Column>, meta: &TableMeta) -> io::Result<Self> {
        let fields: Vec<Field> = columns.iter().map(|c| Field::new(c.name, data_type(c.kind), true)).collect();
        let schema = Arc::new(Schema::new(fields));
        let kv = vec![
            KeyValue::new("netanom.version".to_string(), meta.tool_version.clone()),
            KeyValue::new("netanom.imitates".to_string(), format!("Tranalyzer2 {}", meta.t2_version)),
            KeyValue::new("netanom.command_line".to_string(), meta.command_line.clone()),
            KeyValue::new(
                "netanom.t2_types".to_string(),
                columns.iter().map(|c| format!("{}={}", c.name, c.t2_type)).collect::<Vec<_>>().join(","),
            ),
        ];
        let props = WriterProperties::builder().set_key_value_metadata(Some(kv)).build();
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(to_io)?;
        let builders = columns.iter().map(|c| builder(c.kind)).collect();
        Ok(ParquetOut { writer, schema, builders, col: 0, rows: 0, scratch: String::new() })
    }

    fn next(&mut self) -> Option<&mut Builder> {
        let b = self.builders.get_mut(self.col);
        self.col += 1;
        b
    }

    fn push_str(&mut self, s: &str) {
        match self.next() {
            Some(Builder::Str(b)) => b.append_value(s),
            Some(other) => append_null(other),
            None => {}
        }
    }

    fn push_u64(&mut self, v: u64) {
        match self.next() {
            Some(Builder::U64(b)) => b.append_value(v),
            Some(Builder::I64(b)) => b.append_value(v as i64),
            Some(Builder::F64(b)) => b.append_value(v as f64),
            Some(Builder::Str(b)) => b.append_value(v.to_string()),
            Some(other) => append_null(other),
            None => {}
        }
    }

    fn flush_batch(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| -> ArrayRef {
                match b {
                    Builder::Str(b) => Arc::new(b.finish()),
                    Builder::U64(b) => Arc::new(b.finish()),
                    Builder::I64(b) => Arc::new(b.finish()),
                    Builder::F64(b) => Arc::new(b.finish()),
                    Builder::Ts(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(to_io)?;
        self.writer.write(&batch).map_err(to_io)?;
        self.rows = 0;
        Ok(())
    }
}

fn append_null(b: &mut Builder) {
    match b {
        Builder::Str(b) => b.append_null(),
        Builder::U64(b) => b.append_null(),
        Builder::I64(b) => b.append_null(),
        Builder::F64(b) => b.append_null(),
        Builder::Ts(b) => b.append_null(),
    }
}

impl ValueSink for ParquetOut {
    fn char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf));
    }
    fn uint(&mut self, v: u64) {
        self.push_u64(v)
    }
    fn int(&mut self, v: i64) {
        match self.next() {
            Some(Builder::I64(b)) => b.append_value(v),
            Some(Builder::F64(b)) => b.append_value(v as f64),
            Some(other) => append_null(other),
            None => {}
        }
    }
    fn hex(&mut self, v: u64, _digits: u8) {
        self.push_u64(v)
    }
    fn float(&mut self, v: f64) {
        match self.next() {
            Some(Builder::F64(b)) => b.append_value(v),
            Some(other) => append_null(other),
            None => {}
        }
    }
    fn double(&mut self, v: f64) {
        self.float(v)
    }
    fn timestamp(&mut self, ns: u64) {
        match self.next() {
            Some(Builder::Ts(b)) => b.append_value(ns.min(i64::MAX as u64) as i64),
            Some(other) => append_null(other),
            None => {}
        }
    }
    fn duration(&mut self, ns: u64) {
        match self.next() {
            Some(Builder::F64(b)) => b.append_value(ns as f64 * 1e-9),
            Some(other) => append_null(other),
            None => {}
        }
    }
    fn str(&mut self, s: &str) {
        self.push_str(s)
    }
    fn short_str(&mut self, s: &str) {
        self.push_str(s)
    }
    fn ip(&mut self, addr: &IpText) {
        match addr {
            IpText::None => {
                if let Some(b) = self.next() {
                    append_null(b)
                }
            }
            a => {
                self.scratch.clear();
                let _ = write!(self.scratch, "{a}");
                let s = std::mem::take(&mut self.scratch);
                self.push_str(&s);
                self.scratch = s;
            }
        }
    }
    fn mac(&mut self, mac: &[u8; 6]) {
        self.scratch.clear();
        let _ = write_mac(&mut self.scratch, mac);
        let s = std::mem::take(&mut self.scratch);
        self.push_str(&s);
        self.scratch = s;
    }
    fn text(&mut self, f: &dyn Fn(&mut dyn fmt::Write) -> fmt::Result) {
        self.scratch.clear();
        let _ = f(&mut self.scratch);
        let s = std::mem::take(&mut self.scratch);
        self.push_str(&s);
        self.scratch = s;
    }
    fn empty(&mut self) {
        if let Some(b) = self.next() {
            append_null(b)
        }
    }
}

impl TableWriter for ParquetOut {
    fn row(&mut self, fill: &mut dyn FnMut(&mut dyn ValueSink)) -> io::Result<()> {
        self.col = 0;
        fill(self);
        // A short row would misalign the columns: pad it with nulls.
        while self.col < self.builders.len() {
            self.empty();
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush_batch()?;
        let mut inner = self.writer.into_inner().map_err(to_io)?;
        inner.flush()
    }
}
