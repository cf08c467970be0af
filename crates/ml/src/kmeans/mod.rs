//! KMeans with scikit-learn's algorithm (`KMeans(algorithm="lloyd")`): greedy k-means++
//! seeding ([`init`]), Lloyd iterations on centred data (accelerated with Hamerly's bounds,
//! [`bounded`]; shared steps in [`lloyd`]) until the labels stop
//! changing or the centres move less than `tol` × the mean feature variance, at most
//! `max_iter` times; the best (lowest inertia) of `n_init` runs, all drawn from one generator
//! seeded with `seed`, as scikit-learn draws them from one `random_state`.

use serde::{Deserialize, Serialize};

use crate::error::{config, Result};
use crate::matrix::Matrix;
use crate::rng::RandomState;

mod bounded;
mod init;
mod lloyd;

pub use init::kmeans_plusplus;

/// KMeans parameters. Defaults: `n_clusters = 2`, `n_init = 10`, `max_iter = 300`,
/// `tol = 1e-4`, `seed = 0`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KMeansParams {
    pub n_clusters: usize,
    pub n_init: usize,
    pub max_iter: usize,
    pub tol: f64,
    pub seed: u32,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams { n_clusters: 2, n_init: 10, max_iter: 300, tol: 1e-4, seed: 0 }
    }
}

/// A fitted KMeans.
#[derive(Clone, Debug)]
pub struct KMeans {
    pub params: KMeansParams,
    /// Centres in the space of the fitted matrix.
    pub centers: Matrix,
    pub labels: Vec<u32>,
    pub inertia: f64,
    pub n_iter: usize,
    /// Inertia of every run, in order (for the report).
    pub inertia_per_init: Vec<f64>,
}

/// scikit-learn's `_is_same_clustering`: the same partition under a renumbering of clusters.
/// A run is preferred only if its inertia is lower *and* its partition differs, so rounding
/// alone cannot swap two equivalent results.
fn same_clustering(a: &[u32], b: &[u32], k: usize) -> bool {
    let mut map = vec![u32::MAX; k];
    for (&x, &y) in a.iter().zip(b) {
        let m = &mut map[x as usize];
        if *m == u32::MAX {
            *m = y;
        } else if *m != y {
            return false;
        }
    }
    true
}

impl KMeans {
    /// Fit on `x` (rows are samples).
    pub fn fit(params: KMeansParams, x: &Matrix) -> Result<KMeans> {
        crate::distance::single_threaded_gemm();
        let n = x.rows;
        let d = x.cols;
        let k = params.n_clusters;
        if k == 0 {
            return config("--k must be at least 1");
        }
        if n < k {
            return config(format!("{n} rows cannot make {k} clusters"));
        }
        if params.n_init == 0 {
            return config("--n-init must be at least 1");
        }
        // centre the data (scikit-learn does, for precision)
        let mut mean = vec![0.0; d];
        for r in 0..n {
            for (m, v) in mean.iter_mut().zip(x.row(r)) {
                *m += v;
            }
        }
        for m in mean.iter_mut() {
            *m /= n as f64;
        }
        let mut xc = x.clone();
        for r in 0..n {
            for (v, m) in xc.row_mut(r).iter_mut().zip(&mean) {
                *v -= m;
            }
        }
        // tol relative to the mean variance (data already centred, but recompute like np.var)
        let mut m2 = vec![0.0; d];
        for r in 0..n {
            for (m, v) in m2.iter_mut().zip(xc.row(r)) {
                *m += v;
            }
        }
        for m in m2.iter_mut() {
            *m /= n as f64;
        }
        let mut var = vec![0.0; d];
        for r in 0..n {
            for ((s, v), m) in var.iter_mut().zip(xc.row(r)).zip(&m2) {
                *s += (v - m) * (v - m);
            }
        }
        let mean_var = if d > 0 { var.iter().map(|s| s / n as f64).sum::<f64>() / d as f64 } else { 0.0 };
        let tol = mean_var * params.tol;
        let x_sq = crate::distance::row_sq_norms(&xc);
        let mut rng = RandomState::new(params.seed);
        let mut best: Option<(f64, Vec<u32>, Matrix, usize)> = None;
        let mut per_init = Vec::new();
        for _ in 0..params.n_init {
            let seeds = kmeans_plusplus(&xc, &x_sq, k, &mut rng);
            let mut run = bounded::Run::new(&xc, xc.take_rows(&seeds));
            let mut strict = false;
            let mut iters = 0;
            for i in 0..params.max_iter {
                iters = i + 1;
                let changed = run.assign();
                let shift = run.update_centers();
                if changed == 0 {
                    strict = true;
                    break;
                }
                let tot: f64 = shift.iter().map(|s| s * s).sum();
                if tot <= tol {
                    break;
                }
            }
            if !strict {
                // the labels of the last step belong to the previous centres
                run.assign();
            }
            let bounded::Run { centers, labels, .. } = run;
            let inert = lloyd::inertia(&xc, &centers, &labels);
            per_init.push(inert);
            let better = match &best {
                None => true,
                Some((bi, bl, _, _)) => inert < *bi && !same_clustering(&labels, bl, k),
            };
            if better {
                best = Some((inert, labels, centers, iters));
            }
        }
        let Some((inertia, labels, mut centers, n_iter)) = best else {
            return config("--n-init must be at least 1");
        };
        for j in 0..k {
            for (v, m) in centers.row_mut(j).iter_mut().zip(&mean) {
                *v += m;
            }
        }
        Ok(KMeans { params, centers, labels, inertia, n_iter, inertia_per_init: per_init })
    }

    /// Nearest centre of each row.
    pub fn predict(&self, x: &Matrix) -> Vec<u32> {
        let mut labels = vec![0u32; x.rows];
        lloyd::assign(x, &self.centers, &mut labels);
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_blobs() {
        let mut rows = Vec::new();
        for i in 0..100 {
            let t = i as f64 * 0.01;
            rows.push(vec![t, 1.0 - t]);
            rows.push(vec![10.0 + t, 10.0 - t]);
        }
        let x = Matrix::from_rows(&rows);
        let km = KMeans::fit(KMeansParams { n_clusters: 2, ..Default::default() }, &x).unwrap();
        assert!(km.labels.iter().step_by(2).all(|&l| l == km.labels[0]));
        assert!(km.labels.iter().skip(1).step_by(2).all(|&l| l == km.labels[1]));
        assert_ne!(km.labels[0], km.labels[1]);
    }
}
