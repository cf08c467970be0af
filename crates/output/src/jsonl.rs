//! JSON lines: one object per row, numbers as numbers, bit fields as unsigned integers,
//! timestamps as seconds with nanosecond decimals, repeated/compound values as Tranalyzer2 text.

use std::fmt::{self, Write as _};
use std::io::{self, Write};

use netanom_flow::schema::{write_mac, Column, IpText, ValueSink};
use netanom_flow::textfmt::{push_g, push_i64, push_secs_ns, push_u64};

use crate::TableWriter;

pub struct Jsonl {
    out: Box<dyn Write + Send>,
    columns: Vec<Column>,
    line: String,
    scratch: String,
    i: usize,
}

impl Jsonl {
    pub fn new(out: Box<dyn Write + Send>, columns: Vec<Column>) -> Self {
        Jsonl { out, columns, line: String::with_capacity(4096), scratch: String::new(), i: 0 }
    }

    fn key(&mut self) {
        if self.i > 0 {
            self.line.push(',');
        }
        let name = self.columns.get(self.i).map(|c| c.name).unwrap_or("?");
        push_json_str(&mut self.line, name);
        self.line.push(':');
        self.i += 1;
    }
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_number(out: &mut String, v: f64, prec: usize) {
    if v.is_finite() {
        push_g(out, v, prec);
    } else {
        // JSON has no NaN or infinity.
        out.push_str("null");
    }
}

impl ValueSink for Jsonl {
    fn char(&mut self, c: char) {
        self.key();
        let mut b = [0u8; 4];
        push_json_str(&mut self.line, c.encode_utf8(&mut b));
    }
    fn uint(&mut self, v: u64) {
        self.key();
        push_u64(&mut self.line, v);
    }
    fn int(&mut self, v: i64) {
        self.key();
        push_i64(&mut self.line, v);
    }
    fn hex(&mut self, v: u64, _digits: u8) {
        self.key();
        push_u64(&mut self.line, v);
    }
    fn float(&mut self, v: f64) {
        self.key();
        push_number(&mut self.line, v, 7);
    }
    fn double(&mut self, v: f64) {
        self.key();
        push_number(&mut self.line, v, 15);
    }
    fn timestamp(&mut self, ns: u64) {
        self.key();
        push_secs_ns(&mut self.line, ns);
    }
    fn duration(&mut self, ns: u64) {
        self.timestamp(ns)
    }
    fn str(&mut self, s: &str) {
        self.key();
        push_json_str(&mut self.line, s);
    }
    fn short_str(&mut self, s: &str) {
        self.str(s)
    }
    fn ip(&mut self, addr: &IpText) {
        self.key();
        match addr {
            IpText::None => self.line.push_str("null"),
            a => {
                let _ = write!(self.line, "\"{a}\"");
            }
        }
    }
    fn mac(&mut self, mac: &[u8; 6]) {
        self.key();
        self.line.push('"');
        let _ = write_mac(&mut self.line, mac);
        self.line.push('"');
    }
    fn text(&mut self, f: &dyn Fn(&mut dyn fmt::Write) -> fmt::Result) {
        self.key();
        self.scratch.clear();
        let _ = f(&mut self.scratch);
        let s = std::mem::take(&mut self.scratch);
        push_json_str(&mut self.line, &s);
        self.scratch = s;
    }
    fn empty(&mut self) {
        self.key();
        self.line.push_str("null");
    }
}

impl TableWriter for Jsonl {
    fn row(&mut self, fill: &mut dyn FnMut(&mut dyn ValueSink)) -> io::Result<()> {
        self.line.clear();
        self.line.push('{');
        self.i = 0;
        fill(self);
        self.line.push_str("}\n");
        self.out.write_all(self.line.as_bytes())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.out.flush()
    }
}
