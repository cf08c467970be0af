//! Delimited text: Tranalyzer2's `_flows.txt` dialect and plain CSV.

use std::fmt::{self, Write as _};
use std::io::{self, Write};

use netanom_flow::schema::{write_mac, Column, IpText, ValueSink};
use netanom_flow::textfmt::{push_g, push_hex, push_i64, push_secs_ns, push_u64};

use crate::TableWriter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Tabs, `%` before the header, strings of type `S` in double quotes, nothing else quoted.
    T2,
    /// Commas, RFC 4180 quoting where a value needs it.
    Csv,
}

pub struct CsvLike {
    out: Box<dyn Write + Send>,
    dialect: Dialect,
    line: String,
    field: String,
    ncols: usize,
    nvals: usize,
}

impl CsvLike {
    pub fn new(mut out: Box<dyn Write + Send>, columns: Vec<Column>, dialect: Dialect) -> io::Result<Self> {
        let sep = if dialect == Dialect::T2 { "\t" } else { "," };
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        if dialect == Dialect::T2 {
            out.write_all(b"%")?;
        }
        out.write_all(names.join(sep).as_bytes())?;
        out.write_all(b"\n")?;
        Ok(CsvLike {
            out,
            dialect,
            line: String::with_capacity(2048),
            field: String::new(),
            ncols: columns.len(),
            nvals: 0,
        })
    }

    fn sep(&mut self) {
        if self.nvals > 0 {
            self.line.push(if self.dialect == Dialect::T2 { '\t' } else { ',' });
        }
        self.nvals += 1;
    }

    /// Appends a value that may need CSV quoting (T2 never quotes these).
    fn push_text(&mut self, s: &str) {
        self.sep();
        if self.dialect == Dialect::Csv && s.contains([',', '"', '\n', '\r']) {
            self.line.push('"');
            self.line.push_str(&s.replace('"', "\"\""));
            self.line.push('"');
        } else {
            // Tabs or newlines inside a value would break the row; T2 never emits them.
            if s.contains(['\t', '\n', '\r']) {
                self.line.push_str(&s.replace(['\t', '\n', '\r'], " "));
            } else {
                self.line.push_str(s);
            }
        }
    }

    fn push_fmt(&mut self, f: impl FnOnce(&mut String) -> fmt::Result) {
        self.field.clear();
        let _ = f(&mut self.field);
        let s = std::mem::take(&mut self.field);
        self.push_text(&s);
        self.field = s;
    }
}

impl ValueSink for CsvLike {
    fn char(&mut self, c: char) {
        self.sep();
        self.line.push(c);
    }
    fn uint(&mut self, v: u64) {
        self.sep();
        push_u64(&mut self.line, v);
    }
    fn int(&mut self, v: i64) {
        self.sep();
        push_i64(&mut self.line, v);
    }
    fn hex(&mut self, v: u64, digits: u8) {
        self.sep();
        push_hex(&mut self.line, v, digits);
    }
    fn float(&mut self, v: f64) {
        self.sep();
        push_g(&mut self.line, v, 7);
    }
    fn double(&mut self, v: f64) {
        self.sep();
        let _ = write!(self.line, "{v:.6}");
    }
    fn timestamp(&mut self, ns: u64) {
        self.sep();
        push_secs_ns(&mut self.line, ns);
    }
    fn duration(&mut self, ns: u64) {
        self.timestamp(ns)
    }
    fn str(&mut self, s: &str) {
        if self.dialect == Dialect::T2 {
            self.sep();
            self.line.push('"');
            self.line.push_str(s);
            self.line.push('"');
        } else {
            self.push_text(s);
        }
    }
    fn short_str(&mut self, s: &str) {
        self.push_text(s);
    }
    fn ip(&mut self, addr: &IpText) {
        self.sep();
        addr.push_to(&mut self.line);
    }
    fn mac(&mut self, mac: &[u8; 6]) {
        self.sep();
        let _ = write_mac(&mut self.line, mac);
    }
    fn text(&mut self, f: &dyn Fn(&mut dyn fmt::Write) -> fmt::Result) {
        if self.dialect == Dialect::T2 {
            // Repeated and compound values are built by our feature code from numbers, addresses
            // and fixed names: no tab or newline can occur, so they go straight into the line.
            self.sep();
            let _ = f(&mut self.line);
        } else {
            self.push_fmt(|s| f(s));
        }
    }
    fn empty(&mut self) {
        self.sep();
    }
}

impl TableWriter for CsvLike {
    fn row(&mut self, fill: &mut dyn FnMut(&mut dyn ValueSink)) -> io::Result<()> {
        self.line.clear();
        self.nvals = 0;
        fill(self);
        debug_assert_eq!(self.nvals, self.ncols, "row has {} values for {} columns", self.nvals, self.ncols);
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.out.flush()
    }
}
