//! Reading flow tables: Tranalyzer2 TSV (`%` header), CSV/TSV with or without a header,
//! gzip-compressed text, and Parquet. The format is detected from the first bytes, never the
//! file name.
//!
//! Cell policy (documented in docs/ml.md):
//! - missing: empty, `-`, `NA`, `N/A`, `NaN`, `nan`, `null`, `None`, `?` → `NaN` in a numeric
//!   column (counted as missing); kept as a category of its own in a text column.
//! - `inf`, `-inf`, `Infinity` (any case) → ±∞ in a numeric column (counted as infinite).
//! - `0x…` → the hexadecimal integer.
//! - a column is numeric when every non-missing cell reads as a number (or no cell has a value);
//!   when at most 1% of its cells do not, those cells are *bad cells*: an error naming file,
//!   line and column, or with `skip_bad_rows` the row is skipped and counted. Otherwise the
//!   column is text (a category per distinct cell).

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;

use rayon::prelude::*;

use crate::error::{MlError, Result};

/// How to read a table.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The file has no header line (names come from `names`, then `colN`).
    pub no_header: bool,
    /// Column names to use instead of (with `no_header`) a header line.
    pub names: Option<Vec<String>>,
    /// Skip rows with the wrong number of fields or unreadable numbers, counting them.
    pub skip_bad_rows: bool,
    /// Columns always kept as text (the label).
    pub keep_text: Vec<String>,
    /// Read only these data rows (0-based, ascending; a sample of a large table): the others are
    /// not parsed at all.
    pub rows: Option<Vec<usize>>,
}

/// A numeric column: missing cells are `NaN`, infinite cells ±∞.
#[derive(Clone, Debug)]
pub struct NumColumn {
    pub values: Vec<f64>,
    pub missing: usize,
    pub infinite: usize,
}

#[derive(Clone, Debug)]
pub enum Column {
    Num(NumColumn),
    Text(Vec<String>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Num(c) => c.values.len(),
            Column::Text(t) => t.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A typed table, column-major.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file it came from (for messages).
    pub source: String,
    pub names: Vec<String>,
    pub columns: Vec<Column>,
    /// 1-based line in the file (or 1-based row for Parquet) of each row.
    pub lines: Vec<usize>,
    /// Rows skipped with `skip_bad_rows`.
    pub bad_rows_skipped: usize,
    /// A few messages describing skipped rows.
    pub bad_row_examples: Vec<String>,
}

impl Table {
    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
    /// The cells of a column as text (numbers formatted back), for labels.
    pub fn text_column(&self, idx: usize) -> Vec<String> {
        match &self.columns[idx] {
            Column::Text(t) => t.clone(),
            Column::Num(c) => c.values.iter().map(|v| format_num(*v)).collect(),
        }
    }
    /// Keep only the given rows (in the given order).
    pub fn take_rows(&self, rows: &[usize]) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Num(n) => {
                    let values: Vec<f64> = rows.iter().map(|&r| n.values[r]).collect();
                    let missing = values.iter().filter(|v| v.is_nan()).count();
                    let infinite = values.iter().filter(|v| v.is_infinite()).count();
                    Column::Num(NumColumn { values, missing, infinite })
                }
                Column::Text(t) => Column::Text(rows.iter().map(|&r| t[r].clone()).collect()),
            })
            .collect();
        Table {
            source: self.source.clone(),
            names: self.names.clone(),
            columns,
            lines: rows.iter().map(|&r| self.lines[r]).collect(),
            bad_rows_skipped: self.bad_rows_skipped,
            bad_row_examples: self.bad_row_examples.clone(),
        }
    }
}

pub(crate) fn format_num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Read a names file: one name per line; a line `name,type` (NSL-KDD's `Field_Names.csv`)
/// gives `name`. Empty lines and lines starting with `#` are ignored.
pub fn read_names_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| MlError::Io { path: path.to_path_buf(), source: e })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(text
        .lines()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split([',', '\t']).next().unwrap_or(l).trim().to_string())
        .collect())
}

/// Read a table, detecting its format from its first bytes.
pub fn read_table(path: &Path, opts: &LoadOptions) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| MlError::Io { path: path.to_path_buf(), source: e })?;
    let source = path.display().to_string();
    if bytes.starts_with(b"PAR1") {
        let t = crate::parquet_io::read_parquet(path, opts)?;
        return Ok(match &opts.rows {
            Some(keep) => t.take_rows(&keep.iter().copied().filter(|&r| r < t.n_rows()).collect::<Vec<_>>()),
            None => t,
        });
    }
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| MlError::Data { file: source.clone(), msg: format!("gzip: {e}") })?;
        out
    } else {
        bytes
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => Cow::Borrowed(t),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(MlError::BadRow { file: source, line, msg: "not valid UTF-8 text".into() });
        }
    };
    parse_text(&source, &text, opts)
}

/// Parse delimited text (exposed for tests).
pub fn parse_text(source: &str, text: &str, opts: &LoadOptions) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut header: Option<Vec<String>> = None;
    let mut delim: Option<u8> = None;
    // (line number, line) of every data line; split into cells below, in parallel.
    let mut data: Vec<(usize, &str)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('%') || (line.starts_with('#') && data.is_empty() && header.is_none()) {
            // Tranalyzer2 header (`%dir\tflowInd...`) or a comment line.
            if header.is_none() && delim.is_none() && line.starts_with('%') && line.contains('\t') && !opts.no_header {
                delim = Some(b'\t');
                header = Some(split_line(&line[1..], b'\t').into_iter().map(|c| c.into_owned()).collect());
            }
            continue;
        }
        if delim.is_none() {
            let count = |c: u8| line.bytes().filter(|&b| b == c).count();
            let (tabs, commas, semis) = (count(b'\t'), count(b','), count(b';'));
            let d = if tabs > 0 && tabs >= commas {
                b'\t'
            } else if commas == 0 && semis > 0 {
                b';'
            } else {
                b','
            };
            delim = Some(d);
            if !opts.no_header {
                header = Some(split_line(line, d).into_iter().map(|c| c.into_owned()).collect());
                continue;
            }
        }
        data.push((i + 1, line));
    }
    if let Some(keep) = &opts.rows {
        data = keep.iter().filter_map(|&r| data.get(r).copied()).collect();
    }
    let delim = delim.unwrap_or(b',');
    let n_cols = match (&header, data.first()) {
        (Some(h), _) => h.len(),
        (None, Some((_, l))) => split_line(l, delim).len(),
        (None, None) => 0,
    };
    // Split in parallel chunks, straight into columns; rows with the wrong field count are set
    // aside, in order.
    type Chunk<'a> = (Vec<Vec<Cow<'a, str>>>, Vec<usize>, Vec<(usize, usize)>);
    let chunks: Vec<Chunk> = data
        .par_chunks(4096)
        .map(|ch| {
            let mut cols: Vec<Vec<Cow<str>>> = (0..n_cols).map(|_| Vec::with_capacity(ch.len())).collect();
            let (mut lines, mut wrong) = (Vec::with_capacity(ch.len()), Vec::new());
            for &(ln, l) in ch {
                let c = split_line(l, delim);
                if c.len() == n_cols {
                    cols.iter_mut().zip(c).for_each(|(col, cell)| col.push(cell));
                    lines.push(ln);
                } else {
                    wrong.push((ln, c.len()));
                }
            }
            (cols, lines, wrong)
        })
        .collect();
    let mut bad_rows_skipped = 0usize;
    let mut bad_row_examples = Vec::new();
    for (ln, found) in chunks.iter().flat_map(|c| c.2.iter().copied()) {
        let msg = format!("expected {n_cols} fields, found {found}");
        if !opts.skip_bad_rows {
            return Err(MlError::BadRow {
                file: source.to_string(),
                line: ln,
                msg: format!("{msg} (use --skip-bad-rows to skip such rows)"),
            });
        }
        bad_rows_skipped += 1;
        if bad_row_examples.len() < 5 {
            bad_row_examples.push(format!("{source}:{ln}: {msg}"));
        }
    }
    let lines: Vec<usize> = chunks.iter().flat_map(|c| c.1.iter().copied()).collect();
    let names = resolve_names(source, header, opts, n_cols)?;
    let cols: Vec<Vec<&str>> = (0..n_cols)
        .into_par_iter()
        .map(|c| chunks.iter().flat_map(|ch| ch.0[c].iter().map(|s| s.as_ref())).collect())
        .collect();
    build_table(source, names, cols, lines, bad_rows_skipped, bad_row_examples, opts)
}

pub(crate) fn resolve_names(
    source: &str,
    header: Option<Vec<String>>,
    opts: &LoadOptions,
    n_cols: usize,
) -> Result<Vec<String>> {
    if n_cols == 0 {
        // an empty file: no columns, whatever names were offered
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = match (&opts.names, header) {
        (Some(n), _) => n.clone(),
        (None, Some(h)) => h,
        (None, None) => Vec::new(),
    };
    if names.len() > n_cols {
        return Err(MlError::Data {
            file: source.into(),
            msg: format!("{} column names given but the table has {n_cols} columns", names.len()),
        });
    }
    while names.len() < n_cols {
        names.push(format!("col{}", names.len() + 1));
    }
    for n in names.iter_mut() {
        *n = n.trim().trim_matches('"').to_string();
    }
    let mut seen = HashSet::new();
    for n in &names {
        if !seen.insert(n.clone()) {
            return Err(MlError::Data { file: source.into(), msg: format!("duplicate column name '{n}'") });
        }
    }
    Ok(names)
}

/// A column typed from its cells: values (numeric) or text, and the rows of its bad cells.
struct Typed {
    column: Column,
    bad: Vec<usize>,
}

fn type_column(cells: &[&str], force_text: bool) -> Typed {
    let n_rows = cells.len();
    let mut values = Vec::with_capacity(if force_text { 0 } else { n_rows });
    let mut bad: Vec<usize> = Vec::new();
    let mut non_missing = 0usize;
    if !force_text {
        for (r, cell) in cells.iter().enumerate() {
            match parse_cell(cell) {
                Cell::Missing => values.push(f64::NAN),
                Cell::Num(v) => {
                    non_missing += 1;
                    values.push(v)
                }
                Cell::Bad => {
                    non_missing += 1;
                    bad.push(r);
                    values.push(f64::NAN);
                    if bad.len() * 100 > n_rows.max(1) {
                        break;
                    }
                }
            }
        }
    }
    // A column with no values at all is numeric (all missing): it says nothing, and typing
    // it as text would make the same column text in one file and numeric in another.
    let numeric = !force_text && bad.len() * 100 <= non_missing && (bad.len() < non_missing || non_missing == 0);
    if numeric {
        let missing = values.iter().filter(|v| v.is_nan()).count() - bad.len();
        let infinite = values.iter().filter(|v| v.is_infinite()).count();
        Typed { column: Column::Num(NumColumn { values, missing, infinite }), bad }
    } else {
        Typed { column: Column::Text(cells.iter().map(|s| s.to_string()).collect()), bad: Vec::new() }
    }
}

/// Type the raw text columns (in parallel) and drop rows with bad cells when asked.
pub(crate) fn build_table(
    source: &str,
    names: Vec<String>,
    cols: Vec<Vec<&str>>,
    lines: Vec<usize>,
    mut bad_rows_skipped: usize,
    mut bad_row_examples: Vec<String>,
    opts: &LoadOptions,
) -> Result<Table> {
    let n_rows = lines.len();
    let typed: Vec<Typed> = cols
        .par_iter()
        .enumerate()
        .map(|(c, cells)| type_column(cells, opts.keep_text.iter().any(|k| k == &names[c])))
        .collect();
    // The first bad cell in file order (then leftmost) is the one reported.
    let first_bad = typed.iter().enumerate().filter_map(|(c, t)| t.bad.first().map(|&r| (r, c))).min();
    if let (Some((r, c)), false) = (first_bad, opts.skip_bad_rows) {
        return Err(MlError::BadRow {
            file: source.to_string(),
            line: lines[r],
            msg: format!(
                "column {} ('{}'): cannot read '{}' as a number (use --skip-bad-rows to skip such rows)",
                c + 1,
                names[c],
                cols[c][r]
            ),
        });
    }
    let mut bad_rows: Vec<bool> = vec![false; n_rows];
    for (c, t) in typed.iter().enumerate() {
        for &r in &t.bad {
            if !bad_rows[r] && bad_row_examples.len() < 5 {
                bad_row_examples.push(format!(
                    "{source}:{}: column {} ('{}'): '{}' is not a number",
                    lines[r],
                    c + 1,
                    names[c],
                    cols[c][r]
                ));
            }
            bad_rows[r] = true;
        }
    }
    let columns: Vec<Column> = typed.into_iter().map(|t| t.column).collect();
    let n_bad = bad_rows.iter().filter(|&&b| b).count();
    if n_bad > 0 {
        let keep: Vec<usize> = (0..n_rows).filter(|&r| !bad_rows[r]).collect();
        bad_rows_skipped += n_bad;
        let t =
            Table { source: source.to_string(), names, columns, lines, bad_rows_skipped: 0, bad_row_examples: vec![] };
        let mut t = t.take_rows(&keep);
        t.bad_rows_skipped = bad_rows_skipped;
        t.bad_row_examples = bad_row_examples;
        return Ok(t);
    }
    Ok(Table { source: source.to_string(), names, columns, lines, bad_rows_skipped, bad_row_examples })
}

enum Cell {
    Missing,
    Num(f64),
    Bad,
}

/// Is this token a missing value?
pub fn is_missing_token(s: &str) -> bool {
    matches!(s, "" | "-" | "NA" | "N/A" | "n/a" | "NaN" | "nan" | "NAN" | "null" | "NULL" | "None" | "?")
}

fn parse_cell(s: &str) -> Cell {
    let s = trim_blanks(s, b'\t');
    if is_missing_token(s) {
        return Cell::Missing;
    }
    let b = s.as_bytes();
    if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        return match u64::from_str_radix(&s[2..], 16) {
            Ok(v) => Cell::Num(v as f64),
            Err(_) => Cell::Bad,
        };
    }
    // Only plain decimal syntax plus inf/infinity; Rust's parser also accepts "nan" (handled above).
    let first = b[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' || first == b'i' || first == b'I') {
        return Cell::Bad;
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_nan() => Cell::Missing,
        Ok(v) => Cell::Num(v),
        Err(_) => Cell::Bad,
    }
}

/// Split one line on `delim`, honouring double quotes (`""` inside quotes is a quote).
fn split_line(line: &str, delim: u8) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        // skip leading spaces (not tabs when tab is the delimiter)
        let start = i;
        if i < b.len() && b[i] == b'"' {
            let mut s = String::new();
            let mut j = i + 1;
            let mut closed = false;
            while j < b.len() {
                if b[j] == b'"' {
                    if j + 1 < b.len() && b[j + 1] == b'"' {
                        s.push('"');
                        j += 2;
                        continue;
                    }
                    closed = true;
                    j += 1;
                    break;
                }
                // push the whole UTF-8 char
                let ch_len = utf8_len(b[j]);
                s.push_str(&line[j..(j + ch_len).min(b.len())]);
                j += ch_len;
            }
            if closed {
                // anything up to the next delimiter is appended as-is
                let mut k = j;
                while k < b.len() && b[k] != delim {
                    k += 1;
                }
                s.push_str(line[j..k].trim());
                out.push(Cow::Owned(s));
                if k >= b.len() {
                    break;
                }
                i = k + 1;
                continue;
            }
            // unterminated quote: fall through and treat literally
            i = start;
        }
        let mut k = i;
        while k < b.len() && b[k] != delim {
            k += 1;
        }
        out.push(Cow::Borrowed(trim_blanks(&line[i..k], delim)));
        if k >= b.len() {
            break;
        }
        i = k + 1;
    }
    out
}

/// Trim spaces (and tabs, unless they delimit) byte-wise: cells are mostly ASCII numbers and
/// char-wise trimming showed up in profiles.
fn trim_blanks(s: &str, delim: u8) -> &str {
    let blank = |b: u8| b == b' ' || (b == b'\t' && delim != b'\t');
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !blank(c)).map_or(start, |e| e + 1);
    // both ends sit next to ASCII bytes, so they are char boundaries
    &s[start..end]
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tranalyzer_header_hex_bom_missing() {
        let t = "\u{feff}%dir\tflowInd\tflowStat\trate\tname\nA\t1\t0x0010\t1.5\tx\nB\t1\t0x0001\t-\ty\nA\t2\t0x00ff\tinf\t\"x\"\n";
        let tab = parse_text("t.txt", t, &LoadOptions::default()).unwrap();
        assert_eq!(tab.names, vec!["dir", "flowInd", "flowStat", "rate", "name"]);
        match &tab.columns[2] {
            Column::Num(c) => assert_eq!(c.values, vec![16.0, 1.0, 255.0]),
            _ => panic!(),
        }
        match &tab.columns[3] {
            Column::Num(c) => {
                assert_eq!(c.missing, 1);
                assert_eq!(c.infinite, 1);
            }
            _ => panic!(),
        }
        match &tab.columns[4] {
            Column::Text(t) => assert_eq!(t, &vec!["x".to_string(), "y".into(), "x".into()]),
            _ => panic!(),
        }
    }

    #[test]
    fn wrong_field_count_names_line() {
        let t = "a,b\n1,2\n3\n";
        let e = parse_text("f.csv", t, &LoadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("f.csv:3"), "{e}");
        let o = LoadOptions { skip_bad_rows: true, ..Default::default() };
        let tab = parse_text("f.csv", t, &o).unwrap();
        assert_eq!(tab.n_rows(), 1);
        assert_eq!(tab.bad_rows_skipped, 1);
    }

    #[test]
    fn bad_number_names_line_and_column() {
        let mut t = String::from("a,b\n");
        for i in 0..200 {
            t.push_str(&format!("{i},{}\n", i * 2));
        }
        t.push_str("5,oops\n");
        let e = parse_text("f.csv", &t, &LoadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("f.csv:202") && e.contains("column 2") && e.contains("oops"), "{e}");
        let o = LoadOptions { skip_bad_rows: true, ..Default::default() };
        let tab = parse_text("f.csv", &t, &o).unwrap();
        assert_eq!(tab.n_rows(), 200);
        assert_eq!(tab.bad_rows_skipped, 1);
    }

    #[test]
    fn empty_and_all_missing_columns() {
        let o = LoadOptions { names: Some(vec!["a".into(), "b".into()]), no_header: true, ..Default::default() };
        let t = parse_text("e.csv", "", &o).unwrap();
        assert_eq!((t.n_rows(), t.names.len()), (0, 0));
        let t = parse_text("m.csv", "a,b\n1,-\n2,\n", &LoadOptions::default()).unwrap();
        assert!(matches!(&t.columns[1], Column::Num(c) if c.missing == 2));
    }

    #[test]
    fn quoted_fields() {
        let c = split_line("\"a,b\",c,\"d\"\"e\"", b',');
        assert_eq!(c, vec!["a,b", "c", "d\"e"]);
    }
}
