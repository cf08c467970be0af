//! Run-time choice of vector width for the hot loops.
//!
//! The crate is built for baseline x86-64 (SSE2), so loops that the compiler can vectorise are
//! compiled a second and third time with AVX2 and AVX-512 enabled, and the widest one the CPU
//! has is picked when called. Floating-point results do not depend on the choice: Rust never
//! reassociates or contracts float arithmetic, so every version adds in the same order; the
//! wider ones just do it in fewer instructions.

/// `multiversion!(pub(crate) fn name(args...) -> R = generic_fn;)` defines `name`, which calls
/// `generic_fn` (an `#[inline(always)]` function) compiled for the best available features.
macro_rules! multiversion {
    ($vis:vis fn $name:ident($($a:ident: $t:ty),* $(,)?) $(-> $r:ty)? = $generic:path;) => {
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx512f")]
                unsafe fn v512($($a: $t),*) $(-> $r)? { $generic($($a),*) }
                #[allow(clippy::too_many_arguments)]
                #[target_feature(enable = "avx2")]
                unsafe fn v256($($a: $t),*) $(-> $r)? { $generic($($a),*) }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F, checked just above.
                    return unsafe { v512($($a),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { v256($($a),*) };
                }
            }
            $generic($($a),*)
        }
    };
}
pub(crate) use multiversion;

/// The eight partial sums added left to right: a pairwise tree here makes LLVM give up on
/// vectorising the loop above it.
#[inline(always)]
fn lanes_sum(s: [f64; 8]) -> f64 {
    let mut t = 0.0;
    for v in s {
        t += v;
    }
    t
}

/// Dot product with eight independent partial sums (one AVX-512 register, two AVX2 ones).
#[inline(always)]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [0.0f64; 8];
    let mut i = 0;
    while i + 8 <= n {
        let x: &[f64; 8] = a[i..i + 8].try_into().unwrap_or(&[0.0; 8]);
        let y: &[f64; 8] = b[i..i + 8].try_into().unwrap_or(&[0.0; 8]);
        for t in 0..8 {
            s[t] += x[t] * y[t];
        }
        i += 8;
    }
    let mut t = lanes_sum(s);
    while i < n {
        t += a[i] * b[i];
        i += 1;
    }
    t
}

/// Squared Euclidean distance, same summation shape as [`dot`].
#[inline(always)]
pub(crate) fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [0.0f64; 8];
    let mut i = 0;
    while i + 8 <= n {
        let x: &[f64; 8] = a[i..i + 8].try_into().unwrap_or(&[0.0; 8]);
        let y: &[f64; 8] = b[i..i + 8].try_into().unwrap_or(&[0.0; 8]);
        for t in 0..8 {
            let d = x[t] - y[t];
            s[t] += d * d;
        }
        i += 8;
    }
    let mut t = lanes_sum(s);
    while i < n {
        t += (a[i] - b[i]) * (a[i] - b[i]);
        i += 1;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_generic(x: &[f64]) -> f64 {
        dot(x, x)
    }
    multiversion!(fn sum_best(x: &[f64]) -> f64 = sum_generic;);

    #[test]
    fn every_version_adds_in_the_same_order() {
        let x: Vec<f64> = (0..37).map(|i| 1.0 / (i as f64 + 0.3)).collect();
        assert_eq!(sum_best(&x).to_bits(), dot(&x, &x).to_bits());
        assert_eq!(sqdist(&x, &vec![0.0; 37]).to_bits(), dot(&x, &x).to_bits());
    }
}
