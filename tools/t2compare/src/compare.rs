//! When two values of a column count as equal.

use std::collections::HashMap;

use crate::columns::ColumnKind;

/// Relative tolerance for `F`/`D` columns: T2 prints them with about 7 significant digits, so a
/// tool computing the same value may print different last digits.
pub const REL_TOL: f64 = 1e-4;
/// Absolute tolerance, for values that should be 0 but come out as rounding noise (e.g. the
/// standard deviation of identical values), where a relative test is meaningless.
pub const ABS_TOL: f64 = 1e-9;

/// Whether `ours` matches `golden` in a column of the given kind. `Pairing` columns are not
/// judged per value (see [`flow_pairing_ok`]); they are treated as exact here.
pub fn values_equal(kind: ColumnKind, golden: &str, ours: &str) -> bool {
    if golden == ours {
        return true;
    }
    match kind {
        ColumnKind::Float => floats_equal(golden, ours),
        ColumnKind::Exact | ColumnKind::Pairing => false,
    }
}

fn floats_equal(golden: &str, ours: &str) -> bool {
    let (Some(a), Some(b)) = (parse_float(golden), parse_float(ours)) else {
        return false;
    };
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    let diff = (a - b).abs();
    diff <= ABS_TOL || diff <= REL_TOL * a.abs().max(b.abs())
}

/// Parses a printed float; C's `-nan` and `inf` spellings included.
fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    match t.to_ascii_lowercase().as_str() {
        "nan" | "-nan" => Some(f64::NAN),
        _ => t.parse().ok(),
    }
}

/// For each joined pair (golden flowInd, our flowInd), whether the A/B pairing agrees: all rows
/// that share a golden flowInd share one of ours, and no two golden flows share one of ours.
pub fn flow_pairing_ok(pairs: &[(&str, &str)]) -> Vec<bool> {
    let mut ours_of: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut golden_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for &(g, o) in pairs {
        push_unique(ours_of.entry(g).or_default(), o);
        push_unique(golden_of.entry(o).or_default(), g);
    }
    pairs.iter().map(|&(g, o)| ours_of[g].len() == 1 && golden_of[o].len() == 1).collect()
}

fn push_unique<'a>(v: &mut Vec<&'a str>, x: &'a str) {
    if !v.contains(&x) {
        v.push(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnKind::*;

    #[test]
    fn float_tolerance() {
        assert!(values_equal(Float, "18.23529", "18.235294117"));
        assert!(values_equal(Float, "1.8016e-05", "0.000018016"));
        assert!(!values_equal(Float, "1.8016e-05", "1.9e-05"));
        assert!(values_equal(Float, "0", "1e-15"));
        assert!(!values_equal(Float, "0", "0.001"));
        assert!(values_equal(Float, "-nan", "NaN"));
        assert!(values_equal(Float, "inf", "inf"));
        assert!(!values_equal(Float, "inf", "-inf"));
        assert!(!values_equal(Float, "-", "0"));
    }

    #[test]
    fn exact_columns() {
        assert!(values_equal(Exact, "0x0400", "0x0400"));
        assert!(!values_equal(Exact, "0x0400", "0x400"));
        assert!(!values_equal(Exact, "1.096093000", "1.096093"));
    }

    #[test]
    fn pairing_not_numbering() {
        // Golden flows 1 (A+B) and 2 (A); ours numbered 7 and 3: fine.
        assert_eq!(flow_pairing_ok(&[("1", "7"), ("1", "7"), ("2", "3")]), vec![true; 3]);
        // Ours split golden flow 1, and merged it with flow 2.
        let ok = flow_pairing_ok(&[("1", "7"), ("1", "8"), ("2", "8")]);
        assert_eq!(ok, vec![false, false, false]);
    }
}
