//! Comparing one of our tables with its golden table, column by column.

use serde::Serialize;

use crate::columns::{is_legit_different, kind_of, ColumnKind, FLOW_INDEX};
use crate::compare::{flow_pairing_ok, values_equal};
use crate::error::Result;
use crate::join::{display_key, join};
use crate::table::Table;

#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Mismatch examples kept per column (and per one-sided row list).
    pub examples: usize,
    /// Only these columns, when given.
    pub columns: Option<Vec<String>>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { examples: 3, columns: None }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// Which capture, filled in by `run`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub capture: String,
    pub key: String,
    pub golden: String,
    pub ours: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnStat {
    pub name: String,
    /// Listed in golden/README.md as allowed to differ.
    pub legit: bool,
    /// Joined rows compared, and how many were equal.
    pub compared: u64,
    pub equal: u64,
    pub examples: Vec<Example>,
}

impl ColumnStat {
    pub fn mismatches(&self) -> u64 {
        self.compared - self.equal
    }
}

/// Per-side totals, the README's "useful first check".
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub a_rows: u64,
    pub b_rows: u64,
    /// Sum of `pktsSnt` over all rows (every packet is sent by exactly one row).
    pub packets: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub golden_rows: u64,
    pub ours_rows: u64,
    pub joined: u64,
    pub only_golden: u64,
    pub only_ours: u64,
    pub only_golden_examples: Vec<String>,
    pub only_ours_examples: Vec<String>,
    pub golden_duplicate_keys: usize,
    /// Golden columns our table does not have (extra columns of ours are ignored).
    pub missing_columns: Vec<String>,
    /// Golden's column order.
    pub columns: Vec<ColumnStat>,
    pub golden_totals: Totals,
    pub ours_totals: Totals,
}

/// Diffs `ours` against `golden`.
pub fn diff_tables(golden: &Table, ours: &Table, opt: &DiffOptions) -> Result<DiffReport> {
    let joined = join(golden, ours)?;
    let wanted = |name: &str| opt.columns.as_ref().map_or(true, |c| c.iter().any(|x| x == name));
    let mut missing_columns = Vec::new();
    let mut columns = Vec::new();
    for (gc, name) in golden.names.iter().enumerate() {
        if !wanted(name) {
            continue;
        }
        let Some(oc) = ours.col(name) else {
            missing_columns.push(name.clone());
            continue;
        };
        let kind = kind_of(name);
        let values: Vec<(&str, &str)> = joined
            .pairs
            .iter()
            .map(|&(g, o)| (golden.rows[g].fields[gc].as_str(), ours.rows[o].fields[oc].as_str()))
            .collect();
        let ok: Vec<bool> = if kind == ColumnKind::Pairing {
            flow_pairing_ok(&values)
        } else {
            values.iter().map(|&(g, o)| values_equal(kind, g, o)).collect()
        };
        let mut stat = ColumnStat {
            name: name.clone(),
            legit: is_legit_different(name),
            compared: ok.len() as u64,
            equal: ok.iter().filter(|&&b| b).count() as u64,
            examples: Vec::new(),
        };
        for (i, _) in ok.iter().enumerate().filter(|(_, &b)| !b).take(opt.examples) {
            let (g, _) = joined.pairs[i];
            stat.examples.push(Example {
                capture: String::new(),
                key: display_key(golden, &golden.rows[g]),
                golden: values[i].0.to_owned(),
                ours: if name == FLOW_INDEX {
                    format!("{} (A/B pairing differs)", values[i].1)
                } else {
                    values[i].1.to_owned()
                },
            });
        }
        columns.push(stat);
    }
    let keys = |t: &Table, idx: &[usize]| -> Vec<String> {
        idx.iter().take(opt.examples).map(|&i| display_key(t, &t.rows[i])).collect()
    };
    Ok(DiffReport {
        golden_rows: golden.rows.len() as u64,
        ours_rows: ours.rows.len() as u64,
        joined: joined.pairs.len() as u64,
        only_golden: joined.only_golden.len() as u64,
        only_ours: joined.only_ours.len() as u64,
        only_golden_examples: keys(golden, &joined.only_golden),
        only_ours_examples: keys(ours, &joined.only_ours),
        golden_duplicate_keys: joined.golden_duplicate_keys,
        missing_columns,
        columns,
        golden_totals: totals(golden),
        ours_totals: totals(ours),
    })
}

/// Row and packet totals of a table; a value that is not a number counts as 0 packets (the
/// `pktsSnt` column comparison shows it).
pub fn totals(t: &Table) -> Totals {
    let mut out = Totals::default();
    for row in &t.rows {
        match t.get(row, "%dir") {
            "A" => out.a_rows += 1,
            "B" => out.b_rows += 1,
            _ => {}
        }
        out.packets += t.get(row, "pktsSnt").parse::<u64>().unwrap_or(0);
    }
    out
}
