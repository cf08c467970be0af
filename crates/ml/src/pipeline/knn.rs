//! `netanom knn`: split (or read train and test), prepare, find neighbours once, optionally
//! sweep k, evaluate, write predictions, report and model.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::{
    csv_field, data_json, data_text, features_json, features_text, io_err, labels_of, load, load_input, write_json,
    Input, Outcome, Timer,
};
use crate::error::{config, MlError, Result};
use crate::features::{FeatureOptions, Preprocessor};
use crate::knn::{KnnClassifier, KnnParams};
use crate::metrics::{self, ClassificationReport};
use crate::model::{self, ModelHeader, ModelKind, SavedModel};
use crate::split;
use crate::table::Table;

/// `netanom knn`.
#[derive(Clone, Debug)]
pub struct KnnJob {
    pub input: Input,
    pub features: FeatureOptions,
    /// Share of rows in the test set with `data` (scikit-learn's `test_size`).
    pub test_size: f64,
    pub seed: u32,
    pub stratify: bool,
    pub params: KnnParams,
    /// Sweep `k` over `a..=b` (overrides `params.k`), then evaluate at the best `k`.
    pub k_range: Option<(usize, usize)>,
    pub predictions: Option<PathBuf>,
    pub report_json: Option<PathBuf>,
    pub save_model: Option<PathBuf>,
}

/// The train and test rows and where they come from.
struct Rows {
    train_t: Table,
    /// `None`: the test rows are in `train_t` (a split of one table).
    test_t: Option<Table>,
    train: Vec<usize>,
    test: Vec<usize>,
    unlabelled: (usize, usize),
}

fn rows(job: &KnnJob, label: &String) -> Result<Rows> {
    match (&job.input.data, &job.input.train, &job.input.test) {
        (Some(d), None, None) => {
            let t = load_input(&job.input, d, Some(label))?;
            let (labels, ok, miss) = labels_of(&t, label)?;
            let sp = if job.stratify {
                let ls: Vec<String> = ok.iter().map(|&r| labels[r].clone()).collect();
                let classes = metrics::sorted_classes(&ls);
                let y: Vec<usize> = metrics::encode(&ls, &classes).into_iter().map(|c| c.unwrap_or(0)).collect();
                split::stratified_split(&y, classes.len(), job.test_size, job.seed)?
            } else {
                split::train_test_split(ok.len(), job.test_size, job.seed)?
            };
            // Training rows stay in the split's order: scikit-learn breaks distance ties by
            // position in X_train. Test rows go back to input order for the predictions file.
            let train = sp.train.iter().map(|&i| ok[i]).collect();
            let mut test: Vec<usize> = sp.test.iter().map(|&i| ok[i]).collect();
            test.sort_unstable();
            Ok(Rows { train_t: t, test_t: None, train, test, unlabelled: (miss, 0) })
        }
        (None, Some(a), Some(b)) => {
            let t1 = load(a, &job.input.load, Some(label))?;
            let t2 = load(b, &job.input.load, Some(label))?;
            let (_, train, m1) = labels_of(&t1, label)?;
            let (_, test, m2) = labels_of(&t2, label)?;
            Ok(Rows { train_t: t1, test_t: Some(t2), train, test, unlabelled: (m1, m2) })
        }
        _ => config("give either --data FILE (split with --test-size/--seed) or both --train FILE and --test FILE"),
    }
}

/// Error rate for every k of the sweep, and the best k (lowest error, smallest k on ties).
fn sweep(
    clf: &KnnClassifier,
    nb: &crate::Neighbours,
    y_test_model: &[usize],
    a: usize,
    b: usize,
    out: &mut String,
) -> (usize, Value) {
    let ks: Vec<usize> = (a..=b).collect();
    let rates = clf.error_rates(nb, y_test_model, &ks);
    let mut best = 0;
    for i in 0..rates.len() {
        if rates[i] < rates[best] {
            best = i;
        }
    }
    let _ = writeln!(out, "error rate by k:");
    for (k, r) in ks.iter().zip(&rates) {
        let _ = writeln!(out, "  k={k:<3} {r:.6}{}", if *k == ks[best] { "  <- best" } else { "" });
    }
    let _ = writeln!(out, "best k: {} (error rate {:.6})\n", ks[best], rates[best]);
    let j = Value::Array(ks.iter().zip(&rates).map(|(k, r)| json!({"k": k, "error_rate": r})).collect());
    (ks[best], j)
}

pub fn run_knn(job: &KnnJob) -> Result<Outcome> {
    let mut timer = Timer::new();
    let label = job.features.label.clone().ok_or_else(|| MlError::Config("--label is required".into()))?;
    if let Some((a, b)) = job.k_range {
        if a == 0 || a > b {
            return config(format!("--k-range {a}..{b}: need 1 <= A <= B"));
        }
    }
    let r = rows(job, &label)?;
    let test_t = r.test_t.as_ref().unwrap_or(&r.train_t);
    timer.lap("read");

    let (pre, ptr) = Preprocessor::fit_transform(&r.train_t, &r.train, &job.features)?;
    let pte = pre.transform(test_t, &r.test)?;
    let train_labels = r.train_t.text_column(r.train_t.index_of(&label).unwrap_or(0));
    let test_labels = test_t.text_column(test_t.index_of(&label).unwrap_or(0));
    let tr_labels: Vec<String> = ptr.rows.iter().map(|&i| train_labels[i].clone()).collect();
    let te_labels: Vec<String> = pte.rows.iter().map(|&i| test_labels[i].clone()).collect();
    // The model knows the training classes; a test label never seen in training is reported
    // under its own name (every such row is an error).
    let classes = metrics::sorted_classes(&tr_labels);
    let y_train: Vec<u32> = metrics::encode(&tr_labels, &classes).into_iter().map(|c| c.unwrap_or(0) as u32).collect();
    let mut all: Vec<String> = classes.clone();
    all.extend(te_labels.iter().cloned());
    let all_classes = metrics::sorted_classes(&all);
    let y_test: Vec<usize> = metrics::encode(&te_labels, &all_classes).into_iter().map(|c| c.unwrap_or(0)).collect();
    let model_to_all: Vec<usize> =
        metrics::encode(&classes, &all_classes).into_iter().map(|c| c.unwrap_or(0)).collect();
    let n_train = ptr.x.rows;
    if n_train == 0 {
        return Err(MlError::Data { file: r.train_t.source.clone(), msg: "no training rows left".into() });
    }
    if pte.x.rows == 0 {
        return Err(MlError::Data { file: test_t.source.clone(), msg: "no test rows left".into() });
    }
    let max_k = job.k_range.map(|(_, b)| b).unwrap_or(job.params.k);
    if max_k > n_train {
        return config(format!("k = {max_k} is more than the {n_train} training rows"));
    }
    timer.lap("prepare");

    let clf = KnnClassifier::fit(KnnParams { k: max_k, weights: job.params.weights }, ptr.x, y_train, classes.len())?;
    let k_min = job.k_range.map(|(a, _)| a).unwrap_or(max_k);
    let nb = clf.kneighbors_range(&pte.x, k_min, max_k)?;
    timer.lap("neighbours");

    let mut params = job.params.clone();
    let mut sweep_text = String::new();
    let mut sweep_json = None;
    if let Some((a, b)) = job.k_range {
        let y_test_model: Vec<usize> =
            metrics::encode(&te_labels, &classes).into_iter().map(|c| c.unwrap_or(usize::MAX)).collect();
        let (best, j) = sweep(&clf, &nb, &y_test_model, a, b, &mut sweep_text);
        params.k = best;
        sweep_json = Some((j, best));
    }
    let pred: Vec<usize> = clf.predict_from(&nb, params.k).iter().map(|&p| model_to_all[p]).collect();
    let report = ClassificationReport::of_present(&all_classes, &y_test, &pred);
    timer.lap("evaluate");

    if let Some(p) = &job.predictions {
        let f = std::fs::File::create(p).map_err(io_err(p))?;
        let mut w = std::io::BufWriter::new(f);
        writeln!(w, "line,{},prediction", csv_field(&label)).map_err(io_err(p))?;
        for (i, &row) in pte.rows.iter().enumerate() {
            writeln!(w, "{},{},{}", test_t.lines[row], csv_field(&te_labels[i]), csv_field(&all_classes[pred[i]]))
                .map_err(io_err(p))?;
        }
        w.flush().map_err(io_err(p))?;
    }
    if let Some(p) = &job.save_model {
        let KnnClassifier { x, y, .. } = clf;
        let m = SavedModel {
            header: ModelHeader {
                netanom_version: env!("CARGO_PKG_VERSION").into(),
                label: Some(label.clone()),
                preprocessor: pre.clone(),
                model: ModelKind::Knn { params: params.clone(), classes: classes.clone(), n_train },
            },
            train: Some((x, y)),
        };
        model::save(p, &m)?;
    }
    timer.lap("write");

    let mut text = String::new();
    data_text(&mut text, "train", &r.train_t, &ptr.stats, r.unlabelled.0);
    if r.test_t.is_some() {
        data_text(&mut text, "test", test_t, &pte.stats, r.unlabelled.1);
    } else {
        let strat = if job.stratify { ", stratified" } else { "" };
        let _ = writeln!(
            text,
            "split: {n_train} train / {} test rows (test size {}, seed {}{strat})",
            pte.x.rows, job.test_size, job.seed
        );
    }
    features_text(&mut text, &pre);
    let _ = writeln!(text, "k = {}, weights = {:?}\n", params.k, params.weights);
    text += &sweep_text;
    let _ = writeln!(text, "confusion matrix (rows true, columns predicted):\n{}", report.confusion_text());
    text += &report.to_text();
    text += &timer.text();

    let mut rj = serde_json::to_value(&report).map_err(|e| MlError::Config(e.to_string()))?;
    if let Value::Object(m) = &mut rj {
        if let Some((j, best)) = sweep_json {
            m.insert("error_rate_by_k".into(), j);
            m.insert("best_k".into(), json!(best));
        }
        m.insert("k".into(), json!(params.k));
        m.insert("weights".into(), json!(params.weights));
        m.insert("n_train".into(), json!(n_train));
        m.insert("n_test".into(), json!(pte.x.rows));
        m.insert("features".into(), features_json(&pre));
        m.insert("train_data".into(), data_json(&r.train_t, &ptr.stats, r.unlabelled.0));
        if r.test_t.is_some() {
            m.insert("test_data".into(), data_json(test_t, &pte.stats, r.unlabelled.1));
        } else {
            m.insert("split".into(), json!({"test_size": job.test_size, "seed": job.seed, "stratify": job.stratify}));
        }
        m.insert("timings_s".into(), timer.json());
    }
    if let Some(p) = &job.report_json {
        write_json(p, &rj)?;
    }
    Ok(Outcome { text, json: rj })
}
