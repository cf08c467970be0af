//! Scoring each ended flow row with a model saved by `netanom knn --save-model` or `kmeans
//! --save-model`: the model's features are flow columns by name, encoded, imputed and scaled by
//! the model's own preprocessor exactly as `netanom predict` does for a table of one row.

use std::path::Path;

use netanom_flow::schema::Column;
use netanom_ml::model::{self, ModelKind, SavedModel};
use netanom_ml::table::{Column as TableColumn, NumColumn, Table};
use netanom_ml::{KMeans, KnnClassifier, Matrix};

use crate::row::RowCells;

/// Class or cluster names that mean "not an anomaly" when `--normal-class` is not given
/// (compared ignoring ASCII case): the label values of netanom's own `anomaly` column and of the
/// usual data sets, and the names `kmeans` gives its clusters.
pub const DEFAULT_NORMAL: &[&str] = &["0", "normal", "benign", "-", "none", "false", "no", "empty"];

/// A model's verdict on one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The class (KNN) or the cluster's name (KMeans).
    pub prediction: String,
    /// KNN: the share of the k neighbours that voted for the prediction; KMeans: the distance to
    /// the nearest centre in the model's scaled space.
    pub score: f64,
    /// The prediction is not one of the normal names.
    pub anomalous: bool,
}

enum Fitted {
    Knn { clf: KnnClassifier, classes: Vec<String> },
    Kmeans { km: KMeans, names: Vec<String> },
}

/// A loaded model bound to the flow columns.
pub struct Scorer {
    model: SavedModel,
    fitted: Fitted,
    /// Per model input: its index among the row's columns.
    inputs: Vec<usize>,
    normal: Vec<String>,
}

impl Scorer {
    /// Loads `path` and checks that every column the model reads is one of `columns` (the row's
    /// columns, labels included). `normal`: the names that are not anomalies (empty: the defaults).
    pub fn load(path: &Path, columns: &[Column], normal: &[String]) -> Result<Scorer, String> {
        let m = model::load(path).map_err(|e| e.to_string())?;
        let mut inputs = Vec::new();
        for inp in &m.header.preprocessor.inputs {
            match columns.iter().position(|c| c.name == inp.name) {
                Some(i) => inputs.push(i),
                None => {
                    return Err(format!(
                        "{}: the model reads column '{}', which flow rows do not have; train it on a table \
                         written by `netanom flows` (its features must be flow columns)",
                        path.display(),
                        inp.name
                    ))
                }
            }
        }
        let fitted = match (&m.header.model, &m.train) {
            (ModelKind::Knn { params, classes, .. }, Some((x, y))) => Fitted::Knn {
                clf: KnnClassifier::fit(params.clone(), x.clone(), y.clone(), classes.len())
                    .map_err(|e| format!("{}: {e}", path.display()))?,
                classes: classes.clone(),
            },
            (ModelKind::Kmeans { params, centers, cluster_names }, _) => Fitted::Kmeans {
                km: KMeans {
                    params: params.clone(),
                    centers: Matrix::from_rows(centers),
                    labels: vec![],
                    inertia: 0.0,
                    n_iter: 0,
                    inertia_per_init: vec![],
                },
                names: cluster_names.clone(),
            },
            _ => return Err(format!("{}: a KNN model without its training data", path.display())),
        };
        let normal =
            if normal.is_empty() { DEFAULT_NORMAL.iter().map(|s| s.to_string()).collect() } else { normal.to_vec() };
        Ok(Scorer { model: m, fitted, inputs, normal })
    }

    /// The model's kind, for the report.
    pub fn kind(&self) -> &'static str {
        match self.fitted {
            Fitted::Knn { .. } => "knn",
            Fitted::Kmeans { .. } => "kmeans",
        }
    }

    /// Scores the row held in `row`.
    pub fn score(&self, row: &RowCells) -> Result<Score, String> {
        let pre = &self.model.header.preprocessor;
        let mut names = Vec::with_capacity(self.inputs.len());
        let mut columns = Vec::with_capacity(self.inputs.len());
        for (inp, &i) in pre.inputs.iter().zip(&self.inputs) {
            let cell = row.get(i).ok_or_else(|| format!("row has no column {i} ('{}')", inp.name))?;
            names.push(inp.name.clone());
            columns.push(match inp.kind {
                netanom_ml::features::InputKind::Num { .. } => {
                    let v = cell.num.unwrap_or(f64::NAN);
                    TableColumn::Num(NumColumn {
                        values: vec![v],
                        missing: v.is_nan() as usize,
                        infinite: v.is_infinite() as usize,
                    })
                }
                netanom_ml::features::InputKind::OneHot { .. } => TableColumn::Text(vec![cell.text.clone()]),
            });
        }
        let table = Table {
            source: "live flow".into(),
            names,
            columns,
            lines: vec![1],
            bad_rows_skipped: 0,
            bad_row_examples: vec![],
        };
        let p = pre.transform(&table, &[0]).map_err(|e| e.to_string())?;
        if p.x.rows == 0 {
            return Err("the model's preprocessing dropped the row (missing values with --missing drop)".into());
        }
        let (prediction, score) = match &self.fitted {
            Fitted::Knn { clf, classes } => {
                let k = clf.params.k;
                let nb = clf.kneighbors(&p.x, k).map_err(|e| e.to_string())?;
                let c = clf.predict_from(&nb, k)[0];
                let (idx, _) = nb.first(0, k);
                let votes = idx.iter().filter(|&&j| clf.y.get(j as usize) == Some(&(c as u32))).count();
                (classes[c].clone(), votes as f64 / idx.len().max(1) as f64)
            }
            Fitted::Kmeans { km, names } => {
                let c = km.predict(&p.x)[0] as usize;
                let d2: f64 = p.x.row(0).iter().zip(km.centers.row(c)).map(|(a, b)| (a - b) * (a - b)).sum();
                (names.get(c).cloned().unwrap_or_else(|| c.to_string()), d2.sqrt())
            }
        };
        let anomalous = !self.normal.iter().any(|n| n.eq_ignore_ascii_case(&prediction));
        Ok(Score { prediction, score, anomalous })
    }
}
