//! `netanom kmeans`: prepare the whole table, cluster, compare with a label if given, name the
//! clusters, write assignments, report and model.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::{
    csv_field, data_json, data_text, features_json, features_text, io_err, labels_of, load_input, write_json, Input,
    Outcome, Timer,
};
use crate::error::{config, Result};
use crate::features::{FeatureOptions, Preprocessor};
use crate::kmeans::{KMeans, KMeansParams};
use crate::metrics;
use crate::model::{self, ModelHeader, ModelKind, SavedModel};

/// `netanom kmeans`.
#[derive(Clone, Debug)]
pub struct KmeansJob {
    pub input: Input,
    pub features: FeatureOptions,
    pub params: KMeansParams,
    pub assignments: Option<PathBuf>,
    pub report_json: Option<PathBuf>,
    pub save_model: Option<PathBuf>,
}

/// Cluster names: each cluster's majority label, or without labels "normal" for the largest
/// cluster and "malicious" (k = 2) / "malicious-<id>" for the others.
pub fn cluster_names(sizes: &[usize], contingency: Option<(&[Vec<u64>], &[String])>) -> Vec<String> {
    let k = sizes.len();
    match contingency {
        Some((c, classes)) => c
            .iter()
            .map(|row| {
                let mut best = 0;
                for (i, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = i;
                    }
                }
                if row.iter().all(|&v| v == 0) {
                    "empty".to_string()
                } else {
                    classes[best].clone()
                }
            })
            .collect(),
        None => {
            let mut largest = 0;
            for (i, &s) in sizes.iter().enumerate() {
                if s > sizes[largest] {
                    largest = i;
                }
            }
            (0..k)
                .map(|i| {
                    if i == largest {
                        "normal".to_string()
                    } else if k == 2 {
                        "malicious".to_string()
                    } else {
                        format!("malicious-{i}")
                    }
                })
                .collect()
        }
    }
}

/// Each clustered row's cluster and its point in the scaled feature space (for plots).
pub struct Clustering {
    /// Rows of the table clustered (all, unless `--missing drop` removed some).
    pub rows: Vec<usize>,
    pub labels: Vec<u32>,
    /// Scaled features, one row per entry of `rows`.
    pub x: crate::Matrix,
    pub names: Vec<String>,
}

pub fn run_kmeans(job: &KmeansJob) -> Result<Outcome> {
    run_kmeans_clustered(job).map(|(o, _)| o)
}

/// [`run_kmeans`], also returning the clustering itself.
pub fn run_kmeans_clustered(job: &KmeansJob) -> Result<(Outcome, Clustering)> {
    let path = match (&job.input.data, &job.input.train, &job.input.test) {
        (Some(d), None, None) => d,
        _ => return config("kmeans takes one table: --data FILE"),
    };
    let mut timer = Timer::new();
    let label = job.features.label.clone();
    let t = load_input(&job.input, path, label.as_ref())?;
    timer.lap("read");
    // Every row is clustered; the label, where a row has one, is only compared with.
    let rows: Vec<usize> = (0..t.n_rows()).collect();
    let labels = match &label {
        Some(l) => Some(labels_of(&t, l)?),
        None => None,
    };
    let (pre, p) = Preprocessor::fit_transform(&t, &rows, &job.features)?;
    timer.lap("prepare");
    let km = KMeans::fit(job.params.clone(), &p.x)?;
    timer.lap("fit");
    let k = job.params.n_clusters;
    let mut sizes = vec![0usize; k];
    for &l in &km.labels {
        sizes[l as usize] += 1;
    }
    let mut text = String::new();
    data_text(&mut text, "data", &t, &p.stats, labels.as_ref().map(|l| l.2).unwrap_or(0));
    features_text(&mut text, &pre);
    let _ = writeln!(
        text,
        "k = {k}, n_init = {}, max_iter = {}, tol = {}, seed = {}",
        job.params.n_init, job.params.max_iter, job.params.tol, job.params.seed
    );
    let _ = writeln!(text, "inertia: {} (scaled feature space; {} iterations in the best run)", km.inertia, km.n_iter);
    let mut j = serde_json::Map::new();
    j.insert("inertia".into(), json!(km.inertia));
    j.insert("n_iter".into(), json!(km.n_iter));
    j.insert("inertia_per_init".into(), json!(km.inertia_per_init));
    j.insert("params".into(), serde_json::to_value(&job.params).unwrap_or(Value::Null));
    j.insert("features".into(), features_json(&pre));
    j.insert("data".into(), data_json(&t, &p.stats, labels.as_ref().map(|l| l.2).unwrap_or(0)));
    let mut names = cluster_names(&sizes, None);
    if let Some((all_labels, labelled, _)) = &labels {
        // p.rows is every row unless --missing drop removed some: compare the rows kept.
        let mut is_labelled = vec![false; t.n_rows()];
        for &r in labelled {
            is_labelled[r] = true;
        }
        let pairs: Vec<(usize, &String)> = p
            .rows
            .iter()
            .enumerate()
            .filter(|(_, &r)| is_labelled[r])
            .map(|(i, &r)| (km.labels[i] as usize, &all_labels[r]))
            .collect();
        let ls: Vec<String> = pairs.iter().map(|(_, l)| (*l).clone()).collect();
        let classes = metrics::sorted_classes(&ls);
        let y = metrics::encode(&ls, &classes);
        let mut cont = vec![vec![0u64; classes.len()]; k];
        for ((c, _), yy) in pairs.iter().zip(&y) {
            if let Some(yy) = yy {
                cont[*c][*yy] += 1;
            }
        }
        names = cluster_names(&sizes, Some((&cont, &classes)));
        let purity = metrics::purity(&cont);
        let ari = metrics::adjusted_rand_index(&cont);
        let rows_l: Vec<String> = (0..k).map(|c| format!("cluster {c} ({})", names[c])).collect();
        let _ = writeln!(
            text,
            "\nclusters against '{}':\n{}",
            label.as_deref().unwrap_or(""),
            metrics::confusion_text(&rows_l, &classes, &cont, "cluster \\ label")
        );
        let _ = writeln!(text, "purity: {purity:.4}\nadjusted Rand index: {ari:.4}");
        j.insert("classes".into(), json!(classes));
        j.insert("contingency".into(), json!(cont));
        j.insert("purity".into(), json!(purity));
        j.insert("adjusted_rand_index".into(), json!(ari));
    } else {
        let _ = writeln!(text, "(no --label: the largest cluster is named \"normal\", a heuristic)");
    }
    let mut centers_j = Vec::new();
    let _ = writeln!(text, "\nclusters:");
    for c in 0..k {
        let orig = pre.inverse_scale(km.centers.row(c));
        let _ = writeln!(text, "  cluster {c} \"{}\": {} rows", names[c], sizes[c]);
        let center: serde_json::Map<String, Value> =
            pre.feature_names.iter().zip(&orig).map(|(n, v)| (n.clone(), json!(v))).collect();
        centers_j.push(json!({"cluster": c, "name": names[c], "size": sizes[c], "center": center}));
    }
    let _ = writeln!(text, "\ncentres (original units):");
    let w = pre.feature_names.iter().map(|n| n.chars().count()).max().unwrap_or(8).min(40);
    let mut line = format!("  {:<w$}", "feature");
    for c in 0..k {
        let _ = write!(line, " {:>14}", format!("cluster {c}"));
    }
    let _ = writeln!(text, "{line}");
    let origs: Vec<Vec<f64>> = (0..k).map(|c| pre.inverse_scale(km.centers.row(c))).collect();
    for (fi, n) in pre.feature_names.iter().enumerate() {
        let mut line = format!("  {n:<w$}");
        for o in &origs {
            let _ = write!(line, " {:>14.6}", o[fi]);
        }
        let _ = writeln!(text, "{line}");
    }
    j.insert("cluster_sizes".into(), json!(sizes));
    j.insert("cluster_names".into(), json!(names));
    j.insert("clusters".into(), Value::Array(centers_j));
    if let Some(a) = &job.assignments {
        let f = std::fs::File::create(a).map_err(io_err(a))?;
        let mut w = std::io::BufWriter::new(f);
        writeln!(w, "line,cluster,cluster_name").map_err(io_err(a))?;
        for (i, &r) in p.rows.iter().enumerate() {
            let c = km.labels[i] as usize;
            writeln!(w, "{},{},{}", t.lines[r], c, csv_field(&names[c])).map_err(io_err(a))?;
        }
        w.flush().map_err(io_err(a))?;
    }
    if let Some(pth) = &job.save_model {
        let m = SavedModel {
            header: ModelHeader {
                netanom_version: env!("CARGO_PKG_VERSION").into(),
                label,
                preprocessor: pre.clone(),
                model: ModelKind::Kmeans {
                    params: job.params.clone(),
                    centers: (0..k).map(|c| km.centers.row(c).to_vec()).collect(),
                    cluster_names: names.clone(),
                },
            },
            train: None,
        };
        model::save(pth, &m)?;
    }
    timer.lap("write");
    text += &timer.text();
    j.insert("timings_s".into(), timer.json());
    let jv = Value::Object(j);
    if let Some(pth) = &job.report_json {
        write_json(pth, &jv)?;
    }
    Ok((Outcome { text, json: jv }, Clustering { rows: p.rows, labels: km.labels, x: p.x, names }))
}
