//! Train/test splits with scikit-learn's `train_test_split` semantics (numpy legacy RNG), so
//! `--seed 101` picks the same rows as `train_test_split(..., random_state=101)`.

use crate::error::{config, Result};
use crate::rng::RandomState;

/// Row indices of a split, in scikit-learn's order (the order `X_train`/`X_test` have).
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

fn sizes(n: usize, test_size: f64) -> Result<(usize, usize)> {
    if !(test_size > 0.0 && test_size < 1.0) {
        return config(format!("--test-size must be in (0, 1), got {test_size}"));
    }
    let n_test = (test_size * n as f64).ceil() as usize;
    let n_train = n - n_test.min(n);
    if n_train == 0 || n_test == 0 {
        return config(format!("a test size of {test_size} on {n} rows leaves an empty train or test set"));
    }
    Ok((n_train, n_test))
}

/// `train_test_split(range(n), test_size=test_size, random_state=seed)` (ShuffleSplit).
pub fn train_test_split(n: usize, test_size: f64, seed: u32) -> Result<Split> {
    let (n_train, n_test) = sizes(n, test_size)?;
    let mut rng = RandomState::new(seed);
    let perm = rng.permutation(n);
    Ok(Split { test: perm[..n_test].to_vec(), train: perm[n_test..n_test + n_train].to_vec() })
}

/// scikit-learn's `_approximate_mode`.
fn approximate_mode(class_counts: &[usize], n_draws: usize, rng: &mut RandomState) -> Vec<usize> {
    let total: usize = class_counts.iter().sum();
    let continuous: Vec<f64> = class_counts.iter().map(|&c| c as f64 / total as f64 * n_draws as f64).collect();
    let mut floored: Vec<f64> = continuous.iter().map(|c| c.floor()).collect();
    let fsum: f64 = floored.iter().sum();
    let mut need = (n_draws as f64 - fsum) as i64;
    if need > 0 {
        let remainder: Vec<f64> = continuous.iter().zip(&floored).map(|(c, f)| c - f).collect();
        let mut values = remainder.clone();
        values.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
        values.dedup();
        for v in values {
            let inds: Vec<usize> = (0..remainder.len()).filter(|&i| remainder[i] == v).collect();
            let add_now = (inds.len() as i64).min(need) as usize;
            // rng.choice(inds, size=add_now, replace=False) == inds[permutation(len)[:add_now]]
            let perm = rng.permutation(inds.len());
            for &p in &perm[..add_now] {
                floored[inds[p]] += 1.0;
            }
            need -= add_now as i64;
            if need == 0 {
                break;
            }
        }
    }
    floored.iter().map(|&f| f as usize).collect()
}

/// `train_test_split(..., stratify=y)` (StratifiedShuffleSplit). `y` holds class indices
/// 0..n_classes in sorted class order.
pub fn stratified_split(y: &[usize], n_classes: usize, test_size: f64, seed: u32) -> Result<Split> {
    let n = y.len();
    let (n_train, n_test) = sizes(n, test_size)?;
    let mut class_counts = vec![0usize; n_classes];
    for &c in y {
        class_counts[c] += 1;
    }
    if class_counts.iter().any(|&c| c < 2) {
        return config("--stratify: the least populated class has fewer than 2 rows");
    }
    let nc = class_counts.iter().filter(|&&c| c > 0).count();
    if n_train < nc || n_test < nc {
        return config("--stratify: the train and test sets must each hold at least one row per class");
    }
    // class_indices: stable argsort of y, split per class
    let mut class_indices: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &c) in y.iter().enumerate() {
        class_indices[c].push(i);
    }
    let mut rng = RandomState::new(seed);
    let n_i = approximate_mode(&class_counts, n_train, &mut rng);
    let remaining: Vec<usize> = class_counts.iter().zip(&n_i).map(|(c, a)| c - a).collect();
    let t_i = approximate_mode(&remaining, n_test, &mut rng);
    let mut train = Vec::with_capacity(n_train);
    let mut test = Vec::with_capacity(n_test);
    for i in 0..n_classes {
        let perm = rng.permutation(class_counts[i]);
        let idx: Vec<usize> = perm.iter().map(|&p| class_indices[i][p]).collect();
        train.extend_from_slice(&idx[..n_i[i]]);
        test.extend_from_slice(&idx[n_i[i]..n_i[i] + t_i[i]]);
    }
    rng.shuffle(&mut train);
    rng.shuffle(&mut test);
    Ok(Split { train, test })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sizes_like_sklearn() {
        let s = train_test_split(10, 0.3, 101).unwrap();
        assert_eq!(s.test.len(), 3);
        assert_eq!(s.train.len(), 7);
    }
}
