//! Per-row evaluation. Nothing here allocates: conditions read columns by index through
//! [`Row`], constants were decoded at compile time, and results go into a caller-owned bitset.

use std::cmp::Ordering;

use crate::compile::{bit_apply, complement, Cond, FloatExpr, IntExpr, StrExpr};
use crate::lexer::CmpOp;

/// Read access to one flow row, by schema column index.
///
/// Each method returns `None` when the value is missing (not applicable, empty, or never set);
/// the compiler only calls the method matching the column's [`ColumnKind`](crate::ColumnKind).
/// Integers are `i128` so that both unsigned 64-bit bit fields and signed values fit exactly.
pub trait Row {
    fn int(&self, col: usize) -> Option<i128>;
    fn float(&self, col: usize) -> Option<f64>;
    fn str(&self, col: usize) -> Option<&str>;
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Missing,
    Int(i128),
    Float(f64),
    /// The text lives in `RowValues::texts` at the same index, so its buffer is reused.
    Str,
}

/// A reusable, Vec-backed [`Row`]: fill it per flow with the columns that
/// [`CompiledRules::columns_used`](crate::CompiledRules::columns_used) lists, evaluate, `clear`, repeat.
///
/// Setting a column beyond the current length grows the row; after the first few rows no call
/// allocates (string buffers are kept and overwritten).
#[derive(Debug, Clone, Default)]
pub struct RowValues {
    cells: Vec<Cell>,
    texts: Vec<String>,
}

impl RowValues {
    /// A row with `columns` missing values.
    pub fn new(columns: usize) -> Self {
        RowValues { cells: vec![Cell::Missing; columns], texts: vec![String::new(); columns] }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Marks every column missing, keeping all buffers.
    pub fn clear(&mut self) {
        self.cells.fill(Cell::Missing);
    }

    fn grow(&mut self, col: usize) {
        if col >= self.cells.len() {
            self.cells.resize(col + 1, Cell::Missing);
            self.texts.resize(col + 1, String::new());
        }
    }

    /// Accepts `u64`, `i64`, `u32`, … and `i128`.
    pub fn set_int(&mut self, col: usize, value: impl Into<i128>) {
        self.grow(col);
        self.cells[col] = Cell::Int(value.into());
    }

    pub fn set_float(&mut self, col: usize, value: f64) {
        self.grow(col);
        self.cells[col] = Cell::Float(value);
    }

    pub fn set_str(&mut self, col: usize, value: &str) {
        self.grow(col);
        self.texts[col].clear();
        self.texts[col].push_str(value);
        self.cells[col] = Cell::Str;
    }

    pub fn set_missing(&mut self, col: usize) {
        if let Some(c) = self.cells.get_mut(col) {
            *c = Cell::Missing;
        }
    }
}

impl Row for RowValues {
    fn int(&self, col: usize) -> Option<i128> {
        match self.cells.get(col) {
            Some(Cell::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// Integers stored in a float column read as floats, to forgive a caller's loose typing.
    fn float(&self, col: usize) -> Option<f64> {
        match self.cells.get(col) {
            Some(Cell::Float(v)) => Some(*v),
            Some(Cell::Int(v)) => Some(*v as f64),
            _ => None,
        }
    }

    fn str(&self, col: usize) -> Option<&str> {
        match self.cells.get(col) {
            Some(Cell::Str) => self.texts.get(col).map(String::as_str),
            _ => None,
        }
    }
}

/// Parses an integer as Tranalyzer2 prints it: `0x` hex (bit fields, up to 64 bits) or signed
/// decimal. Returns `None` for anything else, including the empty string, so that it can feed
/// [`RowValues::set_int`] or mark the value missing.
pub fn parse_int_text(text: &str) -> Option<i128> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        // from_str_radix alone would accept a sign after the prefix.
        let digits_only = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
        return digits_only.then(|| u64::from_str_radix(hex, 16).ok().map(i128::from)).flatten();
    }
    let v: i128 = t.parse().ok()?;
    (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&v).then_some(v)
}

/// Which rules fired for one row: a bitset indexed like
/// [`CompiledRules::rules`](crate::CompiledRules::rules). Reuse one per thread; once sized it
/// never allocates again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FiredRules {
    words: Vec<u64>,
    len: usize,
}

impl FiredRules {
    pub fn new() -> Self {
        Self::default()
    }

    /// Clears all bits and sizes the set for `rules` rules, allocating only when it grows.
    pub(crate) fn reset(&mut self, rules: usize) {
        self.words.clear();
        self.words.resize(rules.div_ceil(64), 0);
        self.len = rules;
    }

    pub(crate) fn set(&mut self, rule: usize) {
        if let Some(w) = self.words.get_mut(rule / 64) {
            *w |= 1 << (rule % 64);
        }
    }

    pub fn clear(&mut self) {
        self.words.fill(0);
    }

    pub fn contains(&self, rule: usize) -> bool {
        self.words.get(rule / 64).is_some_and(|w| w & (1 << (rule % 64)) != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// Number of rules that fired.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Indices of the fired rules, ascending.
    pub fn iter(&self) -> FiredIter<'_> {
        FiredIter { words: &self.words, word: 0, bits: self.words.first().copied().unwrap_or(0) }
    }
}

impl<'a> IntoIterator for &'a FiredRules {
    type Item = usize;
    type IntoIter = FiredIter<'a>;
    fn into_iter(self) -> FiredIter<'a> {
        self.iter()
    }
}

/// Iterator over fired rule indices; see [`FiredRules::iter`].
#[derive(Debug, Clone)]
pub struct FiredIter<'a> {
    words: &'a [u64],
    word: usize,
    bits: u64,
}

impl Iterator for FiredIter<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.word += 1;
            self.bits = *self.words.get(self.word)?;
        }
        let bit = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.word * 64 + bit)
    }
}

impl CmpOp {
    fn holds(self, ord: Option<Ordering>) -> bool {
        match (self, ord) {
            // Only NaN is unordered; IEEE says it is unequal to everything.
            (CmpOp::Ne, None) => true,
            (_, None) => false,
            (CmpOp::Eq, Some(o)) => o.is_eq(),
            (CmpOp::Ne, Some(o)) => o.is_ne(),
            (CmpOp::Lt, Some(o)) => o.is_lt(),
            (CmpOp::Le, Some(o)) => o.is_le(),
            (CmpOp::Gt, Some(o)) => o.is_gt(),
            (CmpOp::Ge, Some(o)) => o.is_ge(),
        }
    }
}

/// Exact comparison of an integer with a float: converting a large 64-bit value to `f64`
/// would round it and could flip the result.
fn cmp_int_float(i: i128, f: f64) -> Option<Ordering> {
    const LIMIT: f64 = 1.7014118346046923e38; // 2^127
    if f.is_nan() {
        return None;
    }
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    // `whole` is integral and within i128 range, so the cast is exact.
    match i.cmp(&(whole as i128)) {
        Ordering::Equal => 0.0.partial_cmp(&(f - whole)),
        o => Some(o),
    }
}

impl IntExpr {
    #[inline]
    fn eval<R: Row + ?Sized>(&self, row: &R) -> Option<i128> {
        match self {
            IntExpr::Col(c) => row.int(*c),
            IntExpr::Const(v) => Some(*v),
            IntExpr::Mask(c, m) => row.int(*c).map(|v| i128::from(v as u64 & m)),
            IntExpr::Bit(op, a, b) => Some(bit_apply(*op, a.eval(row)?, b.eval(row)?)),
            IntExpr::Compl(a) => a.eval(row).map(complement),
        }
    }
}

impl FloatExpr {
    #[inline]
    fn eval<R: Row + ?Sized>(&self, row: &R) -> Option<f64> {
        match self {
            FloatExpr::Col(c) => row.float(*c),
            FloatExpr::Const(v) => Some(*v),
        }
    }
}

impl StrExpr {
    #[inline]
    fn eval<'r, R: Row + ?Sized>(&'r self, row: &'r R) -> Option<&'r str> {
        match self {
            StrExpr::Col(c) => row.str(*c),
            StrExpr::Const(s) => Some(s),
        }
    }
}

impl Cond {
    /// Missing operands make comparisons and bit tests false (see the crate docs).
    pub(crate) fn eval<R: Row + ?Sized>(&self, row: &R) -> bool {
        match self {
            Cond::Truthy(i) => i.eval(row).is_some_and(|v| v != 0),
            Cond::Int(op, a, b) => match (a.eval(row), b.eval(row)) {
                (Some(a), Some(b)) => op.holds(Some(a.cmp(&b))),
                _ => false,
            },
            Cond::IntFloat(op, a, b) => match (a.eval(row), b.eval(row)) {
                (Some(a), Some(b)) => op.holds(cmp_int_float(a, b)),
                _ => false,
            },
            Cond::Float(op, a, b) => match (a.eval(row), b.eval(row)) {
                (Some(a), Some(b)) => op.holds(a.partial_cmp(&b)),
                _ => false,
            },
            Cond::Str(eq, a, b) => match (a.eval(row), b.eval(row)) {
                (Some(a), Some(b)) => (a == b) == *eq,
                _ => false,
            },
            Cond::ColCmp(op, c, k) => row.int(*c).is_some_and(|v| op.holds(Some(v.cmp(k)))),
            Cond::MaskCmp(op, c, m, k) => row.int(*c).is_some_and(|v| op.holds(Some(i128::from(v as u64 & m).cmp(k)))),
            Cond::ColStr(eq, c, k) => row.str(*c).is_some_and(|v| (v == &**k) == *eq),
            Cond::Not(c) => !c.eval(row),
            Cond::All(cs) => cs.iter().all(|c| c.eval(row)),
            Cond::Any(cs) => cs.iter().any(|c| c.eval(row)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_float_comparison_is_exact() {
        let big = (1i128 << 53) + 1;
        assert_eq!(cmp_int_float(big, 9007199254740992.0), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(1400, 1400.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(1401, 1400.5), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(-3, -2.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(-2, -2.5), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(7, 7.0), Some(Ordering::Equal));
        assert_eq!(cmp_int_float(i128::from(u64::MAX), f64::INFINITY), Some(Ordering::Less));
        assert_eq!(cmp_int_float(0, f64::NEG_INFINITY), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(0, f64::NAN), None);
    }

    #[test]
    fn fired_rules_bitset() {
        let mut f = FiredRules::new();
        f.reset(130);
        for i in [0, 63, 64, 129] {
            f.set(i);
        }
        f.set(500); // out of range: ignored rather than panicking
        assert_eq!(f.iter().collect::<Vec<_>>(), [0, 63, 64, 129]);
        assert_eq!(f.count(), 4);
        assert!(f.contains(64) && !f.contains(65) && !f.contains(10_000));
        f.clear();
        assert!(f.is_empty());
        assert_eq!(f.iter().next(), None);
        assert_eq!(FiredRules::new().iter().next(), None);
    }

    #[test]
    fn row_values() {
        let mut r = RowValues::new(2);
        r.set_int(0, u64::MAX);
        r.set_str(5, "http");
        r.set_float(1, 2.5);
        assert_eq!(r.len(), 6);
        assert_eq!(r.int(0), Some(i128::from(u64::MAX)));
        assert_eq!(r.str(5), Some("http"));
        assert_eq!(r.float(1), Some(2.5));
        assert_eq!(r.int(1), None);
        assert_eq!(r.int(99), None);
        r.set_missing(0);
        assert_eq!(r.int(0), None);
        r.clear();
        assert_eq!(r.str(5), None);
        assert_eq!(r.float(1), None);
    }

    #[test]
    fn parses_tranalyzer_integers() {
        assert_eq!(parse_int_text("0x0000000000004000"), Some(0x4000));
        assert_eq!(parse_int_text("0x8000000000000000"), Some(1 << 63));
        assert_eq!(parse_int_text("0x10000000000000000"), None);
        assert_eq!(parse_int_text("0x+ff"), None);
        assert_eq!(parse_int_text("-12"), Some(-12));
        assert_eq!(parse_int_text(" 443 "), Some(443));
        assert_eq!(parse_int_text(""), None);
        assert_eq!(parse_int_text("1.5"), None);
        assert_eq!(parse_int_text("99999999999999999999"), None);
    }
}
