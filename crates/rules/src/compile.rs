//! Type-checks a syntax tree against a column schema and lowers it to a tree whose leaves are
//! column indices and pre-parsed constants, so that evaluation never looks a name up.

use std::collections::HashMap;

use crate::error::ExprError;
use crate::lexer::{BitOp, CmpOp, Span};
use crate::parser::{Expr, ExprKind};

/// The type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Signed or unsigned integers, including bit fields (read via [`Row::int`](crate::Row::int)).
    Int,
    /// Floating-point numbers (read via [`Row::float`](crate::Row::float)).
    Float,
    /// Text such as `dstPortClass` or `srcIP` (read via [`Row::str`](crate::Row::str)).
    Str,
}

/// One column a rule may name; its position in the schema slice is the index passed to [`Row`](crate::Row).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnSpec {
    pub name: String,
    pub kind: ColumnKind,
}

impl ColumnSpec {
    pub fn new(name: impl Into<String>, kind: ColumnKind) -> Self {
        ColumnSpec { name: name.into(), kind }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IntExpr {
    Col(usize),
    Const(i128),
    /// `column & constant`, the commonest bit test, without a second tree walk.
    Mask(usize, u64),
    Bit(BitOp, Box<IntExpr>, Box<IntExpr>),
    Compl(Box<IntExpr>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FloatExpr {
    Col(usize),
    Const(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StrExpr {
    Col(usize),
    Const(Box<str>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    /// An integer in boolean position: true when present and non-zero.
    Truthy(IntExpr),
    Int(CmpOp, IntExpr, IntExpr),
    /// Mixed comparisons are normalized to integer-on-the-left by flipping the operator.
    IntFloat(CmpOp, IntExpr, FloatExpr),
    Float(CmpOp, FloatExpr, FloatExpr),
    /// `true` for `==`, `false` for `!=`.
    Str(bool, StrExpr, StrExpr),
    Not(Box<Cond>),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    // Leaf shapes that nearly every rule uses, made by [`Cond::specialise`] for evaluation:
    // one column read and a comparison, without walking two operand trees.
    /// `column OP constant`.
    ColCmp(CmpOp, usize, i128),
    /// `(column & mask) OP constant`.
    MaskCmp(CmpOp, usize, u64, i128),
    /// `column == "text"` (`true`) or `!=` (`false`).
    ColStr(bool, usize, Box<str>),
}

impl Cond {
    /// The same condition with its commonest leaves in specialised form and nested `and`/`or`
    /// lists flattened; evaluates identically (conditions have no side effects).
    pub(crate) fn specialise(self) -> Cond {
        match self {
            Cond::Int(op, IntExpr::Col(c), IntExpr::Const(k)) => Cond::ColCmp(op, c, k),
            Cond::Int(op, IntExpr::Const(k), IntExpr::Col(c)) => Cond::ColCmp(op.flip(), c, k),
            Cond::Int(op, IntExpr::Mask(c, m), IntExpr::Const(k)) => Cond::MaskCmp(op, c, m, k),
            Cond::Int(op, IntExpr::Const(k), IntExpr::Mask(c, m)) => Cond::MaskCmp(op.flip(), c, m, k),
            Cond::Str(eq, StrExpr::Col(c), StrExpr::Const(k)) | Cond::Str(eq, StrExpr::Const(k), StrExpr::Col(c)) => {
                Cond::ColStr(eq, c, k)
            }
            Cond::Not(c) => Cond::Not(Box::new(c.specialise())),
            Cond::All(cs) => Cond::All(flatten(cs, |c| matches!(c, Cond::All(_)))),
            Cond::Any(cs) => Cond::Any(flatten(cs, |c| matches!(c, Cond::Any(_)))),
            c => c,
        }
    }
}

/// Specialises `cs` and splices in the members of nested lists of the same kind (`is_same`).
fn flatten(cs: Vec<Cond>, is_same: fn(&Cond) -> bool) -> Vec<Cond> {
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        let c = c.specialise();
        if is_same(&c) {
            if let Cond::All(inner) | Cond::Any(inner) = c {
                out.extend(inner);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Bit operators act on the 64-bit two's-complement pattern, so unsigned bit fields and
/// negative signed values both behave as their printed hex suggests.
pub(crate) fn bit_apply(op: BitOp, x: i128, y: i128) -> i128 {
    let (x, y) = (x as u64, y as u64);
    i128::from(match op {
        BitOp::And => x & y,
        BitOp::Or => x | y,
        BitOp::Xor => x ^ y,
    })
}

pub(crate) fn complement(x: i128) -> i128 {
    i128::from(!(x as u64))
}

impl CmpOp {
    fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            op => op,
        }
    }
}

/// Name-to-index map built once per compilation.
pub(crate) struct Schema<'a> {
    columns: &'a [ColumnSpec],
    index: HashMap<&'a str, usize>,
}

impl<'a> Schema<'a> {
    pub fn new(columns: &'a [ColumnSpec]) -> Self {
        let mut index = HashMap::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            // The first of duplicate names wins, as a caller reading the row left to right expects.
            index.entry(c.name.as_str()).or_insert(i);
        }
        Schema { columns, index }
    }

    /// The known column closest to `name`, if close enough to be a plausible typo.
    pub fn suggest(&self, name: &str) -> Option<&'a str> {
        let lower = name.to_ascii_lowercase();
        let limit = (name.chars().count() / 3).max(2);
        self.columns
            .iter()
            .map(|c| (edit_distance(&lower, &c.name.to_ascii_lowercase()), c.name.as_str()))
            .filter(|&(d, _)| d <= limit)
            .min_by_key(|&(d, _)| d)
            .map(|(_, n)| n)
    }
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

enum Typed {
    Cond(Cond),
    Int(IntExpr),
    Float(FloatExpr),
    Str(StrExpr),
}

pub(crate) struct Compiler<'s, 'a> {
    pub schema: &'s Schema<'a>,
    /// One flag per schema column, set when a rule reads it.
    pub used: &'s mut Vec<bool>,
    /// Named in unknown-column messages (file rules, whose location does not show the name).
    pub rule: Option<&'s str>,
}

impl Compiler<'_, '_> {
    pub fn condition(&mut self, e: &Expr) -> Result<Cond, ExprError> {
        match self.check(e)? {
            Typed::Cond(c) => Ok(c),
            Typed::Int(i) => Ok(Cond::Truthy(i)),
            t @ Typed::Float(_) => Err(ExprError::typing(
                e.span.start,
                format!("{} is not a condition; compare it, e.g. \"> 0\"", describe(e, &t)),
            )),
            t @ Typed::Str(_) => Err(ExprError::typing(
                e.span.start,
                format!("{} is not a condition; compare it, e.g. \"== \\\"...\\\"\"", describe(e, &t)),
            )),
        }
    }

    fn check(&mut self, e: &Expr) -> Result<Typed, ExprError> {
        Ok(match &e.kind {
            ExprKind::Column(name) => self.column(name, e.span)?,
            ExprKind::Int(v) => Typed::Int(IntExpr::Const(*v)),
            ExprKind::Float(v) => Typed::Float(FloatExpr::Const(*v)),
            ExprKind::Str(s) => Typed::Str(StrExpr::Const(s.as_str().into())),
            ExprKind::Not(x) => Typed::Cond(Cond::Not(Box::new(self.condition(x)?))),
            ExprKind::And(xs) => {
                Typed::Cond(Cond::All(xs.iter().map(|x| self.condition(x)).collect::<Result<_, _>>()?))
            }
            ExprKind::Or(xs) => Typed::Cond(Cond::Any(xs.iter().map(|x| self.condition(x)).collect::<Result<_, _>>()?)),
            ExprKind::Cmp(op, op_span, l, r) => Typed::Cond(self.comparison(*op, *op_span, l, r)?),
            ExprKind::Bit(op, op_span, l, r) => {
                let (a, b) = (self.integer(l, *op_span)?, self.integer(r, *op_span)?);
                Typed::Int(match (a, b) {
                    (IntExpr::Const(x), IntExpr::Const(y)) => IntExpr::Const(bit_apply(*op, x, y)),
                    (IntExpr::Col(c), IntExpr::Const(m)) | (IntExpr::Const(m), IntExpr::Col(c))
                        if *op == BitOp::And =>
                    {
                        IntExpr::Mask(c, m as u64)
                    }
                    (a, b) => IntExpr::Bit(*op, Box::new(a), Box::new(b)),
                })
            }
            ExprKind::Compl(x) => Typed::Int(match self.integer(x, e.span)? {
                IntExpr::Const(v) => IntExpr::Const(complement(v)),
                i => IntExpr::Compl(Box::new(i)),
            }),
        })
    }

    fn column(&mut self, name: &str, span: Span) -> Result<Typed, ExprError> {
        let Some(&i) = self.schema.index.get(name) else {
            let mut message = format!("unknown column \"{name}\"");
            if let Some(rule) = self.rule {
                message.push_str(&format!(" in rule \"{rule}\""));
            }
            if let Some(s) = self.schema.suggest(name) {
                message.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            return Err(ExprError { at: span.start, kind: crate::ErrorKind::UnknownColumn, message });
        };
        if let Some(flag) = self.used.get_mut(i) {
            *flag = true;
        }
        Ok(match self.schema.columns[i].kind {
            ColumnKind::Int => Typed::Int(IntExpr::Col(i)),
            ColumnKind::Float => Typed::Float(FloatExpr::Col(i)),
            ColumnKind::Str => Typed::Str(StrExpr::Col(i)),
        })
    }

    fn integer(&mut self, e: &Expr, op: Span) -> Result<IntExpr, ExprError> {
        match self.check(e)? {
            Typed::Int(i) => Ok(i),
            t => Err(ExprError::typing(
                op.start,
                format!("bit operators need integer operands, not {}", describe(e, &t)),
            )),
        }
    }

    fn comparison(&mut self, op: CmpOp, op_span: Span, l: &Expr, r: &Expr) -> Result<Cond, ExprError> {
        let (a, b) = (self.check(l)?, self.check(r)?);
        Ok(match (a, b) {
            (Typed::Int(a), Typed::Int(b)) => Cond::Int(op, a, b),
            (Typed::Int(a), Typed::Float(b)) => Cond::IntFloat(op, a, b),
            (Typed::Float(a), Typed::Int(b)) => Cond::IntFloat(op.flip(), b, a),
            (Typed::Float(a), Typed::Float(b)) => Cond::Float(op, a, b),
            (Typed::Str(a), Typed::Str(b)) => match op {
                CmpOp::Eq => Cond::Str(true, a, b),
                CmpOp::Ne => Cond::Str(false, a, b),
                _ => return Err(ExprError::typing(op_span.start, "strings can only be compared with == or !=")),
            },
            (a, b) => {
                return Err(ExprError::typing(
                    op_span.start,
                    format!("cannot compare {} with {}", describe(l, &a), describe(r, &b)),
                ))
            }
        })
    }
}

fn describe(e: &Expr, t: &Typed) -> String {
    match (&e.kind, t) {
        (ExprKind::Column(n), Typed::Int(_)) => format!("integer column \"{n}\""),
        (ExprKind::Column(n), Typed::Float(_)) => format!("float column \"{n}\""),
        (ExprKind::Column(n), _) => format!("string column \"{n}\""),
        (ExprKind::Str(s), _) => format!("string {s:?}"),
        (ExprKind::Int(v), _) => format!("number {v}"),
        (ExprKind::Float(v), _) => format!("number {v}"),
        (_, Typed::Cond(_)) => "a condition".to_owned(),
        (_, Typed::Int(_)) => "an integer expression".to_owned(),
        (_, Typed::Float(_)) => "a float".to_owned(),
        (_, Typed::Str(_)) => "a string".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn schema() -> Vec<ColumnSpec> {
        vec![
            ColumnSpec::new("tcpFlags", ColumnKind::Int),
            ColumnSpec::new("avgL7PktSz", ColumnKind::Float),
            ColumnSpec::new("dstPortClass", ColumnKind::Str),
            ColumnSpec::new("pktsSnt", ColumnKind::Int),
        ]
    }

    fn compile(src: &str) -> Result<(Cond, Vec<bool>), ExprError> {
        let cols = schema();
        let s = Schema::new(&cols);
        let mut used = vec![false; cols.len()];
        let e = parse(src)?;
        let c = Compiler { schema: &s, used: &mut used, rule: Some("r") }.condition(&e)?;
        Ok((c, used))
    }

    fn err(src: &str) -> (usize, String) {
        let e = compile(src).unwrap_err();
        (e.at, e.message)
    }

    #[test]
    fn lowering_and_folding() {
        let (c, used) = compile("tcpFlags & 0xf800").unwrap();
        assert_eq!(c, Cond::Truthy(IntExpr::Mask(0, 0xf800)));
        assert_eq!(used, [true, false, false, false]);
        let (c, _) = compile("0x0f00 | 0x00ff == pktsSnt").unwrap();
        assert_eq!(c, Cond::Int(CmpOp::Eq, IntExpr::Const(0xfff), IntExpr::Col(3)));
        let (c, _) = compile("1.5 < pktsSnt").unwrap();
        assert_eq!(c, Cond::IntFloat(CmpOp::Gt, IntExpr::Col(3), FloatExpr::Const(1.5)));
        let (c, _) = compile("~0 == 0xffffffffffffffff").unwrap();
        assert_eq!(c, Cond::Int(CmpOp::Eq, IntExpr::Const(u64::MAX.into()), IntExpr::Const(u64::MAX.into())));
    }

    #[test]
    fn specialised_leaves_evaluate_like_the_tree() {
        use crate::RowValues;
        let exprs = [
            "pktsSnt == 3",
            "3 < pktsSnt",
            "pktsSnt >= -1 and (tcpFlags & 0x12) == 0x02",
            "0x02 != (tcpFlags & 0x12) or not (dstPortClass == \"http\")",
            "\"dns\" != dstPortClass and (pktsSnt <= 2 and (tcpFlags & 0x4 or pktsSnt > 1))",
            "(pktsSnt > 1 or (pktsSnt == 0 or tcpFlags & 1)) and avgL7PktSz > 2.5",
        ];
        let mut rows = Vec::new();
        for flags in [None, Some(0i128), Some(0x02), Some(0x12), Some(0x17)] {
            for pkts in [None, Some(-2i128), Some(0), Some(1), Some(3), Some(7)] {
                for class in [None, Some("http"), Some("dns")] {
                    let mut r = RowValues::new(4);
                    if let Some(v) = flags {
                        r.set_int(0, v);
                    }
                    if let Some(v) = pkts {
                        r.set_int(3, v);
                    }
                    if let Some(v) = class {
                        r.set_str(2, v);
                    }
                    r.set_float(1, 3.0);
                    rows.push(r);
                }
            }
        }
        for src in exprs {
            let (tree, _) = compile(src).unwrap();
            let fast = tree.clone().specialise();
            assert_ne!(fast, tree, "{src}: nothing specialised");
            for r in &rows {
                assert_eq!(fast.eval(r), tree.eval(r), "{src} on {r:?}");
            }
        }
    }

    #[test]
    fn type_errors() {
        assert_eq!(err("dstPortClass > \"a\""), (13, "strings can only be compared with == or !=".into()));
        assert_eq!(
            err("dstPortClass == 80"),
            (13, "cannot compare string column \"dstPortClass\" with number 80".into())
        );
        assert_eq!(err("1 < \"x\""), (2, "cannot compare number 1 with string \"x\"".into()));
        assert_eq!(
            err("avgL7PktSz & 1"),
            (11, "bit operators need integer operands, not float column \"avgL7PktSz\"".into())
        );
        assert_eq!(err("(pktsSnt > 1) & 1").0, 14);
        assert_eq!(err("(pktsSnt > 1) == 1").1, "cannot compare a condition with number 1");
        assert_eq!(err("pktsSnt > 1 and avgL7PktSz").0, 16);
        assert!(err("not dstPortClass").1.starts_with("string column \"dstPortClass\" is not a condition"));
        assert_eq!(err("~1.5").0, 0);
    }

    #[test]
    fn unknown_columns_suggest() {
        assert_eq!(
            err("pktsSnt > 1 and tcpFlag & 2"),
            (16, "unknown column \"tcpFlag\" in rule \"r\" (did you mean \"tcpFlags\"?)".into())
        );
        assert_eq!(err("TCPFLAGS & 2").1, "unknown column \"TCPFLAGS\" in rule \"r\" (did you mean \"tcpFlags\"?)");
        assert_eq!(err("zzz == 1").1, "unknown column \"zzz\" in rule \"r\"");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
