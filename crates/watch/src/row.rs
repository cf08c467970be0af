//! One flow row held as values by column, for what needs columns by name: the alert's key fields
//! and a saved model's features. Filled by the same writers as every output format.

use std::fmt::{self, Write as _};

use netanom_flow::schema::{write_mac, IpText, ValueSink};

/// One cell: its number when it is one, and its text as a table file would show it.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub num: Option<f64>,
    pub text: String,
}

/// A row's cells in column order; reused across rows.
#[derive(Debug, Default)]
pub struct RowCells {
    pub cells: Vec<Cell>,
    col: usize,
}

impl RowCells {
    pub fn begin(&mut self) {
        self.col = 0;
    }

    /// Cells written since [`RowCells::begin`].
    pub fn len(&self) -> usize {
        self.col
    }

    pub fn is_empty(&self) -> bool {
        self.col == 0
    }

    pub fn get(&self, i: usize) -> Option<&Cell> {
        self.cells[..self.col].get(i)
    }

    fn next(&mut self) -> &mut Cell {
        if self.col == self.cells.len() {
            self.cells.push(Cell::default());
        }
        let c = &mut self.cells[self.col];
        self.col += 1;
        c.num = None;
        c.text.clear();
        c
    }

    fn number(&mut self, v: f64, text: impl fmt::Display) {
        let c = self.next();
        c.num = Some(v);
        let _ = write!(c.text, "{text}");
    }
}

impl ValueSink for RowCells {
    fn char(&mut self, ch: char) {
        self.next().text.push(ch);
    }
    fn uint(&mut self, v: u64) {
        self.number(v as f64, v)
    }
    fn int(&mut self, v: i64) {
        self.number(v as f64, v)
    }
    fn hex(&mut self, v: u64, digits: u8) {
        let c = self.next();
        c.num = Some(v as f64);
        let _ = write!(c.text, "0x{v:0w$x}", w = digits as usize);
    }
    fn float(&mut self, v: f64) {
        self.number(v, v)
    }
    fn double(&mut self, v: f64) {
        self.number(v, format_args!("{v:.6}"))
    }
    fn timestamp(&mut self, ns: u64) {
        let s = ns as f64 / 1e9;
        self.number(s, format_args!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000))
    }
    fn duration(&mut self, ns: u64) {
        self.timestamp(ns)
    }
    fn str(&mut self, s: &str) {
        self.next().text.push_str(s);
    }
    fn short_str(&mut self, s: &str) {
        self.str(s)
    }
    fn ip(&mut self, addr: &IpText) {
        let c = self.next();
        addr.push_to(&mut c.text);
    }
    fn mac(&mut self, mac: &[u8; 6]) {
        let c = self.next();
        let _ = write_mac(&mut c.text, mac);
    }
    fn text(&mut self, f: &dyn Fn(&mut dyn fmt::Write) -> fmt::Result) {
        let c = self.next();
        let _ = f(&mut c.text);
    }
    fn empty(&mut self) {
        self.next();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_numbers_and_text() {
        let mut r = RowCells::default();
        r.begin();
        r.uint(7);
        r.hex(2, 4);
        r.ip(&IpText::V4([10, 77, 0, 66]));
        r.timestamp(1_500_000_000);
        r.empty();
        assert_eq!(r.len(), 5);
        assert_eq!(r.get(0).unwrap().num, Some(7.0));
        assert_eq!(r.get(1).unwrap().text, "0x0002");
        assert_eq!(r.get(2).unwrap().text, "10.77.0.66");
        assert_eq!(r.get(2).unwrap().num, None);
        assert_eq!(r.get(3).unwrap().num, Some(1.5));
        assert_eq!(r.get(4).unwrap().text, "");
        r.begin();
        r.uint(1);
        assert_eq!(r.len(), 1);
        assert!(r.get(1).is_none());
    }
}
