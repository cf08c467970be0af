//! netanom-ml against scikit-learn's own outputs on small synthetic tables
//! (tests/fixtures/, made by scripts/sklearn/make_fixtures.py; no Python needed here).

use std::path::PathBuf;

use netanom_ml::features::InputKind;
use netanom_ml::metrics::{self, ClassificationReport};
use netanom_ml::pipeline::{self, Input, KnnJob};
use netanom_ml::{
    kmeans, split, FeatureOptions, KMeans, KMeansParams, KnnClassifier, KnnParams, LoadOptions, Matrix, Preprocessor,
    Scale, Table, Weights,
};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn expected(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

fn table(name: &str, label: &str) -> Table {
    let opts = LoadOptions { keep_text: vec![label.into()], ..Default::default() };
    netanom_ml::read_table(&fixture(name), &opts).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

/// Fit on the fixture's training rows; return the classifier, the test matrix and labels.
fn knn_setup(t: &Table, exp: &Value, scale: Scale, k: usize, weights: Weights) -> (KnnClassifier, Matrix, Vec<String>) {
    let fo = FeatureOptions { label: Some("label".into()), scale, ..Default::default() };
    let train = usizes(&exp["train"]);
    let test = usizes(&exp["test"]);
    let pre = Preprocessor::fit(t, &train, &fo).unwrap();
    let xtr = pre.transform(t, &train).unwrap().x;
    let xte = pre.transform(t, &test).unwrap().x;
    let labels = t.text_column(t.index_of("label").unwrap());
    let classes = metrics::sorted_classes(&labels);
    let y: Vec<u32> = train.iter().map(|&r| classes.iter().position(|c| *c == labels[r]).unwrap() as u32).collect();
    (KnnClassifier::fit(KnnParams { k, weights }, xtr, y, classes.len()).unwrap(), xte, classes)
}

#[test]
fn splits_pick_scikit_learns_rows() {
    let exp = expected("knn_ties.json");
    let s = split::train_test_split(300, 0.3, 101).unwrap();
    assert_eq!(s.train, usizes(&exp["train"]));
    assert_eq!(s.test, usizes(&exp["test"]));
    let t = table("knn_ties.csv", "label");
    let labels = t.text_column(t.index_of("label").unwrap());
    let classes = metrics::sorted_classes(&labels);
    let y: Vec<usize> = metrics::encode(&labels, &classes).into_iter().map(|c| c.unwrap()).collect();
    let s = split::stratified_split(&y, classes.len(), 0.25, 7).unwrap();
    assert_eq!(s.train, usizes(&exp["stratified"]["train"]));
    assert_eq!(s.test, usizes(&exp["stratified"]["test"]));
}

/// Exact ties everywhere: every k of a sweep, and a distance-weighted vote, must give
/// scikit-learn's predictions row for row.
#[test]
fn knn_with_ties_predicts_like_scikit_learn_for_every_k() {
    let exp = expected("knn_ties.json");
    let t = table("knn_ties.csv", "label");
    let (clf, xte, classes) = knn_setup(&t, &exp, Scale::None, 25, Weights::Uniform);
    let nb = clf.kneighbors_range(&xte, 1, 25).unwrap();
    for k in 1..=25 {
        let want = strings(&exp["predictions_uniform"][k.to_string()]);
        let got: Vec<String> = clf.predict_from(&nb, k).iter().map(|&c| classes[c].clone()).collect();
        assert_eq!(got, want, "k = {k}");
    }
    let (clf, xte, classes) = knn_setup(&t, &exp, Scale::None, 7, Weights::Distance);
    let got: Vec<String> = clf.predict(&xte).unwrap().iter().map(|&c| classes[c].clone()).collect();
    assert_eq!(got, strings(&exp["predictions_distance_k7"]));
}

/// The whole `knn --data --k-range` workflow: error rates, best k, report and its text.
#[test]
fn knn_sweep_report_matches_scikit_learn() {
    let exp = expected("knn_ties.json");
    let job = KnnJob {
        input: Input { data: Some(fixture("knn_ties.csv")), ..Default::default() },
        features: FeatureOptions { label: Some("label".into()), scale: Scale::None, ..Default::default() },
        test_size: 0.3,
        seed: 101,
        stratify: false,
        params: KnnParams::default(),
        k_range: Some((1, 25)),
        predictions: None,
        report_json: None,
        save_model: None,
    };
    let out = pipeline::run_knn(&job).unwrap();
    let rates: Vec<f64> =
        out.json["error_rate_by_k"].as_array().unwrap().iter().map(|e| e["error_rate"].as_f64().unwrap()).collect();
    let want = f64s(&exp["error_rate_by_k"]);
    assert!(rates.iter().zip(&want).all(|(a, b)| close(*a, *b)), "{rates:?}\n{want:?}");
    assert_eq!(out.json["best_k"], exp["best_k"]);
    let r = &exp["report_at_best_k"];
    assert_eq!(out.json["confusion_matrix"], r["confusion_matrix"]);
    assert!(close(out.json["accuracy"].as_f64().unwrap(), r["accuracy"].as_f64().unwrap()));
    for (i, c) in strings(&r["classes"]).iter().enumerate() {
        let pc = &out.json["per_class"][c];
        for (key, ours) in [("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")] {
            assert!(close(pc[ours].as_f64().unwrap(), r[key][i].as_f64().unwrap()), "{c} {key}");
        }
        assert_eq!(pc["support"], r["support"][i]);
    }
    assert!(out.text.contains(r["text"].as_str().unwrap()), "report text differs:\n{}", out.text);
}

/// Missing cells, ±inf and hex, then StandardScaler and MinMaxScaler: same fitted values and
/// the same predictions.
#[test]
fn cell_policy_and_scalers_match_scikit_learn() {
    let exp = expected("knn_scaled.json");
    let t = table("knn_scaled.csv", "label");
    let train = usizes(&exp["train"]);
    let fo = FeatureOptions { label: Some("label".into()), ..Default::default() };
    let pre = Preprocessor::fit(&t, &train, &fo).unwrap();
    assert_eq!(pre.feature_names, vec!["bytes", "duration", "rate", "tcpFlags"]);
    for inp in &pre.inputs {
        let f = &exp["fills"][&inp.name];
        match &inp.kind {
            InputKind::Num { fill, pos_inf, neg_inf } => {
                assert!(close(*fill, f["fill"].as_f64().unwrap()), "{}", inp.name);
                assert!(
                    close(*pos_inf, f["pos_inf"].as_f64().unwrap()) && close(*neg_inf, f["neg_inf"].as_f64().unwrap())
                );
            }
            InputKind::OneHot { .. } => panic!("{} should be numeric", inp.name),
        }
    }
    let prep = pre.transform(&t, &train).unwrap();
    assert_eq!(prep.stats.missing_filled, exp["missing_cells_in_train"].as_u64().unwrap() as usize);
    for (ours, want) in pre.scale_a.iter().zip(f64s(&exp["standard_mean"])) {
        assert!(close(*ours, want), "mean {ours} vs {want}");
    }
    for (ours, want) in pre.scale_b.iter().zip(f64s(&exp["standard_scale"])) {
        assert!(close(*ours, want), "scale {ours} vs {want}");
    }
    let mm = Preprocessor::fit(&t, &train, &FeatureOptions { scale: Scale::MinMax, ..fo.clone() }).unwrap();
    assert!(mm.scale_a.iter().zip(f64s(&exp["minmax_scale"])).all(|(a, b)| close(*a, b)));
    assert!(mm.scale_b.iter().zip(f64s(&exp["minmax_min"])).all(|(a, b)| close(*a, b)));
    for (scale, key) in [(Scale::Standard, "predictions_standard_k5"), (Scale::MinMax, "predictions_minmax_k5")] {
        let (clf, xte, classes) = knn_setup(&t, &exp, scale, 5, Weights::Uniform);
        let got: Vec<String> = clf.predict(&xte).unwrap().iter().map(|&c| classes[c].clone()).collect();
        assert_eq!(got, strings(&exp[key]), "{key}");
    }
}

fn blobs() -> (Matrix, Vec<String>) {
    let t = table("kmeans_blobs.csv", "cls");
    let rows: Vec<usize> = (0..t.n_rows()).collect();
    let fo = FeatureOptions { label: Some("cls".into()), ..Default::default() };
    let pre = Preprocessor::fit(&t, &rows, &fo).unwrap();
    (pre.transform(&t, &rows).unwrap().x, t.text_column(t.index_of("cls").unwrap()))
}

#[test]
fn kmeans_plusplus_draws_scikit_learns_seeds() {
    let exp = expected("kmeans_blobs.json");
    let (mut x, _) = blobs();
    // KMeans seeds on the centred data, like scikit-learn
    let n = x.rows as f64;
    let mean: Vec<f64> = (0..x.cols).map(|j| (0..x.rows).map(|r| x.row(r)[j]).sum::<f64>() / n).collect();
    for r in 0..x.rows {
        x.row_mut(r).iter_mut().zip(&mean).for_each(|(v, m)| *v -= m);
    }
    let sq: Vec<f64> = (0..x.rows).map(|r| x.row(r).iter().map(|v| v * v).sum()).collect();
    let mut rng = netanom_ml::rng::RandomState::new(0);
    for want in exp["kmeans_plusplus_seed0_k3"].as_array().unwrap() {
        assert_eq!(kmeans::kmeans_plusplus(&x, &sq, 3, &mut rng), usizes(want));
    }
}

#[test]
fn kmeans_inertia_and_clusters_match_scikit_learn() {
    let exp = expected("kmeans_blobs.json");
    let (x, cls) = blobs();
    for run in exp["runs"].as_array().unwrap() {
        let k = run["k"].as_u64().unwrap() as usize;
        let km = KMeans::fit(KMeansParams { n_clusters: k, n_init: 10, seed: 0, ..Default::default() }, &x).unwrap();
        let sk = run["inertia"].as_f64().unwrap();
        assert!(km.inertia <= sk * 1.001, "k = {k}: inertia {} vs scikit-learn {sk}", km.inertia);
        // the same partition, whatever the cluster numbers
        let theirs = usizes(&run["labels"]);
        let mut cont = vec![vec![0u64; k]; k];
        for (&a, &b) in km.labels.iter().zip(&theirs) {
            cont[a as usize][b] += 1;
        }
        assert!((metrics::adjusted_rand_index(&cont) - 1.0).abs() < 1e-12, "k = {k}: partitions differ");
    }
    // against the label: scikit-learn's adjusted_rand_score
    let km = KMeans::fit(KMeansParams { n_clusters: 3, ..Default::default() }, &x).unwrap();
    let classes = metrics::sorted_classes(&cls);
    let mut cont = vec![vec![0u64; classes.len()]; 3];
    for (&c, l) in km.labels.iter().zip(&cls) {
        cont[c as usize][classes.iter().position(|x| x == l).unwrap()] += 1;
    }
    assert!(close(metrics::adjusted_rand_index(&cont), exp["ari_k3_vs_cls"].as_f64().unwrap()));
}

#[test]
fn metrics_match_scikit_learn() {
    let exp = expected("metrics.json");
    for case in exp["ari"].as_array().unwrap() {
        let (a, b) = (usizes(&case["a"]), usizes(&case["b"]));
        let (ka, kb) = (a.iter().max().unwrap() + 1, b.iter().max().unwrap() + 1);
        let mut cont = vec![vec![0u64; kb]; ka];
        for (&x, &y) in a.iter().zip(&b) {
            cont[x][y] += 1;
        }
        assert!(close(metrics::adjusted_rand_index(&cont), case["value"].as_f64().unwrap()));
    }
    let r = &exp["report"];
    let classes = strings(&r["classes"]);
    let enc =
        |v: &Value| -> Vec<usize> { metrics::encode(&strings(v), &classes).into_iter().map(|c| c.unwrap()).collect() };
    let rep = ClassificationReport::new(&classes, &enc(&r["y_true"]), &enc(&r["y_pred"]));
    assert_eq!(rep.to_text(), r["text"].as_str().unwrap());
    assert_eq!(serde_json::to_value(&rep.confusion_matrix).unwrap(), r["confusion_matrix"]);
}

#[test]
fn parquet_reads_like_text() {
    let t = netanom_ml::read_table(&fixture("sample.parquet"), &LoadOptions::default()).unwrap();
    assert_eq!(t.names, vec!["flowInd", "duration", "proto", "label"]);
    assert_eq!(t.n_rows(), 4);
    match &t.columns[1] {
        netanom_ml::table::Column::Num(c) => {
            assert_eq!(c.missing, 1);
            assert_eq!(c.values[3], 1000.0);
        }
        _ => panic!("duration should be numeric"),
    }
    assert_eq!(t.text_column(2), vec!["tcp", "udp", "", "tcp"]);
}
