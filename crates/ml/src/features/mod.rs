//! Feature selection, categorical encoding, missing values and scaling: a [`Preprocessor`] is
//! fitted on the training rows and applied, unchanged, to test rows and to new tables (it is
//! saved inside a model).

use serde::{Deserialize, Serialize};

use crate::error::{config, MlError, Result};
use crate::matrix::Matrix;
use crate::table::{Column, Table};

mod encode;

/// Feature scaling, fitted on the training rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// scikit-learn's `StandardScaler` (zero mean, unit population variance). The default.
    Standard,
    /// scikit-learn's `MinMaxScaler` to [0, 1].
    MinMax,
    /// No scaling (what the seed did).
    None,
}

impl std::str::FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "standard" => Ok(Scale::Standard),
            "minmax" => Ok(Scale::MinMax),
            "none" => Ok(Scale::None),
            _ => Err(format!("unknown scaling '{s}' (standard|minmax|none)")),
        }
    }
}

/// What to do with text (categorical) columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Categorical {
    /// One column per category seen in training (sorted); unseen categories encode as all zeros.
    OneHot,
    /// Leave text columns out.
    Drop,
}

impl std::str::FromStr for Categorical {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "onehot" => Ok(Categorical::OneHot),
            "drop" => Ok(Categorical::Drop),
            _ => Err(format!("unknown categorical policy '{s}' (onehot|drop)")),
        }
    }
}

/// What to do with missing numeric cells (`""`, `-`, `NaN`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Replace with the column's mean over the finite training values. The default.
    Mean,
    /// Replace with 0.
    Zero,
    /// Drop the row (counted).
    Drop,
}

impl std::str::FromStr for Missing {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "mean" => Ok(Missing::Mean),
            "zero" => Ok(Missing::Zero),
            "drop" => Ok(Missing::Drop),
            _ => Err(format!("unknown missing-value policy '{s}' (mean|zero|drop)")),
        }
    }
}

/// How features are chosen and prepared. Defaults: all numeric columns minus identifiers and
/// label-like columns, text columns one-hot encoded (≤ 64 categories), missing → training mean,
/// ±inf → training max/min, standard scaling.
#[derive(Clone, Debug)]
pub struct FeatureOptions {
    /// The label column (never a feature).
    pub label: Option<String>,
    /// Use exactly these columns (overrides the automatic choice, identifiers included).
    pub features: Option<Vec<String>>,
    /// Columns to leave out.
    pub exclude: Vec<String>,
    /// Keep identifier-like columns (addresses, ports, indices, timestamps) as features.
    pub keep_ids: bool,
    pub categorical: Categorical,
    /// A text column with more categories than this (in training) is dropped (not with `features`).
    pub max_categories: usize,
    pub missing: Missing,
    pub scale: Scale,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions {
            label: None,
            features: None,
            exclude: Vec::new(),
            keep_ids: false,
            categorical: Categorical::OneHot,
            max_categories: 64,
            missing: Missing::Mean,
            scale: Scale::Standard,
        }
    }
}

fn norm(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

/// Identifier-like columns left out by default: row/flow indices, addresses, ports, MACs, timestamps.
pub fn is_identifier(name: &str) -> bool {
    const IDS: &[&str] = &[
        "flowind",
        "id",
        "index",
        "flowid",
        "srcip",
        "dstip",
        "srcip4",
        "dstip4",
        "srcip6",
        "dstip6",
        "srcaddr",
        "dstaddr",
        "saddr",
        "daddr",
        "sourceip",
        "destinationip",
        "ipsrc",
        "ipdst",
        "srcport",
        "dstport",
        "sport",
        "dport",
        "dsport",
        "sourceport",
        "destinationport",
        "srcmac",
        "dstmac",
        "srcmacdstmacnump",
        "timefirst",
        "timelast",
        "stime",
        "ltime",
        "timestamp",
        "time",
        "date",
        "starttime",
        "endtime",
        "firstseen",
        "lastseen",
        "unnamed0",
    ];
    let n = norm(name);
    IDS.contains(&n.as_str())
}

/// Label-like columns left out by default (another label or its metadata would leak the answer).
pub fn is_label_like(name: &str) -> bool {
    const L: &[&str] = &[
        "label",
        "labels",
        "class",
        "attackcat",
        "attack",
        "attacktype",
        "difficulty",
        "difficultylevel",
        "anomaly",
        "outcome",
    ];
    L.contains(&norm(name).as_str())
}

/// How one table column becomes features.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum InputKind {
    /// A numeric column: `fill` replaces missing cells, `pos_inf`/`neg_inf` replace ±∞.
    Num { fill: f64, pos_inf: f64, neg_inf: f64 },
    /// A text column, one output per category.
    OneHot { categories: Vec<String> },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputColumn {
    pub name: String,
    pub kind: InputKind,
}

/// A column the automatic selection left out, and why.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Dropped {
    pub column: String,
    pub reason: String,
}

/// The fitted preprocessing.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Preprocessor {
    pub inputs: Vec<InputColumn>,
    pub feature_names: Vec<String>,
    pub missing: Missing,
    pub scale: Scale,
    /// Per output feature: x' = (x - offset) / divisor for `standard`, x * mult + add for `minmax`.
    pub scale_a: Vec<f64>,
    pub scale_b: Vec<f64>,
    pub dropped: Vec<Dropped>,
}

/// Counts of what the preparation did, for the report.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PrepStats {
    pub rows_in: usize,
    pub rows_used: usize,
    pub missing_filled: usize,
    pub infinite_replaced: usize,
    pub rows_dropped_missing: usize,
    pub rows_dropped_no_label: usize,
}

/// A prepared matrix and which table rows it holds.
pub struct Prepared {
    pub x: Matrix,
    /// Table row index of each matrix row.
    pub rows: Vec<usize>,
    pub stats: PrepStats,
}

impl Preprocessor {
    /// Choose the features and fit the imputation values (not yet the scaler).
    fn select(table: &Table, rows: &[usize], opts: &FeatureOptions) -> Result<Preprocessor> {
        let mut chosen: Vec<usize> = Vec::new();
        let mut dropped = Vec::new();
        if let Some(list) = &opts.features {
            for f in list {
                let idx = table.index_of(f).ok_or_else(|| MlError::Data {
                    file: table.source.clone(),
                    msg: format!("feature column '{f}' not found (columns: {})", table.names.join(", ")),
                })?;
                if Some(f) == opts.label.as_ref() {
                    return config(format!("'{f}' is the label; it cannot also be a feature"));
                }
                if matches!(table.columns[idx], Column::Text(_)) && opts.categorical == Categorical::Drop {
                    return config(format!("feature '{f}' is a text column but --categorical drop was given"));
                }
                chosen.push(idx);
            }
        } else {
            for (i, name) in table.names.iter().enumerate() {
                if Some(name) == opts.label.as_ref() {
                    continue;
                }
                if opts.exclude.iter().any(|e| e == name) {
                    dropped.push(Dropped { column: name.clone(), reason: "excluded (--exclude)".into() });
                    continue;
                }
                if !opts.keep_ids && is_identifier(name) {
                    dropped.push(Dropped { column: name.clone(), reason: "identifier or timestamp".into() });
                    continue;
                }
                if is_label_like(name) {
                    dropped.push(Dropped { column: name.clone(), reason: "label-like column".into() });
                    continue;
                }
                if let Column::Text(_) = table.columns[i] {
                    if opts.categorical == Categorical::Drop {
                        dropped
                            .push(Dropped { column: name.clone(), reason: "text column (--categorical drop)".into() });
                        continue;
                    }
                }
                chosen.push(i);
            }
        }
        for e in &opts.exclude {
            if table.index_of(e).is_none() {
                return config(format!("--exclude: column '{e}' not found in {}", table.source));
            }
        }
        let mut inputs = Vec::new();
        for &c in &chosen {
            let name = table.names[c].clone();
            match &table.columns[c] {
                Column::Num(col) => {
                    let mut sum = 0.0;
                    let mut n = 0usize;
                    let mut mx = f64::NEG_INFINITY;
                    let mut mn = f64::INFINITY;
                    for &r in rows {
                        let v = col.values[r];
                        if v.is_finite() {
                            sum += v;
                            n += 1;
                            mx = mx.max(v);
                            mn = mn.min(v);
                        }
                    }
                    if n == 0 && opts.features.is_none() {
                        dropped.push(Dropped {
                            column: name.clone(),
                            reason: "no finite values in the training rows".into(),
                        });
                        continue;
                    }
                    let mean = if n > 0 { sum / n as f64 } else { 0.0 };
                    let (mx, mn) = if n > 0 { (mx, mn) } else { (0.0, 0.0) };
                    let fill = match opts.missing {
                        Missing::Mean => mean,
                        _ => 0.0,
                    };
                    inputs.push(InputColumn { name, kind: InputKind::Num { fill, pos_inf: mx, neg_inf: mn } });
                }
                Column::Text(t) => {
                    let set: std::collections::HashSet<&str> = rows.iter().map(|&r| t[r].as_str()).collect();
                    let mut cats: Vec<String> = set.into_iter().map(String::from).collect();
                    cats.sort();
                    if opts.features.is_none() && cats.len() > opts.max_categories {
                        dropped.push(Dropped {
                            column: name.clone(),
                            reason: format!(
                                "text column with {} categories (> --max-categories {})",
                                cats.len(),
                                opts.max_categories
                            ),
                        });
                        continue;
                    }
                    inputs.push(InputColumn { name, kind: InputKind::OneHot { categories: cats } });
                }
            }
        }
        let mut feature_names = Vec::new();
        for inp in &inputs {
            match &inp.kind {
                InputKind::Num { .. } => feature_names.push(inp.name.clone()),
                InputKind::OneHot { categories } => {
                    for c in categories {
                        feature_names.push(format!("{}={}", inp.name, c));
                    }
                }
            }
        }
        if feature_names.is_empty() {
            return Err(MlError::Data {
                file: table.source.clone(),
                msg: "no feature columns left (see --features, --exclude, --keep-ids)".into(),
            });
        }
        let pre = Preprocessor {
            inputs,
            feature_names,
            missing: opts.missing,
            scale: opts.scale,
            scale_a: Vec::new(),
            scale_b: Vec::new(),
            dropped,
        };
        Ok(pre)
    }

    /// [`Preprocessor::fit`], then the training rows transformed (encoded once, not twice).
    pub fn fit_transform(table: &Table, rows: &[usize], opts: &FeatureOptions) -> Result<(Preprocessor, Prepared)> {
        let mut pre = Self::select(table, rows, opts)?;
        let mut p = pre.encode(table, rows)?;
        pre.fit_scaler(&p.x);
        pre.scale_matrix(&mut p.x);
        Ok((pre, p))
    }

    /// Choose the features and fit imputation and scaling on `rows` of `table`.
    pub fn fit(table: &Table, rows: &[usize], opts: &FeatureOptions) -> Result<Preprocessor> {
        Ok(Self::fit_transform(table, rows, opts)?.0)
    }

    /// Fit the scaler on an encoded matrix, with scikit-learn's arithmetic.
    fn fit_scaler(&mut self, x: &Matrix) {
        let d = x.cols;
        let n = x.rows as f64;
        match self.scale {
            Scale::None => {
                self.scale_a = vec![0.0; d];
                self.scale_b = vec![1.0; d];
            }
            Scale::Standard => {
                // StandardScaler: mean = sum/n; var = (Σ(x-m)² - (Σ(x-m))²/n)/n; sums row by row.
                let mut sum = vec![0.0; d];
                for r in 0..x.rows {
                    for (s, v) in sum.iter_mut().zip(x.row(r)) {
                        *s += v;
                    }
                }
                let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
                let mut corr = vec![0.0; d];
                let mut sq = vec![0.0; d];
                for r in 0..x.rows {
                    for (j, v) in x.row(r).iter().enumerate() {
                        let t = v - mean[j];
                        corr[j] += t;
                        sq[j] += t * t;
                    }
                }
                let eps = f64::EPSILON;
                let mut scale = vec![1.0; d];
                for j in 0..d {
                    let var = (sq[j] - corr[j] * corr[j] / n) / n;
                    let upper = n * eps * var + (n * mean[j] * eps).powi(2);
                    let constant = var <= upper;
                    scale[j] = if constant { 1.0 } else { var.sqrt() };
                }
                self.scale_a = mean;
                self.scale_b = scale;
            }
            Scale::MinMax => {
                let mut mn = vec![f64::INFINITY; d];
                let mut mx = vec![f64::NEG_INFINITY; d];
                for r in 0..x.rows {
                    for (j, v) in x.row(r).iter().enumerate() {
                        mn[j] = mn[j].min(*v);
                        mx[j] = mx[j].max(*v);
                    }
                }
                let mut scale = vec![1.0; d];
                let mut add = vec![0.0; d];
                for j in 0..d {
                    let range = mx[j] - mn[j];
                    let range = if range < 10.0 * f64::EPSILON { 1.0 } else { range };
                    scale[j] = 1.0 / range;
                    add[j] = -mn[j] * scale[j];
                }
                self.scale_a = scale;
                self.scale_b = add;
            }
        }
    }

    /// Apply the scaler in place.
    pub fn scale_matrix(&self, x: &mut Matrix) {
        for r in 0..x.rows {
            let row = x.row_mut(r);
            match self.scale {
                Scale::None => {}
                Scale::Standard => {
                    for ((v, a), b) in row.iter_mut().zip(&self.scale_a).zip(&self.scale_b) {
                        *v -= a;
                        *v /= b;
                    }
                }
                Scale::MinMax => {
                    for ((v, a), b) in row.iter_mut().zip(&self.scale_a).zip(&self.scale_b) {
                        *v *= a;
                        *v += b;
                    }
                }
            }
        }
    }

    /// Map a point of the scaled space back to the original units.
    pub fn inverse_scale(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .enumerate()
            .map(|(j, &v)| match self.scale {
                Scale::None => v,
                Scale::Standard => v * self.scale_b[j] + self.scale_a[j],
                Scale::MinMax => (v - self.scale_b[j]) / self.scale_a[j],
            })
            .collect()
    }

    /// Encode, impute and scale `rows` of `table`.
    pub fn transform(&self, table: &Table, rows: &[usize]) -> Result<Prepared> {
        let mut p = self.encode(table, rows)?;
        self.scale_matrix(&mut p.x);
        Ok(p)
    }
}
