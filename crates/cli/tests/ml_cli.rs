//! `netanom knn`, `kmeans` and `predict` as a user runs them: on the ML crate's fixtures, on
//! Tranalyzer2's own flow tables and on NSL-KDD / UNSW-NB15 from `../shared` (skipped, with a
//! message, where that folder is absent). Debug builds use row subsets of the real data so the
//! suite stays fast; release builds (CI's `cargo test --release`) use more of it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn netanom(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netanom")).args(args).output().expect("run netanom")
}

fn ok(args: &[&str]) -> Output {
    let out = netanom(args);
    assert!(out.status.success(), "netanom {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ml/tests/fixtures").join(name).display().to_string()
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.join("data").is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent (the shared data sets live there)", p.display());
        None
    }
}

/// A scratch directory removed at the end of the test.
struct Tmp(PathBuf);
impl Tmp {
    fn new(name: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("netanom-ml-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
    fn path(&self, f: &str) -> String {
        self.0.join(f).display().to_string()
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn csv_rows(path: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().split(',').map(String::from).collect();
    (head, lines.map(|l| l.split(',').map(String::from).collect()).collect())
}

#[test]
fn knn_sweep_save_and_predict_on_a_tranalyzer_table() {
    let tmp = Tmp::new("knn");
    let (rep, pred, model, scored) =
        (tmp.path("knn.json"), tmp.path("pred.csv"), tmp.path("knn.model"), tmp.path("scored.csv"));
    let t2 = fixture("t2_flows.txt");
    let out = ok(&[
        "knn",
        "--data",
        &t2,
        "--label",
        "anomaly",
        "--test-size",
        "0.3",
        "--seed",
        "101",
        "--k-range",
        "1..15",
        "--predictions",
        &pred,
        "--report-json",
        &rep,
        "--save-model",
        &model,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("precision    recall  f1-score   support") && text.contains("best k:"), "{text}");
    let r = json(&rep);
    for key in [
        "classes",
        "confusion_matrix",
        "per_class",
        "accuracy",
        "macro_avg",
        "weighted_avg",
        "error_rate_by_k",
        "best_k",
    ] {
        assert!(r.get(key).is_some(), "report lacks {key}");
    }
    assert_eq!(r["classes"], serde_json::json!(["malicious", "normal"]));
    assert_eq!(r["error_rate_by_k"].as_array().unwrap().len(), 15);
    // identifiers and timestamps are not features, the hex bit fields and rates are
    let names: Vec<&str> = r["features"]["names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for id in ["flowInd", "timeFirst", "timeLast", "srcIP", "dstIP", "srcPort", "dstPort"] {
        assert!(!names.iter().any(|n| n.starts_with(id)), "{id} used as a feature: {names:?}");
    }
    for f in ["flowStat", "tcpFlags", "pktps", "duration"] {
        assert!(names.contains(&f), "{f} missing from {names:?}");
    }
    assert!(r["train_data"]["missing_values_filled"].as_u64().unwrap() > 0, "the fixture has '-' cells");
    let (head, rows) = csv_rows(&pred);
    assert_eq!(head.last().map(String::as_str), Some("prediction"));
    assert_eq!(rows.len() as u64, r["n_test"].as_u64().unwrap());
    let lines: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "predictions not in input order");

    ok(&["predict", "--model", &model, &t2, "-o", &scored]);
    let (head, rows) = csv_rows(&scored);
    assert_eq!(head, vec!["line", "anomaly", "prediction"]);
    assert_eq!(rows.len(), 180);

    // a table without one of the model's features is refused, naming the column
    let cut = tmp.path("cut.csv");
    let drop_col =
        |l: &str| l.split('\t').enumerate().filter(|(i, _)| *i != 14).map(|(_, c)| c).collect::<Vec<_>>().join("\t");
    let kept: Vec<String> = std::fs::read_to_string(&t2).unwrap().lines().map(drop_col).collect();
    std::fs::write(&cut, kept.join("\n")).unwrap();
    let out = netanom(&["predict", "--model", &model, &cut]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("avgPktSize"), "{err}");
}

#[test]
fn train_and_test_files_and_distance_weights() {
    let tmp = Tmp::new("tt");
    let rep = tmp.path("r.json");
    let csv = fixture("knn_scaled.csv");
    ok(&[
        "knn",
        "--train",
        &csv,
        "--test",
        &csv,
        "--label",
        "label",
        "--k",
        "1",
        "--weights",
        "distance",
        "--report-json",
        &rep,
        "-q",
    ]);
    // every test row is its own nearest neighbour (distance 0): perfect accuracy
    assert_eq!(json(&rep)["accuracy"].as_f64(), Some(1.0));
}

#[test]
fn kmeans_names_clusters_and_writes_assignments() {
    let tmp = Tmp::new("km");
    let (rep, asg) = (tmp.path("km.json"), tmp.path("clusters.csv"));
    let t2 = fixture("t2_flows.txt");
    // direction and protocol would split the flows on their own; leave them out
    let common = ["kmeans", "--data", &t2, "--k", "2", "--exclude", "dir,hdrDesc,l4Proto"];
    ok(&[
        &common[..],
        &["--n-init", "10", "--seed", "0", "--label", "anomaly", "--assignments", &asg, "--report-json", &rep, "-q"],
    ]
    .concat());
    let r = json(&rep);
    for key in [
        "inertia",
        "n_iter",
        "cluster_sizes",
        "cluster_names",
        "clusters",
        "contingency",
        "purity",
        "adjusted_rand_index",
    ] {
        assert!(r.get(key).is_some(), "report lacks {key}");
    }
    assert!(r["purity"].as_f64().unwrap() > 0.9, "the fixture's two kinds of flows should separate: {}", r["purity"]);
    let mut names: Vec<&str> = r["cluster_names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, vec!["malicious", "normal"]);
    let (head, rows) = csv_rows(&asg);
    assert_eq!(head, vec!["line", "cluster", "cluster_name"]);
    assert_eq!(rows.len(), 180);
    // without a label the largest cluster is "normal"
    ok(&[&common[..], &["--report-json", &rep, "-q"]].concat());
    let r = json(&rep);
    let sizes: Vec<u64> = r["cluster_sizes"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let big = if sizes[0] >= sizes[1] { 0 } else { 1 };
    assert_eq!(r["cluster_names"][big], "normal");
}

#[test]
fn bad_cells_name_file_line_and_column_or_are_skipped_and_counted() {
    let tmp = Tmp::new("bad");
    let f = tmp.path("bad.csv");
    let mut s = String::from("a,b,label\n");
    for i in 0..200 {
        s += &format!("{i},{},{}\n", i % 7, if i % 3 == 0 { "x" } else { "y" });
    }
    s += "7,oops,x\n";
    std::fs::write(&f, s).unwrap();
    let out = netanom(&["kmeans", "--data", &f, "--k", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("bad.csv:202") && err.contains("column 2") && err.contains("oops"),
        "{err}"
    );
    let rep = tmp.path("r.json");
    ok(&["kmeans", "--data", &f, "--k", "2", "--skip-bad-rows", "--report-json", &rep, "-q"]);
    assert_eq!(json(&rep)["data"]["bad_rows_skipped"], 1);
    // a model file that is not one
    let out = netanom(&["predict", "--model", &f, &f]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not a netanom model"));
}

#[test]
fn tranalyzer_golden_tables_read_and_cluster() {
    let Some(sh) = shared() else { return };
    let dir = sh.join("golden/t2-0.9.3");
    let picks = [
        "pcapplusplus-examples/ExamplesTest/pcap_examples/tls2.pcap_flows.txt.gz",
        "ndpi-tests/gnutella.pcap_flows.txt.gz",
        "ndpi-tests/dtls2.pcap_flows.txt.gz",
    ];
    let tmp = Tmp::new("t2");
    let rep = tmp.path("r.json");
    for p in picks {
        let f = dir.join(p);
        if !f.exists() {
            eprintln!("skipped: {} is absent", f.display());
            continue;
        }
        let f = f.display().to_string();
        ok(&["kmeans", "--data", &f, "--k", "2", "--report-json", &rep, "-q"]);
        let r = json(&rep);
        assert!(r["data"]["rows_used"].as_u64().unwrap() > 0);
        let names = r["features"]["names"].to_string();
        assert!(
            names.contains("flowStat") && !names.contains("\"flowInd\"") && !names.contains("timeFirst"),
            "{names}"
        );
    }
}

/// The first `n` data lines of `src` (keeping a header line if `header`).
fn head_file(src: &Path, dst: &str, n: usize, header: bool) {
    let text = std::fs::read_to_string(src).unwrap();
    let keep: Vec<&str> = text.lines().take(n + header as usize).collect();
    std::fs::write(dst, keep.join("\n") + "\n").unwrap();
}

#[test]
fn nsl_kdd_sweep_model_and_kmeans() {
    let Some(sh) = shared() else { return };
    let nsl = sh.join("data/nsl-kdd");
    let tmp = Tmp::new("nsl");
    let data = if cfg!(debug_assertions) {
        let d = tmp.path("nsl.txt");
        head_file(&nsl.join("KDDTrain+_20Percent.txt"), &d, 2500, false);
        d
    } else {
        nsl.join("KDDTrain+_20Percent.txt").display().to_string()
    };
    let names = nsl.join("Field_Names.csv").display().to_string();
    let read = ["--no-header", "--names", &names, "--extra-names", "label,difficulty"];
    let (rep, model) = (tmp.path("knn.json"), tmp.path("knn.model"));
    let mut args = vec![
        "knn",
        "--data",
        &data,
        "--label",
        "label",
        "--test-size",
        "0.3",
        "--seed",
        "101",
        "--k-range",
        "1..59",
        "--report-json",
        &rep,
        "--save-model",
        &model,
        "-q",
    ];
    args.extend(read);
    ok(&args);
    let r = json(&rep);
    assert!(r["accuracy"].as_f64().unwrap() > 0.9, "accuracy {}", r["accuracy"]);
    let best = r["best_k"].as_u64().unwrap();
    assert!((1..=59).contains(&best));
    let test = nsl.join("KDDTest+.txt");
    let small = tmp.path("test.txt");
    head_file(&test, &small, 1000, false);
    let scored = tmp.path("scored.csv");
    let mut args = vec!["predict", "--model", &model, &small, "-o", &scored];
    args.extend(read);
    ok(&args);
    assert_eq!(csv_rows(&scored).1.len(), 1000);
    let rep = tmp.path("km.json");
    let mut args = vec!["kmeans", "--data", &data, "--label", "label", "--k", "2", "--report-json", &rep, "-q"];
    args.extend(read);
    ok(&args);
    assert!(json(&rep)["inertia"].as_f64().unwrap() > 0.0);
}

#[test]
fn unsw_nb15_with_bom_and_text_columns() {
    let Some(sh) = shared() else { return };
    let src = sh.join("data/unsw-nb15/UNSW_NB15_training-set.csv");
    let tmp = Tmp::new("unsw");
    let data = tmp.path("unsw.csv");
    // the file starts with a UTF-8 BOM; its first column must still be called `id`
    head_file(&src, &data, if cfg!(debug_assertions) { 3000 } else { 20000 }, true);
    let rep = tmp.path("r.json");
    ok(&[
        "knn",
        "--data",
        &data,
        "--label",
        "label",
        "--test-size",
        "0.3",
        "--seed",
        "101",
        "--k",
        "5",
        "--stratify",
        "--report-json",
        &rep,
        "-q",
    ]);
    let r = json(&rep);
    assert!(r["accuracy"].as_f64().unwrap() > 0.85, "accuracy {}", r["accuracy"]);
    let left_out = r["features"]["left_out"].to_string();
    assert!(left_out.contains("\"id\"") && left_out.contains("attack_cat"), "{left_out}");
    ok(&[
        "kmeans",
        "--data",
        &data,
        "--label",
        "attack_cat",
        "--k",
        "2",
        "--categorical",
        "drop",
        "--report-json",
        &rep,
        "-q",
    ]);
    assert!(json(&rep)["features"]["names"].to_string().contains("sbytes"));
}
