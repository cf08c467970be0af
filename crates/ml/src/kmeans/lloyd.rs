//! The pieces of a Lloyd step shared by fitting and prediction: nearest-centre labels (as
//! scikit-learn's `lloyd_iter_chunked_dense` finds them, by `‖c‖² − 2 x·c`), inertia and the
//! relocation of empty clusters. Work is split in fixed row chunks and chunk results are
//! combined in chunk order, so results do not depend on the number of threads.

use rayon::prelude::*;

use crate::distance::neg2_dot_block;
use crate::matrix::Matrix;
use crate::simd::{dot, multiversion, sqdist};

pub(super) const CHUNK: usize = 1024;

/// From this many clusters on, the `x·c` terms of a chunk come from one matrix multiply.
const GEMM_FROM_K: usize = 8;

/// Labels of rows `r0..r0+lab.len()`: the nearest centre by `‖c‖² − 2 x·c`, the first on ties.
#[inline(always)]
fn chunk_generic(x: &Matrix, r0: usize, centers: &Matrix, c_sq: &[f64], g: &mut Vec<f64>, lab: &mut [u32]) {
    let k = centers.rows;
    let m = lab.len();
    if k >= GEMM_FROM_K {
        g.resize(m * k, 0.0);
        neg2_dot_block(x, r0, m, centers, 0, k, g);
    }
    for (i, l) in lab.iter_mut().enumerate() {
        let mut best = 0;
        let mut bv = f64::INFINITY;
        if k >= GEMM_FROM_K {
            for (j, (&cs, &m2)) in c_sq.iter().zip(&g[i * k..(i + 1) * k]).enumerate() {
                if cs + m2 < bv {
                    bv = cs + m2;
                    best = j;
                }
            }
        } else {
            let row = x.row(r0 + i);
            for (j, &cs) in c_sq.iter().enumerate() {
                let v = cs + -2.0 * dot(row, centers.row(j));
                if v < bv {
                    bv = v;
                    best = j;
                }
            }
        }
        *l = best as u32;
    }
}
multiversion!(fn chunk_step(x: &Matrix, r0: usize, centers: &Matrix, c_sq: &[f64], g: &mut Vec<f64>, lab: &mut [u32]) = chunk_generic;);

/// Nearest centre of every row.
pub(super) fn assign(x: &Matrix, centers: &Matrix, labels: &mut [u32]) {
    let c_sq = crate::distance::row_sq_norms(centers);
    labels.par_chunks_mut(CHUNK).enumerate().for_each_init(Vec::new, |g, (ci, lab)| {
        chunk_step(x, ci * CHUNK, centers, &c_sq, g, lab);
    });
}

/// scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes the point
/// farthest from its centre (farthest first), the point leaving its old cluster's sum.
/// Returns whether any cluster was relocated.
pub(super) fn relocate_empty(
    x: &Matrix,
    centers: &Matrix,
    labels: &[u32],
    sums: &mut Matrix,
    weight: &mut [f64],
) -> bool {
    let empty: Vec<usize> = (0..centers.rows).filter(|&j| weight[j] == 0.0).collect();
    if empty.is_empty() {
        return false;
    }
    let dists: Vec<f64> =
        (0..x.rows).into_par_iter().map(|i| sqdist(x.row(i), centers.row(labels[i] as usize))).collect();
    // Every point on its centre (fewer distinct points than clusters): nothing to gain.
    if !dists.iter().any(|&v| v > 0.0) {
        return false;
    }
    let mut order: Vec<usize> = (0..x.rows).collect();
    order.sort_by(|&a, &b| dists[b].total_cmp(&dists[a]).then(a.cmp(&b)));
    let d = x.cols;
    for (&new_id, &far) in empty.iter().zip(&order) {
        let old_id = labels[far] as usize;
        for (t, v) in x.row(far).iter().enumerate() {
            sums.data[old_id * d + t] -= v;
            sums.data[new_id * d + t] = *v;
        }
        weight[new_id] = 1.0;
        weight[old_id] -= 1.0;
    }
    true
}

#[inline(always)]
fn inertia_generic(x: &Matrix, r0: usize, centers: &Matrix, lab: &[u32]) -> f64 {
    lab.iter().enumerate().map(|(i, &l)| sqdist(x.row(r0 + i), centers.row(l as usize))).sum()
}
multiversion!(fn inertia_chunk(x: &Matrix, r0: usize, centers: &Matrix, lab: &[u32]) -> f64 = inertia_generic;);

/// Sum of squared distances of the rows to their centres (chunk sums added in chunk order).
pub(super) fn inertia(x: &Matrix, centers: &Matrix, labels: &[u32]) -> f64 {
    let parts: Vec<f64> =
        labels.par_chunks(CHUNK).enumerate().map(|(ci, lab)| inertia_chunk(x, ci * CHUNK, centers, lab)).collect();
    parts.iter().sum()
}
