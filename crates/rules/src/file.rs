//! TOML rule files. The work beyond deserializing is positional: every error must name the file,
//! line and column, including errors found later inside a `when` string, so each rule keeps a
//! map from the bytes of its decoded `when` to positions in the file.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{saturate, ErrorKind, RuleError};
use crate::ruleset::{Origin, Rule, RuleSet, Severity};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

/// Required fields are optional here so that their absence is reported with a position.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<Spanned<String>>,
    when: Option<Spanned<String>>,
    description: Option<String>,
    severity: Option<Spanned<String>>,
    category: Option<String>,
    enabled: Option<bool>,
}

pub(crate) fn parse(text: &str, file: &str) -> Result<RuleSet, RuleError> {
    let lines = LineIndex::new(text);
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        RuleError::new(ErrorKind::Toml, e.message()).in_file(file).at(e.span().map(|s| lines.pos(s.start)))
    })?;
    let file_arc: Arc<str> = file.into();
    let mut set = RuleSet::new();
    for table in raw.rule {
        let table_pos = lines.pos(table.span().start);
        let raw = table.into_inner();
        let invalid = |msg: String, pos| RuleError::new(ErrorKind::InvalidRule, msg).in_file(file).at(Some(pos));
        let Some(name) = raw.name else {
            return Err(invalid("rule is missing \"name\"".into(), table_pos));
        };
        let name_pos = lines.pos(name.span().start);
        let name = name.into_inner();
        let Some(when) = raw.when else {
            return Err(invalid(format!("rule \"{name}\" is missing \"when\""), table_pos).in_rule(&name));
        };
        let severity = match raw.severity {
            None => Severity::default(),
            Some(s) => Severity::from_name(s.get_ref()).ok_or_else(|| {
                let msg = format!(
                    "invalid severity \"{}\" in rule \"{name}\" (expected low, medium, high or critical)",
                    s.get_ref()
                );
                invalid(msg, lines.pos(s.span().start)).in_rule(&name)
            })?,
        };
        let when_pos = when_positions(text, &lines, when.span(), when.get_ref());
        let rule = Rule {
            name,
            when: when.into_inner(),
            description: raw.description,
            severity,
            category: raw.category,
            enabled: raw.enabled.unwrap_or(true),
        };
        set.push(rule, Some(Origin { file: file_arc.clone(), name_pos, when_pos }))?;
    }
    Ok(set)
}

struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn pos(&self, at: usize) -> (u32, u32) {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= at).max(1);
        let start = self.starts[line - 1];
        (saturate(line), saturate(self.text[start..at].chars().count() + 1))
    }
}

/// Positions of each decoded byte of a `when` string. If decoding the raw text does not reproduce
/// the value toml produced (an escape this code does not know), every byte maps to the string's
/// start: a less precise but never wrong-looking location.
fn when_positions(text: &str, lines: &LineIndex, span: std::ops::Range<usize>, value: &str) -> Vec<(u32, u32)> {
    let raw = text.get(span.clone()).unwrap_or("");
    match decode(raw) {
        Some((decoded, offsets)) if decoded == value => {
            offsets.into_iter().map(|off| lines.pos(span.start + off)).collect()
        }
        _ => vec![lines.pos(span.start); value.len() + 1],
    }
}

/// Decodes a TOML string token, returning the value and, for each of its bytes, the offset in
/// `raw` it came from (escapes map all their bytes to the backslash), plus the closing quote's.
fn decode(raw: &str) -> Option<(String, Vec<usize>)> {
    let (delim, literal) = [("\"\"\"", false), ("'''", true), ("\"", false), ("'", true)]
        .into_iter()
        .find(|(d, _)| raw.starts_with(d) && raw.len() >= 2 * d.len() && raw.ends_with(d))?;
    let multiline = delim.len() == 3;
    let end = raw.len() - delim.len();
    let mut i = delim.len();
    if multiline {
        // TOML drops a newline that immediately follows the opening delimiter.
        i += [("\r\n", 2), ("\n", 1)].into_iter().find(|(nl, _)| raw[i..].starts_with(nl)).map_or(0, |(_, n)| n);
    }
    let (mut out, mut offsets) = (String::new(), Vec::new());
    while i < end {
        let c = raw.get(i..)?.chars().next()?;
        if c != '\\' || literal {
            out.push(c);
            offsets.extend(i..i + c.len_utf8());
            i += c.len_utf8();
            continue;
        }
        let esc = raw.get(i + 1..)?.chars().next()?;
        let hex = |n: usize| u32::from_str_radix(raw.get(i + 2..i + 2 + n)?, 16).ok().and_then(char::from_u32);
        let (decoded, len) = match esc {
            'b' => ('\u{8}', 2),
            't' => ('\t', 2),
            'n' => ('\n', 2),
            'f' => ('\u{c}', 2),
            'r' => ('\r', 2),
            'e' => ('\u{1b}', 2),
            '"' => ('"', 2),
            '\\' => ('\\', 2),
            'x' => (hex(2)?, 4),
            'u' => (hex(4)?, 6),
            'U' => (hex(8)?, 10),
            ' ' | '\t' | '\r' | '\n' if multiline => {
                // Line-ending backslash: the newline and all whitespace after it vanish.
                i += 1;
                while i < end && matches!(raw.as_bytes()[i], b' ' | b'\t' | b'\r' | b'\n') {
                    i += 1;
                }
                continue;
            }
            _ => return None,
        };
        out.push(decoded);
        offsets.extend(std::iter::repeat(i).take(decoded.len_utf8()));
        i += len;
    }
    offsets.push(end);
    Some((out, offsets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_all_string_forms() {
        let (s, o) = decode(r#""a\"b""#).unwrap();
        assert_eq!((s.as_str(), o), ("a\"b", vec![1, 2, 4, 5]));
        let (s, o) = decode("'x\\y'").unwrap();
        assert_eq!((s.as_str(), o), ("x\\y", vec![1, 2, 3, 4]));
        let (s, o) = decode("\"\"\"\nab\"\"\"").unwrap();
        assert_eq!((s.as_str(), o), ("ab", vec![4, 5, 6]));
        let (s, o) = decode("'''\r\nab'''").unwrap();
        assert_eq!((s.as_str(), o), ("ab", vec![5, 6, 7]));
        let (s, o) = decode("\"\"\"a \\\n   b\"\"\"").unwrap();
        assert_eq!((s.as_str(), o), ("a b", vec![3, 4, 10, 11]));
        let (s, o) = decode(r#""\u00e9\x41""#).unwrap();
        assert_eq!((s.as_str(), o), ("éA", vec![1, 1, 7, 11]));
        assert_eq!(decode(r#""\q""#), None);
        assert_eq!(decode("bare"), None);
        assert_eq!(decode("\""), None);
    }

    #[test]
    fn line_index() {
        let text = "ab\ncé\n\nx";
        let l = LineIndex::new(text);
        assert_eq!(l.pos(0), (1, 1));
        assert_eq!(l.pos(2), (1, 3));
        assert_eq!(l.pos(3), (2, 1));
        assert_eq!(l.pos(6), (2, 3)); // after the two-byte é
        assert_eq!(l.pos(5), (2, 2)); // inside é: snapped to its start
        assert_eq!(l.pos(7), (3, 1));
        assert_eq!(l.pos(100), (4, 2));
    }
}
