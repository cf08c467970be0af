//! The two principal axes of the scaled feature space, for the cluster chart: power iteration on
//! the covariance matrix with deflation. Two axes of a d×d matrix (d ≈ 100) need no LAPACK.

use netanom_ml::Matrix;

/// Projection onto the top two principal axes.
pub struct Projection {
    mean: Vec<f64>,
    axes: [Vec<f64>; 2],
    /// Share of the total variance along each axis.
    pub explained: [f64; 2],
}

impl Projection {
    pub fn project(&self, row: &[f64]) -> (f64, f64) {
        let dot = |axis: &[f64]| row.iter().zip(&self.mean).zip(axis).map(|((x, m), a)| (x - m) * a).sum::<f64>();
        (dot(&self.axes[0]), dot(&self.axes[1]))
    }
}

const ITERATIONS: usize = 200;

/// Top two principal axes of `x`'s rows. Constant data gives zero axes (every point at 0, 0).
pub fn top2(x: &Matrix) -> Projection {
    let (n, d) = (x.rows, x.cols);
    let mut mean = vec![0.0; d];
    for r in 0..n {
        for (m, v) in mean.iter_mut().zip(x.row(r)) {
            *m += v;
        }
    }
    for m in mean.iter_mut() {
        *m /= n.max(1) as f64;
    }
    // Covariance, upper triangle then mirrored.
    let mut cov = vec![0.0; d * d];
    let mut centred = vec![0.0; d];
    for r in 0..n {
        for ((c, v), m) in centred.iter_mut().zip(x.row(r)).zip(&mean) {
            *c = v - m;
        }
        for i in 0..d {
            let ci = centred[i];
            if ci == 0.0 {
                continue;
            }
            let row = &mut cov[i * d..(i + 1) * d];
            for j in i..d {
                row[j] += ci * centred[j];
            }
        }
    }
    let denom = (n.max(2) - 1) as f64;
    for i in 0..d {
        for j in i..d {
            let v = cov[i * d + j] / denom;
            cov[i * d + j] = v;
            cov[j * d + i] = v;
        }
    }
    let total: f64 = (0..d).map(|i| cov[i * d + i]).sum();
    let (a1, l1) = leading(&cov, d);
    // Deflate: remove the first axis' share.
    for i in 0..d {
        for j in 0..d {
            cov[i * d + j] -= l1 * a1[i] * a1[j];
        }
    }
    let (a2, l2) = leading(&cov, d);
    let share = |l: f64| if total > 0.0 { (l / total).clamp(0.0, 1.0) } else { 0.0 };
    Projection { mean, axes: [a1, a2], explained: [share(l1), share(l2)] }
}

/// Leading eigenvector (unit length, sign fixed so its largest component is positive) and its
/// eigenvalue of a symmetric positive semi-definite matrix.
fn leading(m: &[f64], d: usize) -> (Vec<f64>, f64) {
    if d == 0 {
        return (Vec::new(), 0.0);
    }
    // A start with a component along every axis, not symmetric, so it is not orthogonal to the answer.
    let mut v: Vec<f64> = (0..d).map(|i| 1.0 + (i as f64 * 0.618).fract()).collect();
    normalise(&mut v);
    let mut w = vec![0.0; d];
    let mut lambda = 0.0;
    for _ in 0..ITERATIONS {
        for (i, wi) in w.iter_mut().enumerate() {
            *wi = m[i * d..(i + 1) * d].iter().zip(&v).map(|(a, b)| a * b).sum();
        }
        let norm = normalise(&mut w);
        if norm <= 1e-12 {
            return (vec![0.0; d], 0.0);
        }
        let delta: f64 = w.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut v, &mut w);
        lambda = norm;
        if delta < 1e-10 {
            break;
        }
    }
    let big = v.iter().copied().fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
    if big < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    (v, lambda)
}

fn normalise(v: &mut [f64]) -> f64 {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_axis_of_a_stretched_cloud() {
        // Points along (1, 1, 0) with small noise along (1, -1, 0) and none on the third axis.
        let rows: Vec<Vec<f64>> = (0..200)
            .map(|i| {
                let t = i as f64 - 100.0;
                let e = if i % 2 == 0 { 0.5 } else { -0.5 };
                vec![t + e, t - e, 0.0]
            })
            .collect();
        let p = top2(&Matrix::from_rows(&rows));
        let s = std::f64::consts::FRAC_1_SQRT_2;
        // The noise is slightly correlated with t: the axes are (1, ±1) to within 1e-3.
        assert!((p.axes[0][0] - s).abs() < 1e-3 && (p.axes[0][1] - s).abs() < 1e-3, "{:?}", p.axes[0]);
        assert!((p.axes[1][0].abs() - s).abs() < 1e-3 && (p.axes[1][1].abs() - s).abs() < 1e-3);
        assert!(p.explained[0] > 0.99 && p.explained[0] + p.explained[1] > 0.999999);
        let (x, y) = p.project(&[100.0, 100.0, 0.0]);
        // The mean of t is -0.5: the point is 100.5 along both axes from it.
        assert!((x - 201.0 * s).abs() < 1e-2 && y.abs() < 0.2, "{x} {y}");
    }

    #[test]
    fn constant_data_projects_to_the_origin() {
        let p = top2(&Matrix::from_rows(&[vec![3.0, 3.0], vec![3.0, 3.0]]));
        assert_eq!(p.project(&[3.0, 3.0]), (0.0, 0.0));
        assert_eq!(p.explained, [0.0, 0.0]);
    }
}
