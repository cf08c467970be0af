//! Rules as data ([`Rule`], [`RuleSet`]) and their compiled, evaluable form ([`CompiledRules`]).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::compile::{ColumnSpec, Compiler, Cond, Schema};
use crate::error::{line_col, ErrorKind, ExprError, RuleError};
use crate::eval::{FiredRules, Row};
use crate::parser::{parse, Expr};

/// How serious a rule's finding is; ordered from `Low` to `Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses `low`, `medium`, `high` or `critical`, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One labelling rule as written by a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Unique within a set; letters, digits, `_` and `-`.
    pub name: String,
    /// The condition, in the language described in the crate docs.
    pub when: String,
    pub description: Option<String>,
    pub severity: Severity,
    pub category: Option<String>,
    /// Disabled rules are kept (so a user file can switch a default off) but not compiled.
    pub enabled: bool,
}

impl Rule {
    /// An enabled rule of medium severity without description or category.
    pub fn new(name: impl Into<String>, when: impl Into<String>) -> Self {
        Rule {
            name: name.into(),
            when: when.into(),
            description: None,
            severity: Severity::default(),
            category: None,
            enabled: true,
        }
    }
}

/// Where a rule loaded from a file sits in it.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub file: Arc<str>,
    pub name_pos: (u32, u32),
    /// File position of every byte of the decoded `when` string, plus one for its end.
    pub when_pos: Vec<(u32, u32)>,
}

#[derive(Debug, Clone)]
struct Entry {
    rule: Rule,
    expr: Expr,
    origin: Option<Origin>,
}

/// A validated, parsed, ordered collection of rules, not yet bound to a column schema.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    entries: Vec<Entry>,
}

impl RuleSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates names (syntax, uniqueness) and parses every `when`, including disabled rules'.
    pub fn from_rules(rules: Vec<Rule>) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::new();
        for rule in rules {
            set.push(rule, None)?;
        }
        Ok(set)
    }

    /// Loads a TOML rule file's text; `file_name` only labels error messages.
    pub fn parse_str(text: &str, file_name: &str) -> Result<RuleSet, RuleError> {
        crate::file::parse(text, file_name)
    }

    /// Reads and loads a TOML rule file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<RuleSet, RuleError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| RuleError::new(ErrorKind::Io, format!("cannot read rule file: {e}")).in_file(&name))?;
        Self::parse_str(&text, &name)
    }

    pub(crate) fn push(&mut self, rule: Rule, origin: Option<Origin>) -> Result<(), RuleError> {
        let at_name = |e: RuleError| match &origin {
            Some(o) => e.in_file(&o.file).at(Some(o.name_pos)),
            None => e,
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if rule.name.is_empty() || !rule.name.chars().all(valid) {
            let msg = format!("invalid rule name \"{}\" (use letters, digits, \"_\" and \"-\")", rule.name);
            return Err(at_name(RuleError::new(ErrorKind::InvalidRule, msg).in_rule(&rule.name)));
        }
        if let Some(first) = self.entries.iter().find(|e| e.rule.name == rule.name) {
            let mut msg = format!("duplicate rule name \"{}\"", rule.name);
            if let Some((line, col)) = first.origin.as_ref().map(|o| o.name_pos) {
                msg.push_str(&format!(" (first defined at {line}:{col})"));
            }
            return Err(at_name(RuleError::new(ErrorKind::InvalidRule, msg).in_rule(&rule.name)));
        }
        let expr = parse(&rule.when).map_err(|e| locate(&rule, origin.as_ref(), e))?;
        self.entries.push(Entry { rule, expr, origin });
        Ok(())
    }

    /// Merges `other` into `self`: a rule whose name already exists replaces it in place (so a
    /// user file can redefine or disable a default rule), other rules are appended in order.
    pub fn extend(&mut self, other: RuleSet) {
        for entry in other.entries {
            match self.entries.iter_mut().find(|e| e.rule.name == entry.rule.name) {
                Some(slot) => *slot = entry,
                None => self.entries.push(entry),
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All rules, enabled or not, in order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.entries.iter().map(|e| &e.rule)
    }

    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules().find(|r| r.name == name)
    }

    /// Binds the enabled rules to a schema: resolves column names to indices and checks types.
    /// Fails on the first unknown column or type error.
    pub fn compile(&self, columns: &[ColumnSpec]) -> Result<CompiledRules, RuleError> {
        let schema = Schema::new(columns);
        let mut used = vec![false; columns.len()];
        let mut rules = Vec::new();
        let mut conds = Vec::new();
        for e in self.entries.iter().filter(|e| e.rule.enabled) {
            // File positions do not show the rule name, so the message has to.
            let rule = e.origin.as_ref().map(|_| e.rule.name.as_str());
            let mut compiler = Compiler { schema: &schema, used: &mut used, rule };
            let cond = compiler.condition(&e.expr).map_err(|err| locate(&e.rule, e.origin.as_ref(), err))?;
            conds.push(cond.specialise());
            rules.push(e.rule.clone());
        }
        let columns_used = used.iter().enumerate().filter(|(_, &u)| u).map(|(i, _)| i).collect();
        Ok(CompiledRules { rules, conds, columns_used })
    }
}

fn locate(rule: &Rule, origin: Option<&Origin>, e: ExprError) -> RuleError {
    let err = RuleError::new(e.kind, e.message).in_rule(&rule.name);
    match origin {
        Some(o) => {
            let pos = o.when_pos.get(e.at).or(o.when_pos.last()).copied().unwrap_or(o.name_pos);
            err.in_file(&o.file).at(Some(pos))
        }
        None => err.at(Some(line_col(&rule.when, e.at))),
    }
}

/// Enabled rules bound to a schema, ready to evaluate rows.
///
/// Evaluation performs no allocation and no name lookup: columns are indices, constants are
/// decoded, results go into the caller's reusable [`FiredRules`].
#[derive(Debug, Clone)]
pub struct CompiledRules {
    rules: Vec<Rule>,
    conds: Vec<Cond>,
    columns_used: Vec<usize>,
}

impl CompiledRules {
    /// Schema indices that any rule reads, ascending: the only columns a row needs to carry.
    pub fn columns_used(&self) -> &[usize] {
        &self.columns_used
    }

    /// The compiled rules; their positions are the indices in [`FiredRules`].
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Evaluates every rule against `row`; `fired` is cleared first and then holds the matches.
    /// Accepts `&dyn Row` as well as concrete rows (which then avoid dynamic dispatch).
    pub fn evaluate<R: Row + ?Sized>(&self, row: &R, fired: &mut FiredRules) {
        fired.reset(self.conds.len());
        for (i, c) in self.conds.iter().enumerate() {
            if c.eval(row) {
                fired.set(i);
            }
        }
    }

    /// Whether rule `index` matches `row`; `false` for an index out of range.
    pub fn matches<R: Row + ?Sized>(&self, index: usize, row: &R) -> bool {
        self.conds.get(index).is_some_and(|c| c.eval(row))
    }

    /// The rules recorded in `fired`, in order.
    pub fn fired<'a>(&'a self, fired: &'a FiredRules) -> impl Iterator<Item = &'a Rule> + 'a {
        fired.iter().filter_map(|i| self.rules.get(i))
    }
}
