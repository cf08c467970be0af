//! The one error type of the crate, and the position-less error the expression parser and
//! compiler produce before the caller knows where the expression sits in a file.

use std::fmt;

/// What kind of mistake a [`RuleError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The rule file could not be read.
    Io,
    /// The rule file is not valid TOML, or has unknown or mistyped keys.
    Toml,
    /// The `when` expression is malformed.
    Syntax,
    /// The expression mixes types, e.g. compares a string column with a number.
    Type,
    /// The expression names a column that the schema does not have.
    UnknownColumn,
    /// A rule is missing a field, has a bad name or severity, or repeats a name.
    InvalidRule,
}

/// An error in a rule, with where it happened when that is known.
///
/// `Display` reads `file:line:column: message` for rules loaded from a file, and
/// `rule "name": line:column: message` for rules built in code (the position is then inside the
/// `when` string). Lines and columns count from 1; columns count characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
    pub(crate) file: Option<String>,
    pub(crate) rule: Option<String>,
    pub(crate) position: Option<(u32, u32)>,
}

impl RuleError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RuleError { kind, message: message.into(), file: None, rule: None, position: None }
    }

    pub(crate) fn in_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_owned());
        self
    }

    pub(crate) fn in_rule(mut self, rule: &str) -> Self {
        self.rule = Some(rule.to_owned());
        self
    }

    pub(crate) fn at(mut self, position: Option<(u32, u32)>) -> Self {
        self.position = position;
        self
    }

    /// The kind of mistake.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the location prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The rule file's name, for rules loaded from a file.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The name of the rule at fault, when known.
    pub fn rule(&self) -> Option<&str> {
        self.rule.as_deref()
    }

    /// `(line, column)`, both from 1: in the file for file rules, else inside the `when` string.
    pub fn position(&self) -> Option<(u32, u32)> {
        self.position
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, &self.rule, self.position) {
            (Some(file), _, Some((l, c))) => write!(f, "{file}:{l}:{c}: ")?,
            (Some(file), _, None) => write!(f, "{file}: ")?,
            (None, Some(rule), Some((l, c))) => write!(f, "rule \"{rule}\": {l}:{c}: ")?,
            (None, Some(rule), None) => write!(f, "rule \"{rule}\": ")?,
            (None, None, Some((l, c))) => write!(f, "{l}:{c}: ")?,
            (None, None, None) => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

/// An error inside one expression; `at` is a byte offset into the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExprError {
    pub at: usize,
    pub kind: ErrorKind,
    pub message: String,
}

impl ExprError {
    pub fn syntax(at: usize, message: impl Into<String>) -> Self {
        ExprError { at, kind: ErrorKind::Syntax, message: message.into() }
    }

    pub fn typing(at: usize, message: impl Into<String>) -> Self {
        ExprError { at, kind: ErrorKind::Type, message: message.into() }
    }
}

/// 1-based (line, column in characters) of byte `at` in `text`; used for expressions built in
/// code, where a file's line table does not exist.
pub(crate) fn line_col(text: &str, at: usize) -> (u32, u32) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..at].chars().count() + 1;
    (saturate(line), saturate(column))
}

pub(crate) fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
