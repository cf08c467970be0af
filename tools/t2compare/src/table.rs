//! Reading a T2-style flow table (tab-separated, header line starting with `%dir`), plain or
//! gzipped, by column name.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::err;
use crate::error::Result;

/// One flow row; `line` is its 1-based line number in the file, for messages.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// Where the table came from, for messages.
    pub origin: String,
    pub names: Vec<String>,
    index: HashMap<String, usize>,
    pub rows: Vec<Row>,
}

impl Table {
    /// Reads a table from a file; gzip is recognised by its magic bytes, not the file name.
    pub fn read(path: &Path) -> Result<Table> {
        let origin = path.display().to_string();
        let mut file = File::open(path).map_err(|e| err!("{origin}: cannot open: {e}"))?;
        let mut magic = [0u8; 2];
        let got = read_up_to(&mut file, &mut magic).map_err(|e| err!("{origin}: {e}"))?;
        let file = File::open(path).map_err(|e| err!("{origin}: cannot reopen: {e}"))?;
        let reader: Box<dyn Read> =
            if got == 2 && magic == [0x1f, 0x8b] { Box::new(MultiGzDecoder::new(file)) } else { Box::new(file) };
        Table::from_reader(BufReader::new(reader), &origin)
    }

    /// Parses a table from text; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Table> {
        Table::from_reader(text.as_bytes(), origin)
    }

    fn from_reader<R: BufRead>(reader: R, origin: &str) -> Result<Table> {
        let mut names: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let line_no = i + 1;
            let line = line.map_err(|e| err!("{origin}:{line_no}: cannot read: {e}"))?;
            let line = line.strip_suffix('\r').unwrap_or(&line);
            match &names {
                None => {
                    if line.starts_with("%dir") {
                        names = Some(line.split('\t').map(str::to_owned).collect());
                    } else if !(line.is_empty() || line.starts_with('#')) {
                        return Err(err!("{origin}:{line_no}: expected the header line starting with `%dir`"));
                    }
                }
                Some(names) => {
                    if line.is_empty() {
                        continue;
                    }
                    let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
                    if fields.len() != names.len() {
                        return Err(err!(
                            "{origin}:{line_no}: {} fields, but the header has {}",
                            fields.len(),
                            names.len()
                        ));
                    }
                    rows.push(Row { line: line_no, fields });
                }
            }
        }
        let names = names.ok_or_else(|| err!("{origin}: no header line starting with `%dir`"))?;
        let mut index = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            if index.insert(n.clone(), i).is_some() {
                return Err(err!("{origin}:1: column `{n}` appears twice"));
            }
        }
        Ok(Table { origin: origin.to_owned(), names, index, rows })
    }

    /// Position of a column, if the table has it.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Position of a column the caller cannot work without.
    pub fn require(&self, name: &str) -> Result<usize> {
        self.col(name).ok_or_else(|| err!("{}: no column `{name}`", self.origin))
    }

    /// A row's value in a column, or "" when the table lacks the column.
    pub fn get<'a>(&self, row: &'a Row, name: &str) -> &'a str {
        self.col(name).map_or("", |c| row.fields[c].as_str())
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_bad_lines() {
        let t = Table::parse("%dir\tflowInd\nA\t1\nB\t1\n", "t").expect("valid table");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.get(&t.rows[1], "%dir"), "B");
        assert_eq!(t.rows[1].line, 3);
        let e = Table::parse("%dir\tflowInd\nA\n", "ours.txt").expect_err("short row");
        assert!(e.0.starts_with("ours.txt:2:"), "{e}");
        assert!(Table::parse("garbage\n", "x").is_err());
    }
}
