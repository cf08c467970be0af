//! Greedy k-means++ seeding, scikit-learn's `_kmeans_plusplus` with unit sample weights: the
//! first centre uniformly, then for each next centre `2 + ⌊ln k⌋` candidates drawn in
//! proportion to the squared distance to the nearest chosen centre, keeping the candidate that
//! lowers the total most. The draws use numpy's legacy generator, so a seed gives the same
//! candidates as scikit-learn's `random_state`.

use rayon::prelude::*;

use crate::matrix::Matrix;
use crate::rng::RandomState;
use crate::simd::{dot, multiversion};

const CHUNK: usize = 2048;

/// `out[t][i] = max((−2 c_t·x_i + ‖c_t‖²) + ‖x_i‖², 0)` for rows `r0..` and each candidate
/// row `c_t`, in scikit-learn's order of operations (`_euclidean_distances`), then lowered to
/// `floor[i]` where that is smaller (`np.minimum`). All candidates share one read of the rows.
#[inline(always)]
fn dist_generic(x: &Matrix, x_sq: &[f64], cands: &[usize], r0: usize, floor: &[f64], out: &mut [&mut [f64]]) {
    let len = out.first().map_or(0, |o| o.len());
    for i in 0..len {
        let r = r0 + i;
        let row = x.row(r);
        for (t, &c) in cands.iter().enumerate() {
            let v = ((-2.0 * dot(x.row(c), row)) + x_sq[c] + x_sq[r]).max(0.0);
            out[t][i] = if floor.is_empty() || v <= floor[i] { v } else { floor[i] };
        }
    }
}
multiversion!(fn dist_chunk(x: &Matrix, x_sq: &[f64], cands: &[usize], r0: usize, floor: &[f64], out: &mut [&mut [f64]]) = dist_generic;);

/// Squared distance of every row to each candidate row, capped by `floor` (empty: no cap).
fn dist_to(x: &Matrix, x_sq: &[f64], cands: &[usize], floor: &[f64]) -> Vec<Vec<f64>> {
    let n = x.rows;
    let mut out: Vec<Vec<f64>> = cands.iter().map(|_| vec![0.0; n]).collect();
    let mut chunks: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(CHUNK)).map(|_| Vec::with_capacity(cands.len())).collect();
    for o in out.iter_mut() {
        for (ci, part) in o.chunks_mut(CHUNK).enumerate() {
            chunks[ci].push(part);
        }
    }
    chunks.par_iter_mut().enumerate().for_each(|(ci, parts)| {
        let r0 = ci * CHUNK;
        let f = if floor.is_empty() { floor } else { &floor[r0..(r0 + CHUNK).min(n)] };
        dist_chunk(x, x_sq, cands, r0, f, parts);
    });
    out
}

/// The chosen row indices, `k` of them (`x` has at least `k` rows).
pub fn kmeans_plusplus(x: &Matrix, x_sq: &[f64], k: usize, rng: &mut RandomState) -> Vec<usize> {
    let n = x.rows;
    let trials = 2 + (k as f64).ln() as usize;
    let first = rng.choice_uniform_p(n);
    let mut chosen = vec![first];
    let mut closest = dist_to(x, x_sq, &[first], &[]).pop().unwrap_or_default();
    let mut pot: f64 = closest.iter().sum();
    let mut cum = Vec::with_capacity(n);
    for _ in 1..k {
        let rand_vals: Vec<f64> = (0..trials).map(|_| rng.random_sample() * pot).collect();
        // numpy's cumsum is sequential, and searchsorted(side='left') is the first c >= r.
        cum.clear();
        let mut acc = 0.0;
        for &v in &closest {
            acc += v;
            cum.push(acc);
        }
        let cands: Vec<usize> = rand_vals.iter().map(|&r| cum.partition_point(|&s| s < r).min(n - 1)).collect();
        let dists = dist_to(x, x_sq, &cands, &closest);
        // the candidate that lowers the potential most; the first on ties (np.argmin)
        let mut best: Option<(f64, usize)> = None;
        for (t, dc) in dists.iter().enumerate() {
            let p: f64 = dc.iter().sum();
            if best.is_none_or(|b| p < b.0) {
                best = Some((p, t));
            }
        }
        if let Some((p, t)) = best {
            pot = p;
            chosen.push(cands[t]);
            closest = dists.into_iter().nth(t).unwrap_or_default();
        }
    }
    chosen
}
