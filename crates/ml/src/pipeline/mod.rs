//! The `knn`, `kmeans` and `predict` workflows end to end (the CLI only parses flags): read,
//! prepare, fit, report. Shared pieces live here; each workflow has its own file.

mod kmeans;
mod knn;
mod predict;

pub use kmeans::{cluster_names, run_kmeans, run_kmeans_clustered, Clustering, KmeansJob};
pub use knn::{run_knn, KnnJob};
pub use predict::{run_predict, PredictJob};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

use crate::error::{MlError, Result};
use crate::features::{PrepStats, Preprocessor};
use crate::table::{self, is_missing_token, LoadOptions, Table};

/// Where the rows come from.
#[derive(Clone, Debug, Default)]
pub struct Input {
    /// One table, split into train and test (`knn`) or clustered whole (`kmeans`).
    pub data: Option<PathBuf>,
    pub train: Option<PathBuf>,
    pub test: Option<PathBuf>,
    pub load: LoadOptions,
    /// A table already in memory, used instead of reading `data` (which then only names it).
    pub table: Option<std::sync::Arc<Table>>,
}

/// What a job prints and its JSON report.
pub struct Outcome {
    pub text: String,
    pub json: Value,
}

/// Wall-clock time of each phase, for the report (never asserted on: machines differ).
pub(crate) struct Timer {
    start: Instant,
    last: Instant,
    phases: Vec<(&'static str, f64)>,
}

impl Timer {
    pub(crate) fn new() -> Self {
        let now = Instant::now();
        Timer { start: now, last: now, phases: Vec::new() }
    }
    pub(crate) fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.phases.push((name, (now - self.last).as_secs_f64()));
        self.last = now;
    }
    pub(crate) fn json(&self) -> Value {
        let mut m: serde_json::Map<String, Value> =
            self.phases.iter().map(|(n, s)| (n.to_string(), json!(s))).collect();
        m.insert("total".into(), json!(self.start.elapsed().as_secs_f64()));
        Value::Object(m)
    }
    pub(crate) fn text(&self) -> String {
        let parts: Vec<String> = self.phases.iter().map(|(n, s)| format!("{n} {s:.3}")).collect();
        format!("time (s): {}, total {:.3}\n", parts.join(", "), self.start.elapsed().as_secs_f64())
    }
}

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> MlError + '_ {
    move |e| MlError::Io { path: path.to_path_buf(), source: e }
}

/// The job's one table: the preloaded one, or `path` read.
pub(crate) fn load_input(input: &Input, path: &Path, label: Option<&String>) -> Result<Table> {
    match &input.table {
        Some(t) => check_loaded(t.as_ref().clone(), label),
        None => load(path, &input.load, label),
    }
}

/// Read a table; the label (if any) is kept as text and must exist.
pub(crate) fn load(path: &Path, opts: &LoadOptions, label: Option<&String>) -> Result<Table> {
    let mut o = opts.clone();
    if let Some(l) = label {
        o.keep_text.push(l.clone());
    }
    check_loaded(table::read_table(path, &o)?, label)
}

fn check_loaded(t: Table, label: Option<&String>) -> Result<Table> {
    if let Some(l) = label {
        if t.index_of(l).is_none() {
            return Err(MlError::Data {
                file: t.source.clone(),
                msg: format!("label column '{l}' not found (columns: {})", t.names.join(", ")),
            });
        }
    }
    if t.n_rows() == 0 {
        return Err(MlError::Data { file: t.source.clone(), msg: "no data rows".into() });
    }
    Ok(t)
}

/// The label of every row, the rows that have one, and how many do not (empty or a missing
/// token such as `-`: such rows cannot be trained on or scored against, so they are counted).
pub(crate) fn labels_of(t: &Table, label: &str) -> Result<(Vec<String>, Vec<usize>, usize)> {
    let idx = t
        .index_of(label)
        .ok_or_else(|| MlError::Data { file: t.source.clone(), msg: format!("label column '{label}' not found") })?;
    let labels = t.text_column(idx);
    let ok: Vec<usize> = (0..t.n_rows()).filter(|&r| !is_missing_token(labels[r].trim())).collect();
    let dropped = t.n_rows() - ok.len();
    Ok((labels, ok, dropped))
}

pub(crate) fn data_json(t: &Table, stats: &PrepStats, label_missing: usize) -> Value {
    json!({
        "file": t.source,
        "rows_read": t.n_rows() + t.bad_rows_skipped,
        "bad_rows_skipped": t.bad_rows_skipped,
        "bad_row_examples": t.bad_row_examples,
        "rows_without_label": label_missing,
        "rows_dropped_missing": stats.rows_dropped_missing,
        "missing_values_filled": stats.missing_filled,
        "infinite_values_replaced": stats.infinite_replaced,
        "rows_used": stats.rows_used,
    })
}

pub(crate) fn data_text(out: &mut String, role: &str, t: &Table, stats: &PrepStats, label_missing: usize) {
    let _ = writeln!(
        out,
        "{role}: {} — {} rows used; {} bad rows skipped, {} without label, {} dropped for missing values; {} missing values filled, {} infinite values replaced",
        t.source, stats.rows_used, t.bad_rows_skipped, label_missing, stats.rows_dropped_missing, stats.missing_filled, stats.infinite_replaced
    );
    for e in &t.bad_row_examples {
        let _ = writeln!(out, "  skipped: {e}");
    }
}

pub(crate) fn features_text(out: &mut String, pre: &Preprocessor) {
    let _ = writeln!(
        out,
        "features: {} ({} input columns, scale {:?}, missing {:?})",
        pre.feature_names.len(),
        pre.inputs.len(),
        pre.scale,
        pre.missing
    );
    if !pre.dropped.is_empty() {
        let list: Vec<String> = pre.dropped.iter().map(|d| format!("{} ({})", d.column, d.reason)).collect();
        let _ = writeln!(out, "left out: {}", list.join(", "));
    }
}

/// The feature part of a report: names, how each input column was encoded, what was left out.
pub(crate) fn features_json(pre: &Preprocessor) -> Value {
    json!({
        "names": pre.feature_names,
        "inputs": serde_json::to_value(&pre.inputs).unwrap_or(Value::Null),
        "left_out": serde_json::to_value(&pre.dropped).unwrap_or(Value::Null),
        "scale": pre.scale,
        "missing": pre.missing,
    })
}

pub(crate) fn write_json(path: &Path, v: &Value) -> Result<()> {
    let s = serde_json::to_string_pretty(v).map_err(|e| MlError::Config(e.to_string()))?;
    std::fs::write(path, s + "\n").map_err(io_err(path))
}

pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
