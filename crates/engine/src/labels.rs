//! Anomaly labels: every flow row gets `anomaly` (0/1) and `anomalyRules` (the names of the rules
//! that fired, `;`-separated, `-` if none), decided by rules over the row's own columns.
//!
//! The labeller sits where a row is written, independent of where columns are computed: it runs
//! the row's writers once into a [`ValueSink`] that keeps only the columns the compiled rules read
//! ([`CompiledRules::columns_used`]), evaluates the rules, and then writes the two label columns
//! after the real row. After the first rows nothing allocates.
//!
//! ```
//! use netanom_engine::labels::Labeller;
//! use netanom_flow::features;
//! let columns: Vec<_> = features::columns().copied().collect();
//! // The built-in rules, with no user file merged over them.
//! let labeller = Labeller::defaults_with(None, &columns).unwrap();
//! assert!(labeller.rules().len() > 5);
//! ```

use std::fmt;

use crate::observe::{PairView, SharedObserver};
use netanom_flow::features;
use netanom_flow::schema::{Column, IpText, Kind, ValueSink};
use netanom_flow::FlowRecord;
use netanom_rules::{
    ColumnKind, ColumnSpec, CompiledRules, ErrorKind, FiredRules, RowValues, Rule, RuleError, RuleSet,
};
use serde::Serialize;

/// The default rule set shipped in the binary (`rules/default.toml`, documented in docs/rules.md).
pub const DEFAULT_RULES_TOML: &str = include_str!("../../../rules/default.toml");

/// The labeller's columns, written after every other column: two aggregates from the
/// [`Observer`](crate::observe::Observer) (0 without one), then the labels.
pub const LABEL_COLUMNS: &[Column] = &[
    Column::new(
        "srcDstPorts",
        "U32",
        Kind::UInt,
        "netanom: distinct destination ports the initiator tried on the responder (SYNs, UDP requests) from 1 min before to 1 min after the flow",
    ),
    Column::new(
        "srcDstPortConns",
        "U32",
        Kind::UInt,
        "netanom: connection attempts of the initiator on this flow's responder port, from 1 min before to 1 min after the flow",
    ),
    Column::new("anomaly", "U8", Kind::UInt, "netanom: 1 if any anomaly rule fired for this flow, else 0"),
    Column::new("anomalyRules", "SC:R", Kind::ShortStr, "netanom: names of the rules that fired (;-separated), - if none"),
];

/// Parses the built-in rule set.
pub fn default_rules() -> RuleSet {
    // The file is part of the binary and checked by a test, so it always parses.
    RuleSet::parse_str(DEFAULT_RULES_TOML, "rules/default.toml").unwrap_or_default()
}

/// How a flow column is read by rules.
fn rule_kind(k: Kind) -> ColumnKind {
    match k {
        Kind::UInt | Kind::Int | Kind::Hex(_) => ColumnKind::Int,
        Kind::Float | Kind::Double | Kind::Duration | Kind::Timestamp => ColumnKind::Float,
        Kind::Char | Kind::Str | Kind::ShortStr | Kind::Ip | Kind::Mac | Kind::Text => ColumnKind::Str,
    }
}

/// The rule schema of a flow table: its columns by Tranalyzer2 name (`%dir` is `dir`), then the
/// aggregate columns the labeller adds (the first two of [`LABEL_COLUMNS`]).
pub fn rule_schema(columns: &[Column]) -> Vec<ColumnSpec> {
    columns.iter().chain(&LABEL_COLUMNS[..AGGREGATES]).map(|c| ColumnSpec::new(c.name, rule_kind(c.kind))).collect()
}

/// How many of [`LABEL_COLUMNS`] are aggregates that rules may read.
const AGGREGATES: usize = 2;

/// How many rows one rule labelled.
#[derive(Debug, Clone, Serialize)]
pub struct RuleCount {
    pub name: String,
    pub severity: String,
    pub rows: u64,
}

/// Labelling totals for the end report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LabelReport {
    /// Rows with at least one rule fired.
    pub anomalous_rows: u64,
    pub rows: u64,
    /// Per enabled rule, in rule order.
    pub rules: Vec<RuleCount>,
    /// Default rules left out because this build has no column they read.
    pub skipped_rules: Vec<String>,
}

/// Evaluates the rules for each row and writes the label columns.
pub struct Labeller {
    compiled: CompiledRules,
    capture: Capture,
    fired: FiredRules,
    names: String,
    counts: Vec<u64>,
    rows: u64,
    anomalous: u64,
    skipped: Vec<String>,
    observer: Option<SharedObserver>,
    /// Column index of `srcDstPorts` in the rule schema.
    first_aggregate: usize,
    aggregates: [u64; AGGREGATES],
    ports_seen: Vec<u16>,
}

impl Labeller {
    /// Binds `rules` to the table's `columns` (the flow columns, without the label columns).
    pub fn new(rules: RuleSet, columns: &[Column]) -> Result<Labeller, RuleError> {
        Self::with_defaults_checked(rules, columns, &[])
    }

    /// Like [`new`](Self::new), but rules named in `lenient` that read a column this build does not
    /// have are switched off (and listed in the report) instead of failing: the default set may
    /// name columns of plugins a build leaves out. Every other error is returned.
    pub fn with_defaults_checked(
        mut rules: RuleSet,
        columns: &[Column],
        lenient: &[String],
    ) -> Result<Labeller, RuleError> {
        let schema = rule_schema(columns);
        let mut skipped = Vec::new();
        let mut off = Vec::new();
        for r in rules.rules().filter(|r| r.enabled && lenient.contains(&r.name)) {
            let alone = RuleSet::from_rules(vec![r.clone()]).and_then(|s| s.compile(&schema));
            if matches!(&alone, Err(e) if e.kind() == ErrorKind::UnknownColumn) {
                skipped.push(r.name.clone());
                off.push(Rule { enabled: false, ..r.clone() });
            }
        }
        if !off.is_empty() {
            rules.extend(RuleSet::from_rules(off)?);
        }
        let compiled = rules.compile(&schema)?;
        let capture = Capture::new(schema.len(), compiled.columns_used());
        let counts = vec![0; compiled.len()];
        Ok(Labeller {
            compiled,
            capture,
            fired: FiredRules::new(),
            names: String::with_capacity(128),
            counts,
            rows: 0,
            anomalous: 0,
            skipped,
            observer: None,
            first_aggregate: columns.len(),
            aggregates: [0; AGGREGATES],
            ports_seen: Vec::with_capacity(64),
        })
    }

    /// Reads the per-source aggregates from `observer` (the one the run's [`FlowJob`](crate::FlowJob) feeds).
    pub fn with_observer(mut self, observer: SharedObserver) -> Labeller {
        self.observer = Some(observer);
        self
    }

    fn read_aggregates(&mut self, rec: &FlowRecord, due_ns: u64, end_seq: u64) {
        self.aggregates = [0; AGGREGATES];
        let Some(o) = &self.observer else { return };
        let v = o.lock().unwrap_or_else(|e| e.into_inner()).row_view(rec, due_ns, end_seq, &mut self.ports_seen);
        self.aggregates = [v.ports as u64, v.port_attempts as u64];
    }

    /// The default rules merged with `user` (a user rule replaces the default of the same name),
    /// bound to `columns`; defaults whose columns this build lacks are skipped.
    pub fn defaults_with(user: Option<RuleSet>, columns: &[Column]) -> Result<Labeller, RuleError> {
        let mut rules = default_rules();
        let user_names: Vec<String> = user.iter().flat_map(|u| u.rules().map(|r| r.name.clone())).collect();
        let lenient: Vec<String> = rules.rules().map(|r| r.name.clone()).filter(|n| !user_names.contains(n)).collect();
        if let Some(u) = user {
            rules.extend(u);
        }
        Self::with_defaults_checked(rules, columns, &lenient)
    }

    /// The enabled rules, in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        self.compiled.rules()
    }

    /// Evaluates the rules on the row of `rec` (`opp`: the other direction) and prepares its labels.
    /// `due_ns`: when the conversation was due to end (`Ending::deadline_ns`; `u64::MAX` if unknown).
    pub fn label(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>, due_ns: u64) {
        self.label_at(rec, opp, due_ns, u64::MAX);
    }

    /// [`Labeller::label`] for a conversation that ended at packet `end_seq`
    /// (`Ending::end_seq`): the per-source aggregates then count only the packets up to it, which
    /// makes them the same with one flow table or with `--threads`.
    pub fn label_at(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>, due_ns: u64, end_seq: u64) {
        self.read_aggregates(rec, due_ns, end_seq);
        self.evaluate(rec, opp);
    }

    /// [`Labeller::label`] with the per-source aggregates already known (with `--threads`, the
    /// shard that holds the row's address pair computes them when the conversation ends).
    pub fn label_with(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>, view: PairView) {
        self.aggregates = [view.ports as u64, view.port_attempts as u64];
        self.evaluate(rec, opp);
    }

    fn evaluate(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>) {
        self.capture.begin();
        features::write_row(rec, opp, &mut self.capture);
        for (i, v) in self.aggregates.iter().enumerate() {
            self.capture.row.set_int(self.first_aggregate + i, *v);
        }
        self.compiled.evaluate(&self.capture.row, &mut self.fired);
        self.names.clear();
        for i in self.fired.iter() {
            if let (Some(n), Some(r)) = (self.counts.get_mut(i), self.compiled.rules().get(i)) {
                *n += 1;
                if !self.names.is_empty() {
                    self.names.push(';');
                }
                self.names.push_str(&r.name);
            }
        }
        self.rows += 1;
        if self.names.is_empty() {
            self.names.push('-');
        } else {
            self.anomalous += 1;
        }
    }

    /// The rules that fired on the last row labelled, as indices into [`rules`](Self::rules).
    pub fn fired(&self) -> impl Iterator<Item = usize> + '_ {
        self.fired.iter()
    }

    /// Whether the last row labelled is anomalous.
    pub fn is_anomalous(&self) -> bool {
        !self.fired.is_empty()
    }

    /// The rules that fired on the last row labelled, in rule order.
    pub fn fired_rules(&self) -> impl Iterator<Item = &Rule> + '_ {
        self.fired.iter().filter_map(|i| self.compiled.rules().get(i))
    }

    /// The `anomalyRules` text of the last row labelled (`-` if none fired).
    pub fn fired_names(&self) -> &str {
        &self.names
    }

    /// Writes the label columns of the last row labelled.
    pub fn write(&self, w: &mut dyn ValueSink) {
        for v in self.aggregates {
            w.uint(v);
        }
        w.uint(self.is_anomalous() as u64);
        w.short_str(&self.names);
    }

    /// A labeller with the same rules and observer and no counts yet (one per formatting thread).
    pub fn fork(&self) -> Labeller {
        Labeller {
            compiled: self.compiled.clone(),
            capture: Capture::new(self.capture.wanted.len(), self.compiled.columns_used()),
            fired: FiredRules::new(),
            names: String::with_capacity(128),
            counts: vec![0; self.counts.len()],
            rows: 0,
            anomalous: 0,
            skipped: self.skipped.clone(),
            observer: self.observer.clone(),
            first_aggregate: self.first_aggregate,
            aggregates: [0; AGGREGATES],
            ports_seen: Vec::with_capacity(64),
        }
    }

    /// Adds the counts of a [`fork`](Self::fork) to this labeller's.
    pub fn absorb(&mut self, other: &Labeller) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.rows += other.rows;
        self.anomalous += other.anomalous;
    }

    pub fn report(&self) -> LabelReport {
        let rules = self
            .compiled
            .rules()
            .iter()
            .zip(&self.counts)
            .map(|(r, &rows)| RuleCount { name: r.name.clone(), severity: r.severity.to_string(), rows })
            .collect();
        LabelReport { anomalous_rows: self.anomalous, rows: self.rows, rules, skipped_rules: self.skipped.clone() }
    }
}

/// A value sink that keeps only the columns rules read, typed the way rules read them.
struct Capture {
    /// Per column: whether a rule reads it.
    wanted: Vec<bool>,
    col: usize,
    row: RowValues,
    scratch: String,
}

impl Capture {
    fn new(columns: usize, used: &[usize]) -> Capture {
        let mut wanted = vec![false; columns];
        for &i in used {
            if let Some(w) = wanted.get_mut(i) {
                *w = true;
            }
        }
        Capture { wanted, col: 0, row: RowValues::new(columns), scratch: String::with_capacity(64) }
    }

    fn begin(&mut self) {
        self.col = 0;
        self.row.clear();
    }

    /// The index of the value being written, if a rule reads it; advances to the next column.
    #[inline]
    fn next(&mut self) -> Option<usize> {
        let i = self.col;
        self.col += 1;
        self.wanted.get(i).copied().unwrap_or(false).then_some(i)
    }

    fn set_scratch(&mut self, i: usize) {
        self.row.set_str(i, &self.scratch);
    }
}

impl ValueSink for Capture {
    fn char(&mut self, c: char) {
        if let Some(i) = self.next() {
            let mut b = [0u8; 4];
            self.row.set_str(i, c.encode_utf8(&mut b));
        }
    }
    fn uint(&mut self, v: u64) {
        if let Some(i) = self.next() {
            self.row.set_int(i, v);
        }
    }
    fn int(&mut self, v: i64) {
        if let Some(i) = self.next() {
            self.row.set_int(i, v);
        }
    }
    fn hex(&mut self, v: u64, _digits: u8) {
        self.uint(v)
    }
    fn float(&mut self, v: f64) {
        if let Some(i) = self.next() {
            self.row.set_float(i, v);
        }
    }
    fn double(&mut self, v: f64) {
        self.float(v)
    }
    fn timestamp(&mut self, ns: u64) {
        self.float(ns as f64 * 1e-9)
    }
    fn duration(&mut self, ns: u64) {
        self.float(ns as f64 * 1e-9)
    }
    fn str(&mut self, s: &str) {
        if let Some(i) = self.next() {
            self.row.set_str(i, s);
        }
    }
    fn short_str(&mut self, s: &str) {
        self.str(s)
    }
    fn ip(&mut self, addr: &IpText) {
        if let Some(i) = self.next() {
            self.scratch.clear();
            addr.push_to(&mut self.scratch);
            self.set_scratch(i);
        }
    }
    fn mac(&mut self, mac: &[u8; 6]) {
        if let Some(i) = self.next() {
            self.scratch.clear();
            let _ = netanom_flow::schema::write_mac(&mut self.scratch, mac);
            self.set_scratch(i);
        }
    }
    fn text(&mut self, f: &dyn Fn(&mut dyn fmt::Write) -> fmt::Result) {
        if let Some(i) = self.next() {
            self.scratch.clear();
            let _ = f(&mut self.scratch);
            self.set_scratch(i);
        }
    }
    fn empty(&mut self) {
        // Missing: `begin` already cleared it.
        self.next();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column> {
        features::columns().copied().collect()
    }

    #[test]
    fn default_rules_parse() {
        let set = RuleSet::parse_str(DEFAULT_RULES_TOML, "rules/default.toml");
        assert!(set.is_ok(), "{}", set.err().map(|e| e.to_string()).unwrap_or_default());
        let set = set.unwrap_or_default();
        let seed = set.get("seed-tcpanomaly-gt4").expect("the seed's rule is shipped");
        assert_eq!(seed.when, "tcpAnomaly > 4");
        assert!(!seed.enabled);
    }

    #[test]
    fn labels_a_row_from_its_columns() {
        let rules = RuleSet::parse_str(
            "[[rule]]\nname = \"ipv4\"\nwhen = \"flowStat & 0x4000\"\n[[rule]]\nname = \"a-row\"\nwhen = 'dir == \"A\"'\n\
             [[rule]]\nname = \"never\"\nwhen = \"l4Proto == 99\"\n",
            "t.toml",
        )
        .unwrap();
        let mut l = Labeller::new(rules, &columns()).unwrap();
        let mut rec = FlowRecord::default();
        rec.stat = 0x4000;
        l.label(&rec, None, u64::MAX);
        assert!(l.is_anomalous());
        assert_eq!(l.names, "ipv4;a-row");
        rec.is_b = true;
        rec.stat = 0;
        l.label(&rec, None, u64::MAX);
        assert!(!l.is_anomalous());
        assert_eq!(l.names, "-");
        let r = l.report();
        assert_eq!((r.rows, r.anomalous_rows), (2, 1));
        assert_eq!(r.rules.iter().map(|c| c.rows).collect::<Vec<_>>(), [1, 1, 0]);
    }

    #[test]
    fn forks_label_with_given_aggregates_and_add_up() {
        let rules = RuleSet::parse_str("[[rule]]\nname = \"scan\"\nwhen = \"srcDstPorts >= 10\"\n", "t.toml").unwrap();
        let mut l = Labeller::new(rules, &columns()).unwrap();
        let mut f = l.fork();
        let rec = FlowRecord::default();
        f.label_with(&rec, None, PairView { ports: 12, port_attempts: 1 });
        assert_eq!(f.fired_names(), "scan");
        f.label_with(&rec, None, PairView { ports: 3, port_attempts: 1 });
        assert!(!f.is_anomalous());
        l.absorb(&f);
        let r = l.report();
        assert_eq!((r.rows, r.anomalous_rows, r.rules[0].rows), (2, 1, 1));
    }

    #[test]
    fn user_rules_override_defaults_and_missing_columns_only_skip_defaults() {
        let user = RuleSet::parse_str("[[rule]]\nname = \"seed-tcpanomaly-gt4\"\nwhen = \"l4Proto == 6\"\n", "u.toml")
            .unwrap();
        let l = Labeller::defaults_with(Some(user), &columns()).unwrap();
        assert!(l.rules().iter().any(|r| r.name == "seed-tcpanomaly-gt4" && r.when == "l4Proto == 6"));

        let bad = RuleSet::parse_str("[[rule]]\nname = \"x\"\nwhen = \"noSuchColumn > 1\"\n", "u.toml").unwrap();
        let err = Labeller::defaults_with(Some(bad), &columns()).err().expect("user rules stay strict");
        assert_eq!(err.kind(), ErrorKind::UnknownColumn);
    }
}
