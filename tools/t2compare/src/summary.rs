//! Adding capture-level diffs up into one picture, and printing it.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::diff::{DiffReport, Example};

/// How many captures to name per column as the largest sources of mismatches.
const TOP_CAPTURES: usize = 5;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ColumnAgg {
    pub name: String,
    pub legit: bool,
    /// Joined golden rows of captures whose table has this column, and how many were equal.
    pub compared: u64,
    pub equal: u64,
    /// `equal` as a share of *all* joined golden rows (a missing column counts as unequal).
    pub agreement_pct: f64,
    pub top_captures: Vec<(String, u64)>,
    pub examples: Vec<Example>,
    #[serde(skip)]
    per_capture: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Aggregate {
    pub captures: u64,
    pub golden_rows: u64,
    pub ours_rows: u64,
    pub joined: u64,
    pub rows_present_pct: f64,
    pub only_golden: u64,
    pub only_ours: u64,
    pub only_golden_examples: Vec<String>,
    pub only_ours_examples: Vec<String>,
    /// Captures with at least one golden primary key shared by several rows.
    pub captures_with_duplicate_keys: Vec<String>,
    /// Column name → number of captures whose table lacks it.
    pub missing_columns: BTreeMap<String, u64>,
    pub columns: Vec<ColumnAgg>,
}

impl Aggregate {
    /// Golden rows of a capture we could not compare (tool failed): all count as missing.
    pub fn add_unrun(&mut self, golden_rows: u64) {
        self.captures += 1;
        self.golden_rows += golden_rows;
        self.only_golden += golden_rows;
    }

    pub fn add(&mut self, capture: &str, d: &DiffReport, examples: usize) {
        self.captures += 1;
        self.golden_rows += d.golden_rows;
        self.ours_rows += d.ours_rows;
        self.joined += d.joined;
        self.only_golden += d.only_golden;
        self.only_ours += d.only_ours;
        let tag = |k: &String| format!("{capture}: {k}");
        extend_capped(&mut self.only_golden_examples, d.only_golden_examples.iter().map(tag), examples);
        extend_capped(&mut self.only_ours_examples, d.only_ours_examples.iter().map(tag), examples);
        if d.golden_duplicate_keys > 0 {
            self.captures_with_duplicate_keys.push(capture.to_owned());
        }
        for m in &d.missing_columns {
            *self.missing_columns.entry(m.clone()).or_default() += 1;
            self.column(m, crate::columns::is_legit_different(m));
        }
        for c in &d.columns {
            let agg = self.column(&c.name, c.legit);
            agg.compared += c.compared;
            agg.equal += c.equal;
            if c.mismatches() > 0 {
                agg.per_capture.insert(capture.to_owned(), c.mismatches());
            }
            let with_capture = c.examples.iter().map(|e| Example { capture: capture.to_owned(), ..e.clone() });
            extend_capped(&mut agg.examples, with_capture, examples);
        }
    }

    fn column(&mut self, name: &str, legit: bool) -> &mut ColumnAgg {
        let i = match self.columns.iter().position(|c| c.name == name) {
            Some(i) => i,
            None => {
                self.columns.push(ColumnAgg { name: name.to_owned(), legit, ..Default::default() });
                self.columns.len() - 1
            }
        };
        &mut self.columns[i]
    }

    /// Computes the percentages and per-column top captures once everything is added.
    pub fn finish(&mut self) {
        self.rows_present_pct = pct(self.joined, self.golden_rows);
        for c in &mut self.columns {
            c.agreement_pct = pct(c.equal, self.joined);
            let mut top: Vec<(String, u64)> = c.per_capture.iter().map(|(k, v)| (k.clone(), *v)).collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            top.truncate(TOP_CAPTURES);
            c.top_captures = top;
        }
    }

    pub fn column_stat(&self, name: &str) -> Option<&ColumnAgg> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// A readable table: rows, then the columns that disagree (worst first), then those that
    /// agree fully, then the legitimately different ones.
    pub fn render(&self, title: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "== {title}: {} captures", self.captures);
        let _ = writeln!(
            s,
            "rows: golden {}, ours {}, joined {} ({:.2}% of golden present); only in golden {}, only in ours {}",
            self.golden_rows, self.ours_rows, self.joined, self.rows_present_pct, self.only_golden, self.only_ours
        );
        for e in &self.only_golden_examples {
            let _ = writeln!(s, "  only in golden: {e}");
        }
        for e in &self.only_ours_examples {
            let _ = writeln!(s, "  only in ours:   {e}");
        }
        if !self.captures_with_duplicate_keys.is_empty() {
            let _ =
                writeln!(s, "golden key duplicates (tie-broken) in: {}", self.captures_with_duplicate_keys.join(", "));
        }
        if !self.missing_columns.is_empty() {
            let names: Vec<&str> = self.missing_columns.keys().map(String::as_str).collect();
            let _ = writeln!(s, "missing columns ({}): {}", names.len(), names.join(" "));
        }
        let compared = |c: &&ColumnAgg| c.compared > 0;
        let mut bad: Vec<&ColumnAgg> = self.columns.iter().filter(|c| !c.legit && c.equal < c.compared).collect();
        bad.sort_by(|a, b| a.agreement_pct.total_cmp(&b.agreement_pct));
        let good: Vec<&str> = self
            .columns
            .iter()
            .filter(compared)
            .filter(|c| !c.legit && c.equal == c.compared)
            .map(|c| c.name.as_str())
            .collect();
        let _ = writeln!(s, "{:<24} {:>8} {:>10} {:>10}  top captures", "column", "agree%", "compared", "mismatch");
        for c in &bad {
            render_column(&mut s, c);
        }
        if !good.is_empty() {
            let _ = writeln!(s, "fully equal where present ({}): {}", good.len(), good.join(" "));
        }
        let legit: Vec<&ColumnAgg> = self.columns.iter().filter(compared).filter(|c| c.legit).collect();
        if !legit.is_empty() {
            let _ = writeln!(s, "-- legitimately different columns (not failures):");
            for c in legit {
                render_column(&mut s, c);
            }
        }
        s
    }
}

fn render_column(s: &mut String, c: &ColumnAgg) {
    let top: Vec<String> = c.top_captures.iter().map(|(k, v)| format!("{k} ({v})")).collect();
    let _ = writeln!(
        s,
        "{:<24} {:>7.2}% {:>10} {:>10}  {}",
        c.name,
        c.agreement_pct,
        c.compared,
        c.compared - c.equal,
        top.join(", ")
    );
    for e in &c.examples {
        let at = if e.capture.is_empty() { String::new() } else { format!("{}: ", e.capture) };
        let _ = writeln!(s, "    {at}{}: golden `{}` ours `{}`", e.key, e.golden, e.ours);
    }
}

fn extend_capped<T>(v: &mut Vec<T>, items: impl Iterator<Item = T>, cap: usize) {
    let room = cap.saturating_sub(v.len());
    v.extend(items.take(room));
}

/// `part` as a percentage of `whole`; 100% of nothing, so empty sets do not fail thresholds.
pub fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        100.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}
