//! The brute-force k-nearest-neighbour kernel.
//!
//! Distances follow scikit-learn's `ArgKmin` for dense float64 data: the rank surrogate
//! `max((‖x‖² + (−2 x·y)) + ‖y‖², 0)`, the middle term by a blocked matrix multiply. Keeping
//! the same formula (rather than the more accurate `Σ(x−y)²`) means near-ties round the way
//! scikit-learn's do far more often, which is what prediction agreement rests on.
//!
//! Work is split into blocks of query rows (rayon, one block per task) × blocks of training
//! rows (a GEMM into a buffer that stays in L2, then a selection pass). Training rows are
//! offered to each query in index order, as scikit-learn does.
//!
//! Each query keeps scikit-learn's own fixed-size max-heap (`sklearn.utils._heap.heap_push`,
//! replicated step for step): a candidate enters only if strictly below the current k-th, so at
//! the boundary the earlier training row wins; but a newcomer evicts whichever tied entry sits
//! at the root, so *inside* a group of equal distances the surviving rows depend on the heap's
//! history, not only on their indices. Flow tables are full of duplicate rows, i.e. of exact
//! ties, and reproducing the heap is what makes the neighbour sets, hence the votes, the same.
//!
//! A sweep over k (see [`kneighbors_range`]) computes the heap once for the largest k. For a
//! smaller k the set is the first k by distance unless the k-th and (k+1)-th distances tie;
//! for those (query, k) pairs a second pass replays the scan with a heap of that size.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::matrix::Matrix;
use crate::simd::multiversion;

/// The `k` nearest training rows of each query, sorted by (squared distance, training index),
/// and, for a sweep, the sets scikit-learn would keep for smaller k where ties make them differ
/// from the first k.
#[derive(Clone, Debug)]
pub struct Neighbours {
    pub k: usize,
    pub n_queries: usize,
    /// Row of `idx`/`dist2` holding each query's neighbours (identical queries share one).
    group: Vec<u32>,
    /// `groups × k` training indices.
    idx: Vec<u32>,
    /// `groups × k` squared distances (scikit-learn's surrogate, clamped at 0).
    dist2: Vec<f64>,
    /// (group, k) → the neighbours of a size-k heap, where they are not the first k.
    tie_sets: HashMap<(u32, u32), (Vec<u32>, Vec<f64>)>,
}

impl Neighbours {
    /// All `k` neighbours of query `q`, nearest first.
    pub fn row_idx(&self, q: usize) -> &[u32] {
        let g = self.group[q] as usize;
        &self.idx[g * self.k..(g + 1) * self.k]
    }
    pub fn row_dist2(&self, q: usize) -> &[f64] {
        let g = self.group[q] as usize;
        &self.dist2[g * self.k..(g + 1) * self.k]
    }
    /// The neighbours scikit-learn finds for query `q` with `n_neighbors = k` (`k <=
    /// self.k`, and within the range the sweep was computed for): indices and squared distances.
    pub fn first(&self, q: usize, k: usize) -> (&[u32], &[f64]) {
        if let Some((i, d)) = self.tie_sets.get(&(self.group[q], k as u32)) {
            return (i, d);
        }
        (&self.row_idx(q)[..k], &self.row_dist2(q)[..k])
    }
    /// Whether query `q`'s neighbours for `k` are not simply its first `k`.
    pub fn has_tie_set(&self, q: usize, k: usize) -> bool {
        self.tie_sets.contains_key(&(self.group[q], k as u32))
    }
    /// How many (query, k) pairs needed their own heap because of ties.
    pub fn tie_set_count(&self) -> usize {
        self.tie_sets.len()
    }
}

/// Make matrixmultiply single-threaded: parallelism comes from rayon across query blocks, and
/// nested GEMM threads would only oversubscribe the cores.
pub(crate) fn single_threaded_gemm() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
            std::env::set_var("MATMUL_NUM_THREADS", "1");
        }
    });
}

/// `c[i][j] = -2 * a_i · b_j` for `a` rows `a0..a0+m` and `b` rows `b0..b0+n` (row-major,
/// `c` with row stride `n`).
pub(crate) fn neg2_dot_block(a: &Matrix, a0: usize, m: usize, b: &Matrix, b0: usize, n: usize, c: &mut [f64]) {
    let d = a.cols;
    assert!(b.cols == d && c.len() >= m * n && a0 + m <= a.rows && b0 + n <= b.rows);
    if m == 0 || n == 0 {
        return;
    }
    if d == 0 {
        c[..m * n].iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    // SAFETY: the assert above keeps every access inside a (m×d from row a0), b (n×d from
    // row b0, read transposed) and c (m×n).
    unsafe {
        matrixmultiply::dgemm(
            m,
            d,
            n,
            -2.0,
            a.data.as_ptr().add(a0 * d),
            d as isize,
            1,
            b.data.as_ptr().add(b0 * d),
            1,
            d as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Like [`neg2_dot_block`] with both operands stored transposed (`at`: d × rows of `a`, `bt`:
/// d × rows of `b`): the same products, but the GEMM's packing then reads contiguous memory
/// instead of striding across rows, which cost a third as much as the multiply itself.
fn neg2_dot_block_t(at: &Matrix, a0: usize, m: usize, bt: &Matrix, b0: usize, n: usize, c: &mut [f64]) {
    let d = at.rows;
    assert!(bt.rows == d && c.len() >= m * n && a0 + m <= at.cols && b0 + n <= bt.cols);
    if m == 0 || n == 0 {
        return;
    }
    if d == 0 {
        c[..m * n].iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    // SAFETY: the assert above keeps every access inside at (d × m from column a0, read as
    // m × d), bt (d × n from column b0) and c (m × n).
    unsafe {
        matrixmultiply::dgemm(
            m,
            d,
            n,
            -2.0,
            at.data.as_ptr().add(a0),
            1,
            at.cols as isize,
            bt.data.as_ptr().add(b0),
            bt.cols as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// The transpose of `x` (the GEMM blocks read the training rows column-wise).
pub(crate) fn transpose(x: &Matrix) -> Matrix {
    let mut t = Matrix::zeros(x.cols, x.rows);
    for r in 0..x.rows {
        for (j, &v) in x.row(r).iter().enumerate() {
            t.data[j * x.rows + r] = v;
        }
    }
    t
}

/// Squared norm of each row, summed left to right.
pub fn row_sq_norms(x: &Matrix) -> Vec<f64> {
    (0..x.rows).map(|r| x.row(r).iter().map(|v| v * v).sum()).collect()
}

/// Groups identical rows (bit for bit): returns the first occurrence of each distinct row and,
/// for every row, the position of its group. Identical queries have identical neighbours, and
/// flow tables repeat rows a lot (a third of UNSW-NB15's), so each is computed once.
pub fn dedupe_rows(x: &Matrix) -> (Vec<usize>, Vec<u32>) {
    struct Key<'a>(&'a [f64]);
    impl PartialEq for Key<'_> {
        fn eq(&self, o: &Self) -> bool {
            self.0.iter().zip(o.0).all(|(a, b)| a.to_bits() == b.to_bits())
        }
    }
    impl Eq for Key<'_> {}
    impl std::hash::Hash for Key<'_> {
        fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
            for v in self.0 {
                h.write_u64(v.to_bits());
            }
        }
    }
    let mut first = Vec::new();
    let mut group = Vec::with_capacity(x.rows);
    let mut seen: HashMap<Key, u32> = HashMap::with_capacity(x.rows);
    for r in 0..x.rows {
        let g = *seen.entry(Key(x.row(r))).or_insert_with(|| {
            first.push(r);
            (first.len() - 1) as u32
        });
        group.push(g);
    }
    (first, group)
}

/// Training rows per GEMM block: with `QUERY_BLOCK` queries the distance buffer is 1 MiB.
const TRAIN_BLOCK: usize = 512;
const QUERY_BLOCK: usize = 256;

/// The `k` nearest rows of `train` for every row of `queries`, as a scikit-learn
/// `KNeighborsClassifier(n_neighbors=k, algorithm="brute")` finds them. `train_sq` holds the
/// squared norms of the training rows; `1 <= k <= train.rows`.
pub fn kneighbors(train: &Matrix, train_sq: &[f64], queries: &Matrix, k: usize) -> Neighbours {
    kneighbors_range(train, train_sq, queries, k, k, None)
}

/// Like [`kneighbors`] for `k = k_max`, and [`Neighbours::first`] also gives scikit-learn's
/// neighbours for every k in `k_min..k_max`. With the training `labels`, ties that cannot
/// change a vote (all tied rows of one class) are not resolved: `first` then returns a set
/// with the same classes and distances as scikit-learn's, if not the same rows.
pub fn kneighbors_range(
    train: &Matrix,
    train_sq: &[f64],
    queries: &Matrix,
    k_min: usize,
    k_max: usize,
    labels: Option<&[u32]>,
) -> Neighbours {
    kneighbors_range_t(train, &transpose(train), train_sq, queries, k_min, k_max, labels)
}

/// [`kneighbors_range`] with the transpose of `train` at hand: a fitted model keeps it, so that
/// scoring a few rows at a time (live flows) does not copy the whole training set each time.
pub fn kneighbors_range_t(
    train: &Matrix,
    train_t: &Matrix,
    train_sq: &[f64],
    queries: &Matrix,
    k_min: usize,
    k_max: usize,
    labels: Option<&[u32]>,
) -> Neighbours {
    single_threaded_gemm();
    assert!(train_t.rows == train.cols && train_t.cols == train.rows);
    let k = k_max;
    assert!(train.cols == queries.cols && train_sq.len() == train.rows && k <= train.rows && k_min <= k_max);
    let (first, group) = dedupe_rows(queries);
    let uniq = queries.take_rows(&first);
    let mut heaps: Vec<Heap> = (0..uniq.rows).map(|_| Heap::new(k)).collect();
    if k > 0 {
        for_blocks(train_t, train_sq, &uniq, &mut heaps, |h, g, xn, ysq, t0| {
            select(g, xn, ysq, t0, &mut h.vals, &mut h.ids)
        });
    }
    let mut idx = Vec::with_capacity(uniq.rows * k);
    let mut dist2 = Vec::with_capacity(uniq.rows * k);
    for h in &heaps {
        let (i, d) = h.sorted();
        idx.extend(i);
        dist2.extend(d);
    }
    let mut nb = Neighbours { k, n_queries: queries.rows, group, idx, dist2, tie_sets: HashMap::new() };
    // (group, the k whose k-th and (k+1)-th distances tie)
    let mut tied: Vec<(usize, Vec<usize>)> = Vec::new();
    for gi in 0..uniq.rows {
        let d = &nb.dist2[gi * k..(gi + 1) * k];
        let ids = &nb.idx[gi * k..(gi + 1) * k];
        let ks: Vec<usize> =
            (k_min.max(1)..k).filter(|&kk| d[kk - 1] == d[kk] && tie_matters(d, ids, kk, labels)).collect();
        if !ks.is_empty() {
            tied.push((gi, ks));
        }
    }
    if !tied.is_empty() {
        let rows: Vec<usize> = tied.iter().map(|(gi, _)| first[*gi]).collect();
        let sub = queries.take_rows(&rows);
        let mut multi: Vec<Multi> = tied
            .iter()
            .map(|(_, ks)| Multi { main: Heap::new(k), extra: ks.iter().map(|&kk| Heap::new(kk)).collect() })
            .collect();
        for_blocks(train_t, train_sq, &sub, &mut multi, multi_scan);
        for ((gi, ks), m) in tied.iter().zip(multi) {
            for (&kk, h) in ks.iter().zip(&m.extra) {
                let (i, d) = h.sorted();
                // only keep sets that differ from the first kk (most ties do not matter)
                if i[..] != nb.idx[gi * k..gi * k + kk] {
                    nb.tie_sets.insert((*gi as u32, kk as u32), (i, d));
                }
            }
        }
    }
    nb
}

/// Whether the rows tied with the k-th neighbour could change a vote: not when they are all
/// of one class and all of them are known (their distance is below the largest kept).
fn tie_matters(d: &[f64], ids: &[u32], k: usize, labels: Option<&[u32]>) -> bool {
    let Some(y) = labels else { return true };
    let v = d[k - 1];
    if v == d[d.len() - 1] {
        return true;
    }
    let mut tied = ids.iter().zip(d).filter(|(_, &dd)| dd == v).map(|(&i, _)| y.get(i as usize).copied());
    let first = tied.next().flatten();
    first.is_none() || tied.any(|c| c != first)
}

/// Run the blocked kernel: every query's state sees every training row, in index order.
fn for_blocks<S: Send>(
    train_t: &Matrix,
    train_sq: &[f64],
    queries: &Matrix,
    states: &mut [S],
    visit: impl Fn(&mut S, &[f64], f64, &[f64], u32) + Sync,
) {
    let n = train_t.cols;
    let m = queries.rows;
    if n == 0 || m == 0 {
        return;
    }
    // Small query sets still get one block per thread (and a few more for balance).
    let threads = rayon::current_num_threads().max(1);
    let qb = m.div_ceil(4 * threads).clamp(8, QUERY_BLOCK);
    let tb = TRAIN_BLOCK.min(n);
    let queries_t = transpose(queries);
    states.par_chunks_mut(qb).enumerate().for_each_init(
        || vec![0.0f64; qb * tb],
        |g, (blk, st)| {
            let q0 = blk * qb;
            let rq = st.len();
            let qn: Vec<f64> = (q0..q0 + rq).map(|r| queries.row(r).iter().map(|v| v * v).sum()).collect();
            let mut t0 = 0;
            while t0 < n {
                let tn = tb.min(n - t0);
                neg2_dot_block_t(&queries_t, q0, rq, train_t, t0, tn, g);
                let ysq = &train_sq[t0..t0 + tn];
                for (i, s) in st.iter_mut().enumerate() {
                    visit(s, &g[i * tn..(i + 1) * tn], qn[i], ysq, t0 as u32);
                }
                t0 += tn;
            }
        },
    );
}

/// A fixed-size max-heap of (squared distance, training index), scikit-learn's layout.
struct Heap {
    vals: Vec<f64>,
    ids: Vec<u32>,
}

impl Heap {
    fn new(k: usize) -> Self {
        Heap { vals: vec![f64::INFINITY; k], ids: vec![u32::MAX; k] }
    }
    /// Entries nearest first (by distance, then index).
    fn sorted(&self) -> (Vec<u32>, Vec<f64>) {
        let mut e: Vec<(f64, u32)> = self.vals.iter().copied().zip(self.ids.iter().copied()).collect();
        e.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        (e.iter().map(|x| x.1).collect(), e.iter().map(|x| x.0).collect())
    }
}

/// A heap of the largest k plus heaps of the tied smaller k, fed the same rows.
struct Multi {
    main: Heap,
    extra: Vec<Heap>,
}

/// A row rejected by the largest heap is rejected by every smaller one (its root is the
/// largest), so only rows the main heap takes are offered to the others.
#[inline(always)]
fn multi_generic(m: &mut Multi, g: &[f64], xn: f64, ysq: &[f64], t0: u32) {
    let mut thr = m.main.vals[0];
    let mut j = 0;
    while j < g.len() {
        let end = (j + 8).min(g.len());
        let mut hit = 0u32;
        #[allow(clippy::neg_cmp_op_on_partial_ord)] // NaN must pass the test
        for t in j..end {
            hit |= (!(((xn + g[t]) + ysq[t]) >= thr)) as u32;
        }
        if hit != 0 || thr == f64::INFINITY {
            for t in j..end {
                let v = surrogate(xn, g[t], ysq[t]);
                if v < thr {
                    let id = t0 + t as u32;
                    thr = heap_push(&mut m.main.vals, &mut m.main.ids, v, id);
                    for h in &mut m.extra {
                        if v < h.vals[0] {
                            heap_push(&mut h.vals, &mut h.ids, v, id);
                        }
                    }
                }
            }
        }
        j = end;
    }
}
multiversion!(fn multi_scan(m: &mut Multi, g: &[f64], xn: f64, ysq: &[f64], t0: u32) = multi_generic;);

/// scikit-learn's surrogate, clamped at 0 as it does; capped at `f64::MAX` so that even an
/// overflowing distance fills a slot (a slot left empty would index nothing).
#[inline(always)]
#[allow(clippy::manual_clamp)] // clamp would keep a NaN; max maps it to 0 like scikit-learn's max(0., d)
fn surrogate(xn: f64, g: f64, ysq: f64) -> f64 {
    ((xn + g) + ysq).max(0.0).min(f64::MAX)
}

multiversion!(fn select(g: &[f64], xn: f64, ysq: &[f64], t0: u32, vals: &mut [f64], ids: &mut [u32]) = select_generic;);

/// Offer one block row of middle terms to a query's heap.
#[inline(always)]
fn select_generic(g: &[f64], xn: f64, ysq: &[f64], t0: u32, vals: &mut [f64], ids: &mut [u32]) {
    let mut thr = vals[0];
    let mut j = 0;
    // Most candidates lose: test a chunk without branches (vectorised) and walk it one by one
    // only when something may beat the current k-th. The test is a superset of the exact one:
    // `!(v >= thr)` also lets NaN through, clamping only raises values, and while the heap is
    // not full (`thr` infinite) every chunk takes the exact path.
    const C: usize = 8;
    while j + C <= g.len() {
        let (gc, yc) = (&g[j..j + C], &ysq[j..j + C]);
        let mut hit = 0u32;
        #[allow(clippy::neg_cmp_op_on_partial_ord)] // NaN must pass the test
        for t in 0..C {
            hit |= (!(((xn + gc[t]) + yc[t]) >= thr)) as u32;
        }
        if hit != 0 || thr == f64::INFINITY {
            for t in j..j + C {
                let v = surrogate(xn, g[t], ysq[t]);
                if v < thr {
                    thr = heap_push(vals, ids, v, t0 + t as u32);
                }
            }
        }
        j += C;
    }
    for t in j..g.len() {
        let v = surrogate(xn, g[t], ysq[t]);
        if v < thr {
            thr = heap_push(vals, ids, v, t0 + t as u32);
        }
    }
}

/// `sklearn.utils._heap.heap_push`, step for step (which tied entry is evicted depends on
/// it): returns the new root, the current k-th distance.
#[inline(always)]
fn heap_push(vals: &mut [f64], ids: &mut [u32], v: f64, id: u32) -> f64 {
    let size = vals.len();
    if v >= vals[0] {
        return vals[0];
    }
    let mut cur = 0;
    loop {
        let l = 2 * cur + 1;
        let r = l + 1;
        // scikit-learn tests "no right child" and "left >= right" in two branches with the
        // same body; merged here.
        let swap = if l >= size {
            break;
        } else if r >= size || vals[l] >= vals[r] {
            if v < vals[l] {
                l
            } else {
                break;
            }
        } else if v < vals[r] {
            r
        } else {
            break;
        };
        vals[cur] = vals[swap];
        ids[cur] = ids[swap];
        cur = swap;
    }
    vals[cur] = v;
    ids[cur] = id;
    vals[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(train: &Matrix, q: &[f64], k: usize) -> Vec<u32> {
        let mut d: Vec<(f64, u32)> = (0..train.rows)
            .map(|r| (train.row(r).iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum::<f64>(), r as u32))
            .collect();
        d.sort_by(|a, b| a.partial_cmp(b).unwrap());
        d[..k].iter().map(|x| x.1).collect()
    }

    #[test]
    fn matches_brute_force_without_ties() {
        let rows: Vec<Vec<f64>> =
            (0..3000u32).map(|i| vec![(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos(), i as f64 * 1e-3]).collect();
        let train = Matrix::from_rows(&rows);
        let qs = Matrix::from_rows(&[vec![0.1, 0.2, 0.3], vec![-0.5, 0.9, 2.0], vec![0.1, 0.2, 0.3]]);
        let nb = kneighbors(&train, &row_sq_norms(&train), &qs, 17);
        for q in 0..qs.rows {
            assert_eq!(nb.row_idx(q), &brute(&train, qs.row(q), 17)[..]);
        }
    }

    /// scikit-learn's heap on a tie: [0.4, 0.2, 0.1] + 0.2 from its docstring example, then
    /// a case where the newcomer evicts the root although a later-index tie stays.
    #[test]
    fn heap_push_like_sklearn() {
        let (mut v, mut i) = (vec![1.2, 0.4, 0.1], vec![42, 1, 5]);
        heap_push(&mut v, &mut i, 0.2, 4);
        assert_eq!((v, i), (vec![0.4, 0.2, 0.1], vec![1, 4, 5]));
        // Three rows tie at 1.0, then two closer rows arrive: the second evicts row 0 while
        // row 1, at the same distance but a later index, stays.
        let mut h = Heap::new(3);
        for (d, id) in [(1.0, 0), (1.0, 1), (1.0, 2), (0.5, 3), (0.5, 4)] {
            heap_push(&mut h.vals, &mut h.ids, d, id);
        }
        assert_eq!(h.sorted().0, vec![3, 4, 1]);
    }

    /// Integer data: distances are exact, ties everywhere. Every k of a sweep must give the
    /// set of a size-k heap fed the rows in order, i.e. scikit-learn's.
    #[test]
    fn every_k_of_a_sweep_is_a_size_k_heap() {
        let mut s = 12345u64;
        let mut rnd = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) % 4) as f64
        };
        let rows: Vec<Vec<f64>> = (0..600).map(|_| vec![rnd(), rnd(), rnd()]).collect();
        let queries: Vec<Vec<f64>> = (0..40).map(|_| vec![rnd(), rnd(), rnd()]).collect();
        let (train, qs) = (Matrix::from_rows(&rows), Matrix::from_rows(&queries));
        let sweep = kneighbors_range(&train, &row_sq_norms(&train), &qs, 1, 30, None);
        assert!(sweep.tie_set_count() > 0);
        for k in 1..=30 {
            for q in 0..qs.rows {
                let mut h = Heap::new(k);
                for r in 0..train.rows {
                    let d: f64 = train.row(r).iter().zip(qs.row(q)).map(|(a, b)| (a - b) * (a - b)).sum();
                    heap_push(&mut h.vals, &mut h.ids, d, r as u32);
                }
                assert_eq!(sweep.first(q, k).0, &h.sorted().0[..], "query {q}, k {k}");
            }
        }
    }

    #[test]
    fn overflowing_distances_still_fill_every_slot() {
        let train = Matrix::from_rows(&[vec![1e200], vec![-1e200], vec![0.0]]);
        let qs = Matrix::from_rows(&[vec![1e200]]);
        let nb = kneighbors(&train, &row_sq_norms(&train), &qs, 3);
        assert!(nb.row_idx(0).iter().all(|&i| i < 3));
    }

    #[test]
    fn dedupe_groups_identical_rows() {
        let x = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![1.0, 2.0]]);
        assert_eq!(dedupe_rows(&x), (vec![0, 1], vec![0, 1, 0]));
    }
}
