//! Classification and clustering metrics, printed like scikit-learn's.

use serde::{Deserialize, Serialize};

/// Sorted class labels like `np.unique`: numerically when every label is a number, else by
/// code point.
pub fn sorted_classes(labels: &[String]) -> Vec<String> {
    let mut c: Vec<String> = labels.to_vec();
    c.sort();
    c.dedup();
    let nums: Option<Vec<f64>> = c.iter().map(|s| s.trim().parse::<f64>().ok().filter(|v| v.is_finite())).collect();
    if let Some(nums) = nums {
        let mut z: Vec<(f64, String)> = nums.into_iter().zip(c).collect();
        z.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        return z.into_iter().map(|x| x.1).collect();
    }
    c
}

/// Index of each label in `classes` (`None` for a label not in it).
pub fn encode(labels: &[String], classes: &[String]) -> Vec<Option<usize>> {
    let map: std::collections::HashMap<&str, usize> =
        classes.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    labels.iter().map(|l| map.get(l.as_str()).copied()).collect()
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    #[serde(rename = "f1-score")]
    pub f1: f64,
    pub support: u64,
}

/// Accuracy, confusion matrix and per-class scores (`zero_division = 0`, as scikit-learn prints).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClassificationReport {
    pub classes: Vec<String>,
    /// Rows: true class; columns: predicted class; classes sorted.
    pub confusion_matrix: Vec<Vec<u64>>,
    pub per_class: std::collections::BTreeMap<String, ClassScores>,
    pub accuracy: f64,
    pub macro_avg: ClassScores,
    pub weighted_avg: ClassScores,
}

fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

impl ClassificationReport {
    /// `y_true`, `y_pred` are indices into `classes`.
    pub fn new(classes: &[String], y_true: &[usize], y_pred: &[usize]) -> Self {
        let c = classes.len();
        let mut cm = vec![vec![0u64; c]; c];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            cm[t][p] += 1;
        }
        let n = y_true.len() as f64;
        let correct: u64 = (0..c).map(|i| cm[i][i]).sum();
        let mut per_class = std::collections::BTreeMap::new();
        let mut scores = Vec::new();
        for i in 0..c {
            let tp = cm[i][i] as f64;
            let pred: f64 = (0..c).map(|r| cm[r][i]).sum::<u64>() as f64;
            let support: u64 = cm[i].iter().sum();
            let p = div(tp, pred);
            let r = div(tp, support as f64);
            let f = div(2.0 * tp, pred + support as f64);
            let s = ClassScores { precision: p, recall: r, f1: f, support };
            per_class.insert(classes[i].clone(), s.clone());
            scores.push(s);
        }
        let total: u64 = scores.iter().map(|s| s.support).sum();
        let cf = c.max(1) as f64;
        let macro_avg = ClassScores {
            precision: scores.iter().map(|s| s.precision).sum::<f64>() / cf,
            recall: scores.iter().map(|s| s.recall).sum::<f64>() / cf,
            f1: scores.iter().map(|s| s.f1).sum::<f64>() / cf,
            support: total,
        };
        let wsum = |f: &dyn Fn(&ClassScores) -> f64| {
            div(scores.iter().map(|s| f(s) * s.support as f64).sum::<f64>(), total as f64)
        };
        let weighted_avg = ClassScores {
            precision: wsum(&|s| s.precision),
            recall: wsum(&|s| s.recall),
            f1: wsum(&|s| s.f1),
            support: total,
        };
        ClassificationReport {
            classes: classes.to_vec(),
            confusion_matrix: cm,
            per_class,
            accuracy: div(correct as f64, n),
            macro_avg,
            weighted_avg,
        }
    }

    /// The report over the classes that occur in `y_true` or `y_pred` only, as scikit-learn's
    /// `classification_report` and `confusion_matrix` do (`unique_labels(y_true, y_pred)`): a
    /// training class absent from the test rows and never predicted would otherwise add a row of
    /// zeros and pull the macro average down.
    pub fn of_present(classes: &[String], y_true: &[usize], y_pred: &[usize]) -> Self {
        let mut present = vec![false; classes.len()];
        y_true.iter().chain(y_pred).for_each(|&c| present[c] = true);
        let mut remap = vec![0; classes.len()];
        let mut shown = Vec::new();
        for (i, c) in classes.iter().enumerate().filter(|(i, _)| present[*i]) {
            remap[i] = shown.len();
            shown.push(c.clone());
        }
        let t: Vec<usize> = y_true.iter().map(|&c| remap[c]).collect();
        let p: Vec<usize> = y_pred.iter().map(|&c| remap[c]).collect();
        Self::new(&shown, &t, &p)
    }

    /// The text of scikit-learn's `classification_report(digits=2)`.
    pub fn to_text(&self) -> String {
        let digits = 2;
        let width =
            self.classes.iter().map(|c| c.chars().count()).max().unwrap_or(0).max("weighted avg".len()).max(digits);
        let mut s = format!("{:>width$} ", "");
        for h in ["precision", "recall", "f1-score", "support"] {
            s += &format!(" {h:>9}");
        }
        s += "\n\n";
        let row = |name: &str, v: &ClassScores| {
            format!(
                "{name:>width$}  {:>9.digits$} {:>9.digits$} {:>9.digits$} {:>9}\n",
                v.precision, v.recall, v.f1, v.support
            )
        };
        for c in &self.classes {
            s += &row(c, &self.per_class[c]);
        }
        s += "\n";
        s += &format!(
            "{:>width$}  {:>9} {:>9} {:>9.digits$} {:>9}\n",
            "accuracy", "", "", self.accuracy, self.macro_avg.support
        );
        s += &row("macro avg", &self.macro_avg);
        s += &row("weighted avg", &self.weighted_avg);
        s
    }

    /// The confusion matrix as a labelled table.
    pub fn confusion_text(&self) -> String {
        confusion_text(&self.classes, &self.classes, &self.confusion_matrix, "true \\ predicted")
    }
}

/// A labelled count table.
pub fn confusion_text(rows: &[String], cols: &[String], m: &[Vec<u64>], corner: &str) -> String {
    let w0 = rows.iter().map(|r| r.chars().count()).max().unwrap_or(0).max(corner.chars().count());
    let cw: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(j, c)| c.chars().count().max(m.iter().map(|r| r[j].to_string().len()).max().unwrap_or(1)))
        .collect();
    let mut s = format!("{corner:<w0$}");
    for (c, w) in cols.iter().zip(&cw) {
        s += &format!("  {c:>w$}");
    }
    s += "\n";
    for (r, row) in rows.iter().zip(m) {
        s += &format!("{r:<w0$}");
        for (v, w) in row.iter().zip(&cw) {
            s += &format!("  {v:>w$}");
        }
        s += "\n";
    }
    s
}

/// scikit-learn's `adjusted_rand_score` from a contingency table.
pub fn adjusted_rand_index(contingency: &[Vec<u64>]) -> f64 {
    let n: i128 = contingency.iter().flatten().map(|&v| v as i128).sum();
    if n == 0 {
        return 1.0;
    }
    let rows = contingency.len();
    let cols = contingency.first().map(|r| r.len()).unwrap_or(0);
    let n_c: Vec<i128> = contingency.iter().map(|r| r.iter().map(|&v| v as i128).sum()).collect();
    let n_k: Vec<i128> = (0..cols).map(|j| contingency.iter().map(|r| r[j] as i128).sum()).collect();
    let sum_sq: i128 = contingency.iter().flatten().map(|&v| (v as i128) * (v as i128)).sum();
    let mut c_dot_nk: i128 = 0;
    let mut ct_dot_nc: i128 = 0;
    for i in 0..rows {
        for j in 0..cols {
            let v = contingency[i][j] as i128;
            c_dot_nk += v * n_k[j];
            ct_dot_nc += v * n_c[i];
        }
    }
    let tp = sum_sq - n;
    let fp = c_dot_nk - sum_sq;
    let fn_ = ct_dot_nc - sum_sq;
    let tn = n * n - fp - fn_ - sum_sq;
    if fn_ == 0 && fp == 0 {
        return 1.0;
    }
    let (tp, tn, fp, fn_) = (tp as f64, tn as f64, fp as f64, fn_ as f64);
    2.0 * (tp * tn - fn_ * fp) / ((tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn))
}

/// Purity: the share of rows whose cluster's majority label is their own.
pub fn purity(contingency_cluster_by_class: &[Vec<u64>]) -> f64 {
    let n: u64 = contingency_cluster_by_class.iter().flatten().sum();
    let s: u64 = contingency_cluster_by_class.iter().map(|r| r.iter().copied().max().unwrap_or(0)).sum();
    if n == 0 {
        0.0
    } else {
        s as f64 / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_text_like_sklearn() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let r = ClassificationReport::new(&classes, &[0, 0, 1, 1], &[0, 1, 1, 1]);
        let expected = "              precision    recall  f1-score   support\n\n           a       1.00      0.50      0.67         2\n           b       0.67      1.00      0.80         2\n\n    accuracy                           0.75         4\n   macro avg       0.83      0.75      0.73         4\nweighted avg       0.83      0.75      0.73         4\n";
        assert_eq!(r.to_text(), expected);
    }

    #[test]
    fn report_leaves_out_classes_neither_true_nor_predicted() {
        // sklearn: classification_report(['a','c','c'], ['a','c','a']) has rows a and c only;
        // macro avg precision (0.5 + 1) / 2
        let classes = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let r = ClassificationReport::of_present(&classes, &[0, 2, 2], &[0, 2, 0]);
        assert_eq!(r.classes, vec!["a", "c"]);
        assert_eq!(r.confusion_matrix, vec![vec![1, 0], vec![1, 1]]);
        assert!((r.macro_avg.precision - 0.75).abs() < 1e-15);
    }

    #[test]
    fn ari_known_values() {
        // sklearn: adjusted_rand_score([0,0,1,1],[0,0,1,2]) == 0.5714285714285715
        let c = vec![vec![2, 0, 0], vec![0, 1, 1]];
        assert!((adjusted_rand_index(&c) - 0.5714285714285715).abs() < 1e-12);
        assert_eq!(sorted_classes(&["10".into(), "9".into()]), vec!["9", "10"]);
    }
}
