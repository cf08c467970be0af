//! One KMeans run: Lloyd's iterations, accelerated with Hamerly's bounds.
//!
//! Each step is scikit-learn's Lloyd step — label every row with its nearest centre, move each
//! centre to the mean of its rows, relocate empty clusters, measure the shift — and gives the
//! same labels in exact arithmetic. What changes is the cost: KMeans on flow tables is bound
//! by reading the rows, and after the first steps few rows can change cluster. Every row
//! keeps an upper bound on the distance to its centre and a lower bound on the distance to
//! any other; a row whose bounds cannot cross is not read at all. Cluster sums are kept up to
//! date from the rows that move, instead of being summed afresh at every step.

use rayon::prelude::*;

use super::lloyd::CHUNK;
use crate::matrix::Matrix;
use crate::simd::{multiversion, sqdist};

/// The state of one run.
pub(super) struct Run<'a> {
    x: &'a Matrix,
    pub centers: Matrix,
    pub labels: Vec<u32>,
    upper: Vec<f64>,
    lower: Vec<f64>,
    sums: Vec<f64>,
    counts: Vec<f64>,
    /// The sums no longer follow the labels (after a relocation): next step starts afresh.
    stale: bool,
}

/// What a chunk of rows contributes to a step.
struct Part {
    changed: usize,
    /// Change of the cluster sums (k×d) and counts, or the sums themselves when `fresh`.
    sums: Vec<f64>,
    counts: Vec<f64>,
}

/// Label rows `r0..` by exact distances to every centre, setting both bounds and (fresh)
/// cluster sums.
#[inline(always)]
fn full_generic(x: &Matrix, r0: usize, c: &Matrix, lab: &mut [u32], up: &mut [f64], lo: &mut [f64], part: &mut Part) {
    let d = x.cols;
    for i in 0..lab.len() {
        let row = x.row(r0 + i);
        let (mut b1, mut d1, mut d2) = (0usize, f64::INFINITY, f64::INFINITY);
        for j in 0..c.rows {
            let v = sqdist(row, c.row(j));
            if v < d1 {
                d2 = d1;
                d1 = v;
                b1 = j;
            } else if v < d2 {
                d2 = v;
            }
        }
        if lab[i] != b1 as u32 {
            part.changed += 1;
        }
        lab[i] = b1 as u32;
        up[i] = d1.sqrt();
        lo[i] = d2.sqrt();
        part.counts[b1] += 1.0;
        for (s, v) in part.sums[b1 * d..(b1 + 1) * d].iter_mut().zip(row) {
            *s += v;
        }
    }
}
multiversion!(fn full_chunk(x: &Matrix, r0: usize, c: &Matrix, lab: &mut [u32], up: &mut [f64], lo: &mut [f64], part: &mut Part) = full_generic;);

/// Relabel rows `r0..` that might have changed cluster; record moves in `part` (as deltas).
/// `half_gap[j]` is half the distance from centre `j` to the nearest other centre.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn bounded_generic(
    x: &Matrix,
    r0: usize,
    c: &Matrix,
    half_gap: &[f64],
    lab: &mut [u32],
    up: &mut [f64],
    lo: &mut [f64],
    part: &mut Part,
) {
    let d = x.cols;
    let k = c.rows;
    for i in 0..lab.len() {
        let a = lab[i] as usize;
        let m = half_gap[a].max(lo[i]);
        if up[i] <= m {
            continue;
        }
        let row = x.row(r0 + i);
        up[i] = sqdist(row, c.row(a)).sqrt();
        if up[i] <= m {
            continue;
        }
        let (mut b1, mut d1, mut d2) = (0usize, f64::INFINITY, f64::INFINITY);
        for j in 0..k {
            let v = sqdist(row, c.row(j));
            if v < d1 {
                d2 = d1;
                d1 = v;
                b1 = j;
            } else if v < d2 {
                d2 = v;
            }
        }
        up[i] = d1.sqrt();
        lo[i] = d2.sqrt();
        if b1 != a {
            if part.sums.is_empty() {
                part.sums = vec![0.0; k * d];
                part.counts = vec![0.0; k];
            }
            part.changed += 1;
            lab[i] = b1 as u32;
            part.counts[a] -= 1.0;
            part.counts[b1] += 1.0;
            for (t, v) in row.iter().enumerate() {
                part.sums[a * d + t] -= v;
                part.sums[b1 * d + t] += v;
            }
        }
    }
}
multiversion!(fn bounded_chunk(x: &Matrix, r0: usize, c: &Matrix, half_gap: &[f64], lab: &mut [u32], up: &mut [f64], lo: &mut [f64], part: &mut Part) = bounded_generic;);

impl<'a> Run<'a> {
    pub(super) fn new(x: &'a Matrix, centers: Matrix) -> Self {
        let n = x.rows;
        let k = centers.rows;
        Run {
            x,
            labels: vec![u32::MAX; n],
            upper: vec![0.0; n],
            lower: vec![0.0; n],
            sums: vec![0.0; k * x.cols],
            counts: vec![0.0; k],
            centers,
            stale: true,
        }
    }

    /// Label every row for the current centres; returns how many labels changed.
    pub(super) fn assign(&mut self) -> usize {
        let (k, d) = (self.centers.rows, self.x.cols);
        let fresh = self.stale;
        let half_gap = self.half_gaps();
        let (x, c) = (self.x, &self.centers);
        let parts: Vec<Part> = self
            .labels
            .par_chunks_mut(CHUNK)
            .zip(self.upper.par_chunks_mut(CHUNK))
            .zip(self.lower.par_chunks_mut(CHUNK))
            .enumerate()
            .map(|(ci, ((lab, up), lo))| {
                if fresh {
                    let mut p = Part { changed: 0, sums: vec![0.0; k * d], counts: vec![0.0; k] };
                    full_chunk(x, ci * CHUNK, c, lab, up, lo, &mut p);
                    p
                } else {
                    let mut p = Part { changed: 0, sums: Vec::new(), counts: Vec::new() };
                    bounded_chunk(x, ci * CHUNK, c, &half_gap, lab, up, lo, &mut p);
                    p
                }
            })
            .collect();
        if fresh {
            self.sums.iter_mut().for_each(|v| *v = 0.0);
            self.counts.iter_mut().for_each(|v| *v = 0.0);
            self.stale = false;
        }
        // Chunk contributions in chunk order: the result does not depend on the thread count.
        let mut changed = 0;
        for p in &parts {
            changed += p.changed;
            if !p.sums.is_empty() {
                self.sums.iter_mut().zip(&p.sums).for_each(|(a, b)| *a += b);
                self.counts.iter_mut().zip(&p.counts).for_each(|(a, b)| *a += b);
            }
        }
        changed
    }

    /// Half the distance from each centre to its nearest other centre.
    fn half_gaps(&self) -> Vec<f64> {
        let k = self.centers.rows;
        (0..k)
            .map(|j| {
                let near = (0..k)
                    .filter(|&o| o != j)
                    .map(|o| sqdist(self.centers.row(j), self.centers.row(o)))
                    .fold(f64::INFINITY, f64::min);
                near.sqrt() / 2.0
            })
            .collect()
    }

    /// Move the centres to the means of their rows (relocating empty clusters); loosen the
    /// bounds by how far the centres moved; return the shifts.
    pub(super) fn update_centers(&mut self) -> Vec<f64> {
        let (k, d) = (self.centers.rows, self.x.cols);
        let mut sums = Matrix { rows: k, cols: d, data: self.sums.clone() };
        let mut counts = self.counts.clone();
        if super::lloyd::relocate_empty(self.x, &self.centers, &self.labels, &mut sums, &mut counts) {
            // the relocated rows keep their labels (as in scikit-learn) but not their sums
            self.stale = true;
        }
        for (j, &c) in counts.iter().enumerate() {
            if c > 0.0 {
                let alpha = 1.0 / c;
                sums.row_mut(j).iter_mut().for_each(|v| *v *= alpha);
            }
        }
        let shift: Vec<f64> = (0..k).map(|j| sqdist(sums.row(j), self.centers.row(j)).sqrt()).collect();
        self.centers = sums;
        // Lower bounds drop by the largest shift of another centre.
        let (mut m1, mut i1, mut m2) = (0.0f64, usize::MAX, 0.0f64);
        for (j, &s) in shift.iter().enumerate() {
            if s > m1 {
                m2 = m1;
                m1 = s;
                i1 = j;
            } else if s > m2 {
                m2 = s;
            }
        }
        let labels = &self.labels;
        self.upper.par_iter_mut().zip(self.lower.par_iter_mut()).enumerate().with_min_len(CHUNK).for_each(
            |(i, (u, l))| {
                let a = labels[i] as usize;
                *u += shift[a];
                *l -= if a == i1 { m2 } else { m1 };
            },
        );
        shift
    }
}
