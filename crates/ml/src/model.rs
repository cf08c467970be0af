//! Saved models: a text line `netanom-model 1`, one line of JSON (kind, version, parameters,
//! features and fitted scaler, classes), then for KNN the training matrix as little-endian f64
//! and its class indices as little-endian u32.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};
use crate::features::{InputKind, Preprocessor};
use crate::kmeans::KMeansParams;
use crate::knn::KnnParams;
use crate::matrix::Matrix;

const MAGIC: &str = "netanom-model 1";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelKind {
    Knn { params: KnnParams, classes: Vec<String>, n_train: usize },
    Kmeans { params: KMeansParams, centers: Vec<Vec<f64>>, cluster_names: Vec<String> },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelHeader {
    /// netanom version that wrote the model.
    pub netanom_version: String,
    pub label: Option<String>,
    pub preprocessor: Preprocessor,
    pub model: ModelKind,
}

/// A model with its data.
#[derive(Clone, Debug)]
pub struct SavedModel {
    pub header: ModelHeader,
    /// KNN: the scaled training matrix and class indices.
    pub train: Option<(Matrix, Vec<u32>)>,
}

pub fn save(path: &Path, m: &SavedModel) -> Result<()> {
    let io = |e: std::io::Error| MlError::Io { path: path.to_path_buf(), source: e };
    let f = std::fs::File::create(path).map_err(io)?;
    let mut w = std::io::BufWriter::new(f);
    let json = serde_json::to_string(&m.header)
        .map_err(|e| MlError::Model { path: path.display().to_string(), msg: e.to_string() })?;
    writeln!(w, "{MAGIC}").map_err(io)?;
    writeln!(w, "{json}").map_err(io)?;
    if let Some((x, y)) = &m.train {
        writeln!(w, "{} {}", x.rows, x.cols).map_err(io)?;
        let mut buf = Vec::with_capacity(x.data.len() * 8);
        for v in &x.data {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        for v in y {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        w.write_all(&buf).map_err(io)?;
    }
    w.flush().map_err(io)
}

pub fn load(path: &Path) -> Result<SavedModel> {
    let p = path.display().to_string();
    let bad = |msg: String| MlError::Model { path: p.clone(), msg };
    let f = std::fs::File::open(path).map_err(|e| MlError::Io { path: path.to_path_buf(), source: e })?;
    let mut r = BufReader::new(f);
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| bad(e.to_string()))?;
    if line.trim_end() != MAGIC {
        return Err(bad(format!("not a netanom model (expected first line '{MAGIC}')")));
    }
    line.clear();
    r.read_line(&mut line).map_err(|e| bad(e.to_string()))?;
    let header: ModelHeader = serde_json::from_str(&line).map_err(|e| bad(format!("bad header: {e}")))?;
    check_header(&header).map_err(bad)?;
    let train = match &header.model {
        ModelKind::Knn { .. } => {
            line.clear();
            r.read_line(&mut line).map_err(|e| bad(e.to_string()))?;
            let mut it = line.split_whitespace().map(|s| s.parse::<usize>());
            let (rows, cols) = match (it.next(), it.next()) {
                (Some(Ok(a)), Some(Ok(b))) => (a, b),
                _ => return Err(bad("bad matrix shape line".into())),
            };
            if cols != header.preprocessor.feature_names.len() {
                return Err(bad(format!(
                    "matrix has {cols} columns, the feature list {}",
                    header.preprocessor.feature_names.len()
                )));
            }
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes).map_err(|e| bad(e.to_string()))?;
            let need =
                rows.checked_mul(cols).and_then(|x| x.checked_mul(8)).and_then(|x| x.checked_add(rows.checked_mul(4)?));
            if need != Some(bytes.len()) {
                return Err(bad(format!(
                    "truncated or corrupt: {} data bytes for a {rows}×{cols} matrix",
                    bytes.len()
                )));
            }
            let nm = rows * cols;
            let data: Vec<f64> =
                bytes[..nm * 8].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
            let y: Vec<u32> =
                bytes[nm * 8..].chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
            match &header.model {
                ModelKind::Knn { params, classes, .. } => {
                    if y.iter().any(|&c| c as usize >= classes.len()) {
                        return Err(bad("a training label is outside the class list".into()));
                    }
                    if params.k == 0 || params.k > rows {
                        return Err(bad(format!("k = {} does not fit {rows} training rows", params.k)));
                    }
                }
                ModelKind::Kmeans { .. } => {}
            }
            Some((Matrix { rows, cols, data }, y))
        }
        ModelKind::Kmeans { .. } => None,
    };
    Ok(SavedModel { header, train })
}

/// Consistency of a header read from a file (a hand-edited or damaged model must give an
/// error, never a panic later).
fn check_header(h: &ModelHeader) -> std::result::Result<(), String> {
    let p = &h.preprocessor;
    let d = p.feature_names.len();
    if d == 0 || p.scale_a.len() != d || p.scale_b.len() != d {
        return Err(format!("feature list ({d}) and scaler ({}, {}) disagree", p.scale_a.len(), p.scale_b.len()));
    }
    let encoded: usize = p
        .inputs
        .iter()
        .map(|i| match &i.kind {
            InputKind::Num { .. } => 1,
            InputKind::OneHot { categories } => categories.len(),
        })
        .sum();
    if encoded != d {
        return Err(format!("the input columns encode {encoded} features, the feature list has {d}"));
    }
    match &h.model {
        ModelKind::Knn { classes, .. } if classes.is_empty() => Err("no classes".into()),
        ModelKind::Kmeans { centers, cluster_names, .. } => {
            if centers.is_empty() || centers.len() != cluster_names.len() {
                return Err(format!("{} centres but {} cluster names", centers.len(), cluster_names.len()));
            }
            if centers.iter().any(|c| c.len() != d) {
                return Err(format!("a centre does not have the {d} features of the feature list"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
