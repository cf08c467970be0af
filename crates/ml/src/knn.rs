//! A k-nearest-neighbours classifier with the semantics of scikit-learn's brute-force
//! Euclidean `KNeighborsClassifier`: among equal distances the lower training index wins (see
//! [`crate::distance`]), a tied vote goes to the smallest class, `weights` uniform or distance.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::distance::{kneighbors_range_t, Neighbours};
use crate::error::{config, Result};
use crate::matrix::Matrix;

/// Vote weighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weights {
    /// Every neighbour counts 1 (scikit-learn's default).
    Uniform,
    /// Neighbours count 1/distance; exact matches (distance 0) take the whole vote.
    Distance,
}

impl std::str::FromStr for Weights {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "uniform" => Ok(Weights::Uniform),
            "distance" => Ok(Weights::Distance),
            _ => Err(format!("unknown weights '{s}' (uniform|distance)")),
        }
    }
}

/// KNN parameters. Defaults: `k = 5`, `weights = uniform` (scikit-learn's).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KnnParams {
    pub k: usize,
    pub weights: Weights,
}

impl Default for KnnParams {
    fn default() -> Self {
        KnnParams { k: 5, weights: Weights::Uniform }
    }
}

/// Vote of scikit-learn's `k` neighbours of query `q`: the class index (the smallest class
/// on a tied vote, like `np.argmax` and `weighted_mode`).
fn vote(nb: &Neighbours, q: usize, k: usize, y: &[u32], weights: Weights, scores: &mut [f64]) -> usize {
    scores.iter_mut().for_each(|s| *s = 0.0);
    let (ids, d2) = nb.first(q, k);
    match weights {
        Weights::Uniform => {
            for &i in ids {
                scores[y[i as usize] as usize] += 1.0;
            }
        }
        Weights::Distance => {
            // scikit-learn's _get_weights: 1/d, or, when some neighbours are at distance 0,
            // weight 1 for those and 0 for the rest.
            let any_zero = d2.iter().any(|&d| d.sqrt() == 0.0);
            for (&i, &d) in ids.iter().zip(d2) {
                let dist = d.sqrt();
                let w = match (any_zero, dist == 0.0) {
                    (true, true) => 1.0,
                    (true, false) => 0.0,
                    _ => 1.0 / dist,
                };
                scores[y[i as usize] as usize] += w;
            }
        }
    }
    argmax_first(scores)
}

fn argmax_first(s: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in s.iter().enumerate() {
        if v > s[best] {
            best = i;
        }
    }
    best
}

/// A fitted KNN classifier (the training matrix is kept, as scikit-learn's brute force does).
#[derive(Clone, Debug)]
pub struct KnnClassifier {
    pub params: KnnParams,
    pub n_classes: usize,
    pub x: Matrix,
    pub y: Vec<u32>,
    x_sq: Vec<f64>,
    /// `x` transposed, made at the first search and kept (see `kneighbors_range_t`).
    x_t: std::sync::OnceLock<Matrix>,
}

impl KnnClassifier {
    /// `y` holds class indices `0..n_classes`.
    pub fn fit(params: KnnParams, x: Matrix, y: Vec<u32>, n_classes: usize) -> Result<Self> {
        if x.rows != y.len() {
            return config("training matrix and labels differ in length");
        }
        if x.rows == 0 {
            return config("no training rows");
        }
        if params.k == 0 {
            return config("k must be at least 1");
        }
        if params.k > x.rows {
            return config(format!("k = {} is more than the {} training rows", params.k, x.rows));
        }
        let x_sq = crate::distance::row_sq_norms(&x);
        Ok(KnnClassifier { params, n_classes, x, y, x_sq, x_t: std::sync::OnceLock::new() })
    }

    /// The `k` nearest training rows of each query.
    pub fn kneighbors(&self, q: &Matrix, k: usize) -> Result<Neighbours> {
        self.kneighbors_range(q, k, k)
    }

    /// Neighbours for every `k` in `k_min..=k_max` at the cost of one search (see
    /// [`Neighbours::first`]).
    pub fn kneighbors_range(&self, q: &Matrix, k_min: usize, k: usize) -> Result<Neighbours> {
        if k_min == 0 || k_min > k {
            return config(format!("need 1 <= {k_min} <= {k}"));
        }
        if k > self.x.rows {
            return config(format!("k = {k} is more than the {} training rows", self.x.rows));
        }
        if q.cols != self.x.cols {
            return config(format!("queries have {} features, the model {}", q.cols, self.x.cols));
        }
        let x_t = self.x_t.get_or_init(|| crate::distance::transpose(&self.x));
        Ok(kneighbors_range_t(&self.x, x_t, &self.x_sq, q, k_min, k, Some(&self.y)))
    }

    /// Predicted class index of each query.
    pub fn predict(&self, q: &Matrix) -> Result<Vec<usize>> {
        let nb = self.kneighbors(q, self.params.k)?;
        Ok(self.predict_from(&nb, self.params.k))
    }

    /// Predictions with `k` neighbours, from neighbours computed for a range holding `k`.
    pub fn predict_from(&self, nb: &Neighbours, k: usize) -> Vec<usize> {
        assert!(k <= nb.k);
        (0..nb.n_queries)
            .into_par_iter()
            .map_init(|| vec![0.0; self.n_classes], |s, q| vote(nb, q, k, &self.y, self.params.weights, s))
            .collect()
    }

    /// Error rate for every k in `ks` (ascending, within the range `nb` was computed for).
    /// `y_true` holds class indices (`usize::MAX` for a class the model does not know).
    pub fn error_rates(&self, nb: &Neighbours, y_true: &[usize], ks: &[usize]) -> Vec<f64> {
        let m = nb.n_queries;
        let errors: Vec<u64> = (0..m)
            .into_par_iter()
            .fold(
                || (vec![0u64; ks.len()], vec![0.0; self.n_classes]),
                |(mut err, mut s), q| {
                    // Uniform votes grow one neighbour at a time, except where ties give
                    // a size-k heap its own set.
                    s.iter_mut().for_each(|v| *v = 0.0);
                    let ids = nb.row_idx(q);
                    let mut next = 0;
                    let mut own = vec![0.0; self.n_classes];
                    for (ki, &k) in ks.iter().enumerate() {
                        let pred = if self.params.weights == Weights::Uniform && !nb.has_tie_set(q, k) {
                            while next < k {
                                s[self.y[ids[next] as usize] as usize] += 1.0;
                                next += 1;
                            }
                            argmax_first(&s)
                        } else {
                            vote(nb, q, k, &self.y, self.params.weights, &mut own)
                        };
                        if pred != y_true[q] {
                            err[ki] += 1;
                        }
                    }
                    (err, s)
                },
            )
            .map(|(e, _)| e)
            .reduce(|| vec![0u64; ks.len()], |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect());
        errors.iter().map(|&e| e as f64 / m as f64).collect()
    }
}
