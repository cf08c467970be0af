//! Recursive-descent parser from tokens to an untyped syntax tree. Precedence, lowest first:
//! `or`, `and`, `not`, comparison, `|`, `^`, `&`, then `~` and literal `-`.

use crate::error::ExprError;
use crate::lexer::{lex, BitOp, CmpOp, Span, Tok, Token};

/// Bounds the parser's recursion and the tree's depth so that hostile input cannot overflow the
/// stack here, in the compiler, in evaluation or when the tree is dropped.
pub(crate) const MAX_DEPTH: u32 = 64;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    depth: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    Column(String),
    Int(i128),
    Float(f64),
    Str(String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// The middle span is the operator's, where type errors point.
    Cmp(CmpOp, Span, Box<Expr>, Box<Expr>),
    Bit(BitOp, Span, Box<Expr>, Box<Expr>),
    Compl(Box<Expr>),
}

pub(crate) fn parse(src: &str) -> Result<Expr, ExprError> {
    let toks = lex(src)?;
    let mut p = Parser { src, toks, pos: 0, nesting: 0 };
    if p.peek() == &Tok::Eof {
        return Err(ExprError::syntax(0, "empty expression"));
    }
    let e = p.or()?;
    let t = p.token();
    match t.tok {
        Tok::Eof => Ok(e),
        Tok::RParen => Err(ExprError::syntax(t.span.start, "unexpected \")\" without a matching \"(\"")),
        _ => Err(ExprError::syntax(
            t.span.start,
            format!("unexpected {} after a complete expression (missing \"and\" or \"or\"?)", p.describe(t)),
        )),
    }
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    nesting: u32,
}

impl Parser<'_> {
    fn token(&self) -> &Token {
        // The lexer always ends the list with Eof, and `advance` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek(&self) -> &Tok {
        &self.token().tok
    }

    fn advance(&mut self) -> Token {
        let t = self.token().clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn describe(&self, t: &Token) -> String {
        let text = &self.src[t.span.start..t.span.end];
        match t.tok {
            Tok::Eof => "end of expression".to_owned(),
            Tok::Str(_) => format!("string {text}"),
            _ => format!("\"{text}\""),
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(too_deep(at));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        self.chain(Tok::Or, Self::and, ExprKind::Or)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        self.chain(Tok::And, Self::not, ExprKind::And)
    }

    /// `a or b or c` becomes one n-ary node, so long chains stay shallow and short-circuit fast.
    fn chain(
        &mut self,
        sep: Tok,
        operand: fn(&mut Self) -> Result<Expr, ExprError>,
        make: fn(Vec<Expr>) -> ExprKind,
    ) -> Result<Expr, ExprError> {
        let first = operand(self)?;
        if *self.peek() != sep {
            return Ok(first);
        }
        let mut items = vec![first];
        while *self.peek() == sep {
            self.advance();
            items.push(operand(self)?);
        }
        let span = Span { start: items[0].span.start, end: items[items.len() - 1].span.end };
        let depth = depth_of(span, items.iter())?;
        Ok(Expr { kind: make(items), span, depth })
    }

    fn not(&mut self) -> Result<Expr, ExprError> {
        if *self.peek() != Tok::Not {
            return self.cmp();
        }
        let op = self.advance();
        self.enter(op.span.start)?;
        let inner = self.not()?;
        self.nesting -= 1;
        let span = Span { start: op.span.start, end: inner.span.end };
        let depth = depth_of(span, [&inner])?;
        Ok(Expr { kind: ExprKind::Not(Box::new(inner)), span, depth })
    }

    fn cmp(&mut self) -> Result<Expr, ExprError> {
        let lhs = self.bits(0)?;
        let Tok::Cmp(op) = *self.peek() else { return Ok(lhs) };
        let op_span = self.advance().span;
        let rhs = self.bits(0)?;
        if let Tok::Cmp(_) = self.peek() {
            return Err(ExprError::syntax(
                self.token().span.start,
                "comparisons cannot be chained; combine them with \"and\"",
            ));
        }
        binary(|l, r| ExprKind::Cmp(op, op_span, l, r), lhs, rhs)
    }

    /// Levels 0, 1, 2 are `|`, `^`, `&`; all associate to the left.
    fn bits(&mut self, level: u8) -> Result<Expr, ExprError> {
        let (op, next): (BitOp, fn(&mut Self) -> Result<Expr, ExprError>) = match level {
            0 => (BitOp::Or, |p| p.bits(1)),
            1 => (BitOp::Xor, |p| p.bits(2)),
            _ => (BitOp::And, Self::unary),
        };
        let mut lhs = next(self)?;
        while *self.peek() == Tok::Bit(op) {
            let op_span = self.advance().span;
            let rhs = next(self)?;
            lhs = binary(|l, r| ExprKind::Bit(op, op_span, l, r), lhs, rhs)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        match self.peek() {
            Tok::Tilde => {
                let op = self.advance();
                self.enter(op.span.start)?;
                let inner = self.unary()?;
                self.nesting -= 1;
                let span = Span { start: op.span.start, end: inner.span.end };
                let depth = depth_of(span, [&inner])?;
                Ok(Expr { kind: ExprKind::Compl(Box::new(inner)), span, depth })
            }
            Tok::Minus => {
                let minus = self.advance();
                let lit = self.advance();
                let kind = match lit.tok {
                    Tok::Int(v) => ExprKind::Int(-i128::from(v)),
                    Tok::Float(v) => ExprKind::Float(-v),
                    _ => {
                        return Err(ExprError::syntax(
                            minus.span.start,
                            "\"-\" may only precede a number (there is no arithmetic)",
                        ))
                    }
                };
                Ok(Expr { kind, span: Span { start: minus.span.start, end: lit.span.end }, depth: 1 })
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let t = self.token().clone();
        let kind = match &t.tok {
            Tok::Ident => ExprKind::Column(self.src[t.span.start..t.span.end].to_owned()),
            Tok::Int(v) => ExprKind::Int(i128::from(*v)),
            Tok::Float(v) => ExprKind::Float(*v),
            Tok::Str(s) => ExprKind::Str(s.clone()),
            Tok::LParen => return self.parenthesized(),
            _ => return Err(self.expected_value(&t)),
        };
        self.advance();
        Ok(Expr { kind, span: t.span, depth: 1 })
    }

    fn parenthesized(&mut self) -> Result<Expr, ExprError> {
        let open = self.advance();
        self.enter(open.span.start)?;
        let inner = self.or()?;
        self.nesting -= 1;
        let close = self.token().clone();
        match close.tok {
            Tok::RParen => {
                self.advance();
                Ok(inner)
            }
            Tok::Eof => Err(ExprError::syntax(open.span.start, "unclosed \"(\"")),
            _ => Err(ExprError::syntax(
                close.span.start,
                format!("expected \")\" or an operator, found {}", self.describe(&close)),
            )),
        }
    }

    fn expected_value(&self, found: &Token) -> ExprError {
        let after = match self.pos.checked_sub(1).and_then(|i| self.toks.get(i)) {
            Some(prev) => format!(" after {}", self.describe(prev)),
            None => String::new(),
        };
        let message = match found.tok {
            Tok::Eof => format!("expected a value{after}"),
            _ => format!("expected a value{after}, found {}", self.describe(found)),
        };
        ExprError::syntax(found.span.start, message)
    }
}

fn binary(make: impl FnOnce(Box<Expr>, Box<Expr>) -> ExprKind, l: Expr, r: Expr) -> Result<Expr, ExprError> {
    let span = Span { start: l.span.start, end: r.span.end };
    let depth = depth_of(span, [&l, &r])?;
    Ok(Expr { kind: make(Box::new(l), Box::new(r)), span, depth })
}

fn depth_of<'e>(span: Span, children: impl IntoIterator<Item = &'e Expr>) -> Result<u32, ExprError> {
    let depth = 1 + children.into_iter().map(|c| c.depth).max().unwrap_or(0);
    if depth > MAX_DEPTH {
        return Err(too_deep(span.start));
    }
    Ok(depth)
}

fn too_deep(at: usize) -> ExprError {
    ExprError::syntax(at, format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders the tree fully parenthesized, to check precedence and associativity.
    fn show(e: &Expr) -> String {
        let list = |xs: &[Expr], sep: &str| xs.iter().map(show).collect::<Vec<_>>().join(sep);
        match &e.kind {
            ExprKind::Column(c) => c.clone(),
            ExprKind::Int(v) => v.to_string(),
            ExprKind::Float(v) => format!("{v:?}"),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Not(x) => format!("(not {})", show(x)),
            ExprKind::And(xs) => format!("({})", list(xs, " and ")),
            ExprKind::Or(xs) => format!("({})", list(xs, " or ")),
            ExprKind::Cmp(op, _, l, r) => format!("({} {op:?} {})", show(l), show(r)),
            ExprKind::Bit(op, _, l, r) => format!("({} {op:?} {})", show(l), show(r)),
            ExprKind::Compl(x) => format!("(~{})", show(x)),
        }
    }

    fn p(src: &str) -> String {
        show(&parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}")))
    }

    #[test]
    fn precedence() {
        assert_eq!(p("a or b and c"), "(a or (b and c))");
        assert_eq!(p("a and b or c and d"), "((a and b) or (c and d))");
        assert_eq!(p("a || b && !c"), "(a or (b and (not c)))");
        assert_eq!(p("not a == 1 and b"), "((not (a Eq 1)) and b)");
        assert_eq!(p("not not a"), "(not (not a))");
        assert_eq!(p("a | b ^ c & d == 3"), "((a Or (b Xor (c And d))) Eq 3)");
        assert_eq!(p("a & b & c"), "((a And b) And c)");
        assert_eq!(p("a | b | c"), "((a Or b) Or c)");
        assert_eq!(p("~a & b"), "((~a) And b)");
        assert_eq!(p("(a or b) and c"), "((a or b) and c)");
        assert_eq!(p("(tcpFlags & 0x0002) != 0 and pktsRcvd == 0"), "(((tcpFlags And 2) Ne 0) and (pktsRcvd Eq 0))");
        assert_eq!(
            p(r#"l4Proto == 6 and dstPort == 443 and not (firstPayload == "tls")"#),
            r#"((l4Proto Eq 6) and (dstPort Eq 443) and (not (firstPayload Eq "tls")))"#
        );
        assert_eq!(p("a < 1 or a <= 2 or a > 3 or a >= 4"), "((a Lt 1) or (a Le 2) or (a Gt 3) or (a Ge 4))");
    }

    #[test]
    fn literal_forms() {
        assert_eq!(p("tcpAnomaly > 4"), "(tcpAnomaly Gt 4)");
        assert_eq!(p("flowStat & 0x0004000000000000"), "(flowStat And 1125899906842624)");
        assert_eq!(p("x & 0x8000000000000000"), "(x And 9223372036854775808)");
        assert_eq!(p("avgL7PktSz > 1400.5"), "(avgL7PktSz Gt 1400.5)");
        assert_eq!(p("x > -3 and y < -0.5 and z == -0x10"), "((x Gt -3) and (y Lt -0.5) and (z Eq -16))");
        assert_eq!(p(r#"c == "http" or c == 'dns'"#), r#"((c Eq "http") or (c Eq "dns"))"#);
        assert_eq!(p("x_1 == 1e2"), "(x_1 Eq 100.0)");
    }

    fn err(src: &str) -> (usize, String) {
        let e = parse(src).unwrap_err();
        (e.at, e.message)
    }

    #[test]
    fn errors_with_exact_positions() {
        assert_eq!(err("connSipDprt >= 50 and"), (21, "expected a value after \"and\"".into()));
        assert_eq!(err("a == 1 and )"), (11, "expected a value after \"and\", found \")\"".into()));
        assert_eq!(err("(a == 1"), (0, "unclosed \"(\"".into()));
        assert_eq!(err("x and (a == 1 b)"), (14, "expected \")\" or an operator, found \"b\"".into()));
        assert_eq!(err("a == 1)").0, 6);
        assert_eq!(err("a == 1 b == 2").0, 7);
        assert!(err("a == 1 b == 2").1.contains("missing \"and\""));
        assert_eq!(err("a < b < c"), (6, "comparisons cannot be chained; combine them with \"and\"".into()));
        assert_eq!(err(""), (0, "empty expression".into()));
        assert_eq!(err("   "), (0, "empty expression".into()));
        assert_eq!(err("== 3"), (0, "expected a value, found \"==\"".into()));
        assert_eq!(err("a == - b").0, 5);
        assert_eq!(err("a == not b"), (5, "expected a value after \"==\", found \"not\"".into()));
        assert_eq!(err("a & ()").0, 5);
        assert_eq!(err("a == \"x").0, 5);
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(err(&deep).1.contains("nested too deeply"));
        let nots = format!("{}a", "not ".repeat(10_000));
        assert!(err(&nots).1.contains("nested too deeply"));
        let chain = vec!["a"; 10_000].join(" & ");
        assert!(err(&chain).1.contains("nested too deeply"));
        // Long and/or chains are flat and therefore fine.
        let wide = vec!["a == 1"; 10_000].join(" or ");
        assert!(parse(&wide).is_ok());
        let ok = format!("{}a{}", "(".repeat(60), ")".repeat(60));
        assert!(parse(&ok).is_ok());
    }
}
