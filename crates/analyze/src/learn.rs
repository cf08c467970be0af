//! The model stages: KNN trained on the rule labels (the seed's protocol) and KMeans, on a seeded
//! sample of the flow table, through the same pipeline as `netanom knn` and `netanom kmeans`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use netanom_ml::metrics::ClassificationReport;
use netanom_ml::pipeline::{self, Clustering, Input, KmeansJob, KnnJob, PredictJob};
use netanom_ml::rng::RandomState;
use netanom_ml::{FeatureOptions, KMeansParams, KnnParams, LoadOptions, Table, Weights};
use netanom_report::{KmeansSummary, KnnSummary, ModelScore, Point, Stage};
use serde_json::Value;

use crate::pca;

/// How the model stages run. The defaults are the seed's protocol.
#[derive(Clone, Debug)]
pub struct LearnOptions {
    /// Share of rows in the KNN test set (0.3).
    pub test_size: f64,
    /// Seed of the sample, the split and KMeans (101).
    pub seed: u32,
    /// The k sweep, inclusive (1..=59); capped at the number of training rows.
    pub k_range: (usize, usize),
    /// Most flow rows the models see; larger tables are sampled (seeded) down to it (20,000).
    /// Brute-force KNN costs train × test distances: this keeps the stage in seconds.
    pub max_rows: usize,
    /// KMeans clusters (2) and runs (10).
    pub clusters: usize,
    pub n_init: usize,
    /// Points drawn in the cluster chart at most (5,000).
    pub max_points: usize,
    /// Score with this saved model instead of training a KNN.
    pub model: Option<PathBuf>,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            test_size: 0.3,
            seed: 101,
            k_range: (1, 59),
            max_rows: 20_000,
            clusters: 2,
            n_init: 10,
            max_points: 5_000,
            model: None,
        }
    }
}

/// The label the models learn, and the columns they must not see: the rule names are the label
/// spelled out.
pub const LABEL: &str = "anomaly";
const NOT_FEATURES: &[&str] = &["anomalyRules"];

/// Fewest labelled rows for a split and a sweep worth reporting.
const MIN_ROWS: usize = 20;

pub(crate) struct Learnt {
    pub knn: Stage<KnnSummary>,
    pub kmeans: Stage<KmeansSummary>,
    pub model: Option<ModelScore>,
    /// Seconds per step: reading the table back, KNN (or scoring), KMeans.
    pub timings: Vec<(&'static str, f64)>,
}

fn features() -> FeatureOptions {
    FeatureOptions {
        label: Some(LABEL.into()),
        exclude: NOT_FEATURES.iter().map(|s| s.to_string()).collect(),
        ..FeatureOptions::default()
    }
}

/// Reads the flow table written by the flow stage (`rows` data rows) and runs the model stages
/// into `out`.
pub(crate) fn learn(flows: &Path, rows: usize, out: &Path, o: &LearnOptions) -> Learnt {
    let mut timings = Vec::new();
    let mut t = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, f64)>| {
        timings.push((name, t.elapsed().as_secs_f64()));
        t = Instant::now();
    };
    // Repeated and compound columns (`3;4;9`, `0x02_0x12`) are text in every format: read them as
    // categories, not as numbers with a few unreadable cells.
    let mut keep_text: Vec<String> = netanom_flow::features::columns()
        .filter(|c| c.kind == netanom_flow::schema::Kind::Text)
        .map(|c| c.name.to_string())
        .collect();
    keep_text.push(LABEL.into());
    // Only the sampled rows are parsed: reading the whole table back would cost more than the models.
    let load = LoadOptions { keep_text, rows: sample(rows, o.max_rows, o.seed), ..LoadOptions::default() };
    let table = match netanom_ml::read_table(flows, &load) {
        Ok(t) => Arc::new(t),
        Err(e) => return Learnt::skipped(format!("cannot read the flow table back: {e}")),
    };
    let available = rows;
    lap("read back", &mut timings);
    let (knn, model) = match &o.model {
        Some(m) => (
            Stage::Skipped { reason: format!("scored with the saved model {} instead of training", m.display()) },
            Some(score(flows, m, out)),
        ),
        None => (knn(&table, available, out, o), None),
    };
    lap(if o.model.is_some() { "score" } else { "knn" }, &mut timings);
    let kmeans = kmeans(&table, out, o);
    lap("kmeans", &mut timings);
    Learnt { knn, kmeans, model, timings }
}

impl Learnt {
    pub fn skipped(reason: String) -> Learnt {
        Learnt {
            knn: Stage::Skipped { reason: reason.clone() },
            kmeans: Stage::Skipped { reason },
            model: None,
            timings: Vec::new(),
        }
    }
}

/// At most `max` of `n` rows, drawn without replacement from a seeded permutation, in table
/// order; `None`: all of them.
fn sample(n: usize, max: usize, seed: u32) -> Option<Vec<usize>> {
    if n <= max {
        return None;
    }
    let mut rows: Vec<usize> = RandomState::new(seed).permutation(n);
    rows.truncate(max);
    rows.sort_unstable();
    Some(rows)
}

fn input(t: &Arc<Table>, flows_name: &str) -> Input {
    Input { data: Some(PathBuf::from(flows_name)), table: Some(t.clone()), ..Input::default() }
}

fn class_counts(t: &Table) -> Vec<(String, usize)> {
    let Some(i) = t.index_of(LABEL) else { return Vec::new() };
    let mut counts: Vec<(String, usize)> = Vec::new();
    for v in t.text_column(i) {
        match counts.iter_mut().find(|(c, _)| *c == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    counts
}

fn knn(t: &Arc<Table>, available: usize, out: &Path, o: &LearnOptions) -> Stage<KnnSummary> {
    let classes = class_counts(t);
    if t.n_rows() < MIN_ROWS {
        return Stage::Skipped { reason: format!("{} flow rows: too few for a train/test split", t.n_rows()) };
    }
    if classes.len() < 2 {
        let only = classes.first().map(|(c, _)| c.as_str()).unwrap_or("-");
        let what = if only == "1" { "anomalous" } else { "normal" };
        return Stage::Skipped { reason: format!("every flow row is labelled {what}: nothing to classify") };
    }
    let n_train = t.n_rows() - (t.n_rows() as f64 * o.test_size).ceil() as usize;
    let k_hi = o.k_range.1.min(n_train).max(o.k_range.0);
    let job = KnnJob {
        input: input(t, "flows.txt"),
        features: features(),
        test_size: o.test_size,
        seed: o.seed,
        stratify: false,
        params: KnnParams { k: k_hi, weights: Weights::Uniform },
        k_range: Some((o.k_range.0, k_hi)),
        predictions: None,
        report_json: Some(out.join("knn.json")),
        save_model: None,
    };
    match pipeline::run_knn(&job) {
        Ok(outcome) => Stage::Done(knn_summary(&outcome.json, available, t.n_rows(), o)),
        Err(e) => Stage::Skipped { reason: format!("KNN failed: {e}") },
    }
}

fn knn_summary(j: &Value, available: usize, sampled: usize, o: &LearnOptions) -> KnnSummary {
    let report: Option<ClassificationReport> = serde_json::from_value(j.clone()).ok();
    let (mut k, mut error_rate) = (Vec::new(), Vec::new());
    for e in j["error_rate_by_k"].as_array().into_iter().flatten() {
        k.push(e["k"].as_u64().unwrap_or(0) as u32);
        error_rate.push(e["error_rate"].as_f64().unwrap_or(f64::NAN));
    }
    let per_class = report
        .as_ref()
        .map(|r| {
            r.classes
                .iter()
                .filter_map(|c| {
                    r.per_class.get(c).map(|s| netanom_report::ClassMetrics {
                        class: c.clone(),
                        precision: s.precision,
                        recall: s.recall,
                        f1: s.f1,
                        support: s.support,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    KnnSummary {
        available: available as u64,
        sampled: sampled as u64,
        train_rows: j["n_train"].as_u64().unwrap_or(0),
        test_rows: j["n_test"].as_u64().unwrap_or(0),
        test_size: o.test_size,
        seed: o.seed,
        features: j["features"]["names"].as_array().map_or(0, |a| a.len() as u64),
        k,
        error_rate,
        best_k: j["best_k"].as_u64().unwrap_or(0) as u32,
        accuracy: report.as_ref().map_or(f64::NAN, |r| r.accuracy),
        classes: report.as_ref().map(|r| r.classes.clone()).unwrap_or_default(),
        confusion: report.as_ref().map(|r| r.confusion_matrix.clone()).unwrap_or_default(),
        per_class,
        report_text: report.as_ref().map(|r| r.to_text()).unwrap_or_default(),
    }
}

fn kmeans(t: &Arc<Table>, out: &Path, o: &LearnOptions) -> Stage<KmeansSummary> {
    if t.n_rows() < o.clusters.max(2) {
        return Stage::Skipped { reason: format!("{} flow rows: fewer than {} clusters", t.n_rows(), o.clusters) };
    }
    let params = KMeansParams { n_clusters: o.clusters, n_init: o.n_init, seed: o.seed, ..KMeansParams::default() };
    let job = KmeansJob {
        input: input(t, "flows.txt"),
        features: features(),
        params,
        assignments: None,
        report_json: Some(out.join("kmeans.json")),
        save_model: None,
    };
    match pipeline::run_kmeans_clustered(&job) {
        Ok((outcome, c)) => Stage::Done(kmeans_summary(&outcome.json, &c, t, o)),
        Err(e) => Stage::Skipped { reason: format!("KMeans failed: {e}") },
    }
}

fn kmeans_summary(j: &Value, c: &Clustering, t: &Table, o: &LearnOptions) -> KmeansSummary {
    let labels = t.index_of(LABEL).map(|i| t.text_column(i)).unwrap_or_default();
    let proj = pca::top2(&c.x);
    let step = c.rows.len().div_ceil(o.max_points.max(1)).max(1);
    let points = (0..c.rows.len())
        .step_by(step)
        .map(|i| {
            let (x, y) = proj.project(c.x.row(i));
            let label = labels.get(c.rows[i]).map_or(0, |l| (l.trim() == "1") as u8);
            Point { x: x as f32, y: y as f32, cluster: c.labels[i], label }
        })
        .collect();
    let u64s =
        |v: &Value| v.as_array().map(|a| a.iter().map(|x| x.as_u64().unwrap_or(0)).collect()).unwrap_or_default();
    KmeansSummary {
        k: o.clusters as u32,
        n_init: o.n_init as u32,
        inertia: j["inertia"].as_f64().unwrap_or(f64::NAN),
        names: cluster_names(j, c),
        sizes: u64s(&j["cluster_sizes"]),
        purity: j["purity"].as_f64().unwrap_or(f64::NAN),
        adjusted_rand_index: j["adjusted_rand_index"].as_f64().unwrap_or(f64::NAN),
        explained_variance: proj.explained,
        points,
    }
}

/// Names by each cluster's share of anomalous rows, so two clusters that are both mostly normal
/// are still told apart: "malicious" at half or more, "suspicious" above the table's share,
/// "normal" otherwise.
fn cluster_names(j: &Value, c: &Clustering) -> Vec<String> {
    let Some(one) = j["classes"].as_array().and_then(|cl| cl.iter().position(|x| x.as_str() == Some("1"))) else {
        return c.names.clone();
    };
    let cont: Vec<(u64, u64)> = j["contingency"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let cells: Vec<u64> = row.as_array().into_iter().flatten().map(|v| v.as_u64().unwrap_or(0)).collect();
            (cells.iter().sum(), cells.get(one).copied().unwrap_or(0))
        })
        .collect();
    let (all, bad) = cont.iter().fold((0, 0), |(a, b), (n, m)| (a + n, b + m));
    let overall = bad as f64 / all.max(1) as f64;
    cont.iter()
        .map(|&(n, m)| {
            let share = m as f64 / n.max(1) as f64;
            if n > 0 && share >= 0.5 {
                "malicious"
            } else if n > 0 && share > overall {
                "suspicious"
            } else {
                "normal"
            }
            .to_string()
        })
        .collect()
}

/// `--model`: every flow row scored with a saved model; predictions in `predictions.csv`.
fn score(flows: &Path, model: &Path, out: &Path) -> ModelScore {
    let job = PredictJob {
        model: model.to_path_buf(),
        input: flows.to_path_buf(),
        load: LoadOptions::default(),
        output: Some(out.join("predictions.csv")),
    };
    match pipeline::run_predict(&job) {
        Ok(o) => {
            let _ = std::fs::write(out.join("knn.json"), o.json.to_string());
            ModelScore {
                model: model.display().to_string(),
                rows: o.json["rows"].as_u64().unwrap_or(0),
                accuracy_against_rules: o.json["accuracy"].as_f64(),
                error: None,
            }
        }
        Err(e) => {
            ModelScore { model: model.display().to_string(), error: Some(e.to_string()), ..ModelScore::default() }
        }
    }
}
