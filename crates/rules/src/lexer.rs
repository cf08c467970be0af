//! Splits a `when` expression into tokens. Every token keeps its byte span so that errors can
//! point at the exact character, later mapped to a line and column of the rule file.

use crate::error::ExprError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BitOp {
    And,
    Or,
    Xor,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A column name; its text is the token's span in the source.
    Ident,
    Int(u64),
    Float(f64),
    Str(String),
    LParen,
    RParen,
    Or,
    And,
    Not,
    Cmp(CmpOp),
    Bit(BitOp),
    Tilde,
    Minus,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let two = |s: &[u8]| b[i..].starts_with(s);
        let tok = match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'~' => Tok::Tilde,
            b'-' => Tok::Minus,
            b'^' => Tok::Bit(BitOp::Xor),
            _ if two(b"||") => Tok::Or,
            _ if two(b"&&") => Tok::And,
            _ if two(b"==") => Tok::Cmp(CmpOp::Eq),
            _ if two(b"!=") => Tok::Cmp(CmpOp::Ne),
            _ if two(b"<=") => Tok::Cmp(CmpOp::Le),
            _ if two(b">=") => Tok::Cmp(CmpOp::Ge),
            b'|' => Tok::Bit(BitOp::Or),
            b'&' => Tok::Bit(BitOp::And),
            b'!' => Tok::Not,
            b'<' => Tok::Cmp(CmpOp::Lt),
            b'>' => Tok::Cmp(CmpOp::Gt),
            b'=' => return Err(ExprError::syntax(i, "unexpected \"=\"; use \"==\" to compare")),
            b'"' | b'\'' => {
                let (s, end) = lex_string(src, i)?;
                toks.push(Token { tok: Tok::Str(s), span: Span { start, end } });
                i = end;
                continue;
            }
            b'0'..=b'9' => {
                let (tok, end) = lex_number(src, i)?;
                toks.push(Token { tok, span: Span { start, end } });
                i = end;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let tok = match &src[start..i] {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Ident,
                };
                toks.push(Token { tok, span: Span { start, end: i } });
                continue;
            }
            _ => {
                let c = src[i..].chars().next().unwrap_or('?');
                return Err(ExprError::syntax(i, format!("unexpected character {c:?}")));
            }
        };
        i += match tok {
            Tok::Or | Tok::And | Tok::Cmp(CmpOp::Eq | CmpOp::Ne | CmpOp::Le | CmpOp::Ge) => 2,
            _ => 1,
        };
        toks.push(Token { tok, span: Span { start, end: i } });
    }
    toks.push(Token { tok: Tok::Eof, span: Span { start: src.len(), end: src.len() } });
    Ok(toks)
}

/// Both quote styles are accepted so that rules in TOML basic strings need no `\"` escapes.
fn lex_string(src: &str, start: usize) -> Result<(String, usize), ExprError> {
    let mut chars = src[start..].char_indices();
    let quote = chars.next().map_or('"', |(_, c)| c);
    let mut out = String::new();
    while let Some((off, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((out, start + off + 1)),
            '\\' => {
                let decoded = match chars.next() {
                    Some((_, 'n')) => '\n',
                    Some((_, 't')) => '\t',
                    Some((_, 'r')) => '\r',
                    Some((_, c @ ('\\' | '"' | '\''))) => c,
                    Some((_, c)) => {
                        return Err(ExprError::syntax(
                            start + off,
                            format!("unknown escape \"\\{c}\" (use \\\\, \\\", \\', \\n, \\t or \\r)"),
                        ))
                    }
                    None => break,
                };
                out.push(decoded);
            }
            c => out.push(c),
        }
    }
    Err(ExprError::syntax(start, "unterminated string"))
}

fn lex_number(src: &str, start: usize) -> Result<(Tok, usize), ExprError> {
    let b = src.as_bytes();
    let digits_end = |mut i: usize, ok: fn(u8) -> bool| {
        while i < b.len() && (ok(b[i]) || b[i] == b'_') {
            i += 1;
        }
        i
    };
    let mut i;
    let tok = if b[start] == b'0' && matches!(b.get(start + 1), Some(b'x' | b'X')) {
        i = digits_end(start + 2, |c| c.is_ascii_hexdigit());
        let digits = &src[start + 2..i];
        if !digits.bytes().any(|c| c.is_ascii_hexdigit()) {
            return Err(ExprError::syntax(start, "expected hex digits after \"0x\""));
        }
        let mut v: u64 = 0;
        for c in digits.bytes().filter(|&c| c != b'_') {
            let d = u64::from((c as char).to_digit(16).unwrap_or(0));
            v = v
                .checked_mul(16)
                .and_then(|v| v.checked_add(d))
                .ok_or_else(|| ExprError::syntax(start, "hex literal does not fit in 64 bits"))?;
        }
        Tok::Int(v)
    } else {
        i = digits_end(start, |c| c.is_ascii_digit());
        let mut float = false;
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            float = true;
            i = digits_end(i + 1, |c| c.is_ascii_digit());
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let j = if matches!(b.get(i + 1), Some(b'+' | b'-')) { i + 2 } else { i + 1 };
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                float = true;
                i = digits_end(j, |c| c.is_ascii_digit());
            }
        }
        let text: String = src[start..i].chars().filter(|&c| c != '_').collect();
        if float {
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Tok::Float(v),
                _ => return Err(ExprError::syntax(start, "float literal out of range")),
            }
        } else {
            match text.parse::<u64>() {
                Ok(v) => Tok::Int(v),
                Err(_) => return Err(ExprError::syntax(start, "integer literal does not fit in 64 bits")),
            }
        }
    };
    // `12ab`, `0x1g` or `1.2.3` are typos, not two tokens.
    if b.get(i).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.') {
        return Err(ExprError::syntax(start, format!("invalid number \"{}\"", number_word(src, start))));
    }
    Ok((tok, i))
}

fn number_word(src: &str, start: usize) -> &str {
    let end = src[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(src.len(), |n| start + n);
    &src[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn literals() {
        assert_eq!(toks("0x0000000000004000"), [Tok::Int(0x4000), Tok::Eof]);
        assert_eq!(toks("0xFFFFFFFFFFFFFFFF"), [Tok::Int(u64::MAX), Tok::Eof]);
        assert_eq!(toks("0x8000_0000_0000_0000"), [Tok::Int(1 << 63), Tok::Eof]);
        assert_eq!(toks("18446744073709551615"), [Tok::Int(u64::MAX), Tok::Eof]);
        assert_eq!(toks("1400.5 1e3 2.5E-1"), [Tok::Float(1400.5), Tok::Float(1000.0), Tok::Float(0.25), Tok::Eof]);
        assert_eq!(toks(r#""a\"b" 'c"d'"#), [Tok::Str("a\"b".into()), Tok::Str("c\"d".into()), Tok::Eof]);
        assert_eq!(toks("\"ünï\""), [Tok::Str("ünï".into()), Tok::Eof]);
    }

    #[test]
    fn operators_and_keywords() {
        use Tok::*;
        assert_eq!(
            toks("a||b&&!c or and not == != < <= > >= & | ^ ~ ( ) -"),
            [
                Ident,
                Or,
                Ident,
                And,
                Not,
                Ident,
                Or,
                And,
                Not,
                Cmp(CmpOp::Eq),
                Cmp(CmpOp::Ne),
                Cmp(CmpOp::Lt),
                Cmp(CmpOp::Le),
                Cmp(CmpOp::Gt),
                Cmp(CmpOp::Ge),
                Bit(BitOp::And),
                Bit(BitOp::Or),
                Bit(BitOp::Xor),
                Tilde,
                LParen,
                RParen,
                Minus,
                Eof
            ]
        );
        // Keywords are whole words only.
        assert_eq!(toks("android notice order"), [Ident, Ident, Ident, Eof]);
    }

    #[test]
    fn errors_point_at_the_character() {
        let err = |s: &str| lex(s).unwrap_err();
        assert_eq!(err("a = 1").at, 2);
        assert_eq!(err("x == 0x10000000000000000").at, 5);
        assert!(err("x == 0x10000000000000000").message.contains("64 bits"));
        assert_eq!(err("x == 99999999999999999999").at, 5);
        assert_eq!(err("x == 0x").at, 5);
        assert_eq!(err("x == 12ab").message, "invalid number \"12ab\"");
        assert_eq!(err("x == 1.2.3").at, 5);
        assert_eq!(err("x == \"abc").at, 5);
        assert_eq!(err("x == \"a\\q\"").at, 7);
        assert_eq!(err("x $ 1").at, 2);
        assert_eq!(err("é == 1").message, "unexpected character 'é'");
    }
}
