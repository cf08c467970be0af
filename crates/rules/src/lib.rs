//! Rules with which netanom labels flows: a small condition language over flow columns, TOML
//! rule files, and a compiled form that evaluates a row without allocating.
//!
//! # Using the crate
//!
//! ```
//! use netanom_rules::{ColumnKind, ColumnSpec, FiredRules, RowValues, RuleSet};
//!
//! let rules = RuleSet::parse_str(
//!     r#"
//! [[rule]]
//! name = "xmas"
//! when = "tcpFlags & 0x0029 == 0x0029"
//! severity = "high"
//!
//! [[rule]]
//! name = "legacy-anomaly"
//! when = "tcpAnomaly > 4"
//! "#,
//!     "rules.toml",
//! )?;
//! let schema = [ColumnSpec::new("tcpFlags", ColumnKind::Int), ColumnSpec::new("tcpAnomaly", ColumnKind::Int)];
//! let compiled = rules.compile(&schema)?;
//! assert_eq!(compiled.columns_used(), &[0, 1]);
//!
//! let mut row = RowValues::new(schema.len());
//! let mut fired = FiredRules::new();
//! row.set_int(0, 0x0029u64);
//! row.set_int(1, 0x0004u64);
//! compiled.evaluate(&row, &mut fired);
//! let names: Vec<&str> = compiled.fired(&fired).map(|r| r.name.as_str()).collect();
//! assert_eq!(names, ["xmas"]);
//! # Ok::<(), netanom_rules::RuleError>(())
//! ```
//!
//! # Rule language
//!
//! A rule's `when` is an expression over the columns of one flow row. It fires when the
//! expression is true.
//!
//! | Form | Meaning | Example |
//! |------|---------|---------|
//! | `name` | the value of a column (Tranalyzer2 name; `%dir` is written `dir`) | `pktsSnt` |
//! | `123`, `-5` | decimal integer, up to 64 bits unsigned; `-` only before a literal | `dstPort == 443` |
//! | `0x…` | hex integer, up to 64 bits, `_` separators allowed | `flowStat & 0x0004000000000000` |
//! | `1.5`, `2e3` | float | `avgL7PktSz > 1400.5` |
//! | `"…"`, `'…'` | string; escapes `\\ \" \' \n \t \r` | `dstPortClass == "http"` |
//! | `a & b`, `a \| b`, `a ^ b`, `~a` | bitwise and, or, xor, complement (integers only) | `tcpFlags & 0xf800` |
//! | `== != < <= > >=` | comparison | `connSipDprt >= 50` |
//! | `not a`, `!a` | negation | `not (firstPayload == "tls")` |
//! | `a and b`, `a && b` | conjunction (short-circuit) | `connSipDprt >= 50 and pktsSnt <= 3` |
//! | `a or b`, `a \|\| b` | disjunction (short-circuit) | `dstPort == 80 or dstPort == 8080` |
//! | `( … )` | grouping | `(tcpFlags & 0x0002) != 0 and pktsRcvd == 0` |
//!
//! Precedence, from loosest to tightest: `or`, `and`, `not`, comparisons, `|`, `^`, `&`, then
//! `~` and a literal's `-`. So `not a == 1 and b` is `(not (a == 1)) and b`, and
//! `tcpFlags & 0x2 != 0` is `(tcpFlags & 0x2) != 0` (unlike C). Comparisons do not chain:
//! write `a < b and b < c`. `and`, `or`, `not` are reserved words, not column names. There is no
//! arithmetic.
//!
//! Types, checked when rules are compiled against the column schema:
//!
//! * Integer columns hold signed or unsigned values up to 64 bits; bit fields are integers, so
//!   a field Tranalyzer2 prints as `0x0000000000004000` compares equal to `0x4000` and `16384`.
//! * Bit operators need integer operands and work on the 64-bit two's-complement pattern; the
//!   result is a non-negative integer (`~0 == 0xffffffffffffffff`).
//! * An integer in a condition's place means "non-zero": `tcpFlags & 0xf800` fires when any of
//!   those bits is set. Floats and strings cannot stand alone as conditions.
//! * Integers and floats compare numerically and exactly (no rounding of large integers).
//!   Float comparisons follow IEEE: a NaN value is unequal to everything.
//! * Strings compare only with `==` and `!=` (byte-wise, case-sensitive); comparing a string with
//!   a number, or a condition with anything, is an error.
//! * A column name the schema lacks is an error suggesting the closest known name.
//!
//! ## Missing values
//!
//! A row may lack a value (the column is not applicable to the flow, or empty). Then:
//!
//! * every comparison involving it is **false** — including `!=`;
//! * a bit test on it (`tcpFlags & 0x2`, or any integer used as a condition) is **false**;
//! * a bit operation on it yields a missing value, so `(x & 0x2) != 0` is false too;
//! * `not` simply negates: `not (x == 5)` is **true** when `x` is missing, whereas `x != 5`
//!   is false. Write whichever the rule means.
//!
//! # Rule files
//!
//! A rule file is TOML with one `[[rule]]` table per rule:
//!
//! ```toml
//! [[rule]]
//! name = "syn-scan"                  # required, unique, [A-Za-z0-9_-]+
//! when = "(tcpFlags & 0x0002) != 0 and pktsRcvd == 0"   # required
//! description = "SYN without answer" # optional
//! severity = "high"                  # optional: low | medium (default) | high | critical
//! category = "scan"                  # optional
//! enabled = true                     # optional, default true
//!
//! [[rule]]
//! name = "web"
//! when = 'dstPortClass == "http"'    # TOML literal strings avoid escaping quotes
//! ```
//!
//! Unknown keys are errors. `when` may be any TOML string form, including multi-line ones.
//! Errors carry `file:line:column`, pointing into the `when` string for expression errors:
//!
//! ```text
//! rules.toml:12:17: unknown column "tcpFlag" in rule "xmas" (did you mean "tcpFlags"?)
//! rules.toml:4:23: expected a value after "and"
//! ```
//!
//! [`RuleSet::extend`] merges sets, e.g. a user file over the defaults: a rule with an existing
//! name replaces it (use `enabled = false` to switch a default off), others are appended.
//! Disabled rules must still parse, but are not checked against the schema nor evaluated.
//!
//! # Performance
//!
//! [`RuleSet::compile`] resolves columns to indices, decodes constants and specializes the
//! common `column & mask` test. [`CompiledRules::evaluate`] then walks small trees reading only
//! through [`Row`], and records results in a caller-owned [`FiredRules`] bitset: after the first
//! row it performs no allocation (a test with a counting allocator checks this). Callers should
//! fill a row only with [`CompiledRules::columns_used`].

mod compile;
mod error;
mod eval;
mod file;
mod lexer;
mod parser;
mod ruleset;
#[cfg(test)]
mod tests;

pub use compile::{ColumnKind, ColumnSpec};
pub use error::{ErrorKind, RuleError};
pub use eval::{parse_int_text, FiredIter, FiredRules, Row, RowValues};
pub use ruleset::{CompiledRules, Rule, RuleSet, Severity};
