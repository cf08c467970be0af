//! `netanom knn`, `kmeans`, `predict` (owned by the ML work): flag parsing only; the work is
//! in `netanom_ml::pipeline`, the semantics are documented in docs/ml.md.

use std::path::PathBuf;
use std::process::ExitCode;

use netanom_ml::pipeline::{self, Input, KmeansJob, KnnJob, PredictJob};
use netanom_ml::{Categorical, FeatureOptions, KMeansParams, KnnParams, LoadOptions, Missing, Scale, Weights};

/// How the table is read.
#[derive(clap::Args, Clone)]
pub struct ReadArgs {
    /// The file has no header line; names come from --names (then col1, col2, …).
    #[arg(long)]
    pub no_header: bool,
    /// File of column names, one per line (`name,type` lines such as NSL-KDD's Field_Names.csv work).
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
    /// Extra names appended after those of --names (e.g. `label,difficulty` for NSL-KDD).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub extra_names: Vec<String>,
    /// Skip (and count) rows with a wrong field count or an unreadable number instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

impl ReadArgs {
    fn load_options(&self) -> Result<LoadOptions, Box<dyn std::error::Error>> {
        let mut names = match &self.names {
            Some(p) => Some(netanom_ml::table::read_names_file(p)?),
            None => None,
        };
        if !self.extra_names.is_empty() {
            names.get_or_insert_with(Vec::new).extend(self.extra_names.iter().cloned());
        }
        Ok(LoadOptions {
            no_header: self.no_header,
            names,
            skip_bad_rows: self.skip_bad_rows,
            ..LoadOptions::default()
        })
    }
}

/// Which columns become features, and how.
#[derive(clap::Args, Clone)]
pub struct FeatureArgs {
    /// Use exactly these columns (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Leave these columns out (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Keep identifier-like columns (flowInd, addresses, ports, timestamps) as features.
    #[arg(long)]
    pub keep_ids: bool,
    /// Text columns: one-hot encode or drop.
    #[arg(long, default_value = "onehot", value_name = "onehot|drop")]
    pub categorical: Categorical,
    /// Leave out text columns with more categories than this (in the training rows).
    #[arg(long, default_value_t = 64)]
    pub max_categories: usize,
    /// Missing numeric values: training mean, zero, or drop the row.
    #[arg(long, default_value = "mean", value_name = "mean|zero|drop")]
    pub missing: Missing,
    /// Feature scaling, fitted on the training rows.
    #[arg(long, default_value = "standard", value_name = "standard|minmax|none")]
    pub scale: Scale,
}

impl FeatureArgs {
    fn options(&self, label: Option<String>) -> FeatureOptions {
        FeatureOptions {
            label,
            features: self.features.clone(),
            exclude: self.exclude.clone(),
            keep_ids: self.keep_ids,
            categorical: self.categorical,
            max_categories: self.max_categories,
            missing: self.missing,
            scale: self.scale,
        }
    }
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s.split_once("..").ok_or_else(|| format!("expected A..B, got '{s}'"))?;
    let b = b.strip_prefix('=').unwrap_or(b);
    let a: usize = a.trim().parse().map_err(|_| format!("bad start in '{s}'"))?;
    let b: usize = b.trim().parse().map_err(|_| format!("bad end in '{s}'"))?;
    if a == 0 || a > b {
        return Err(format!("need 1 <= A <= B in '{s}'"));
    }
    Ok((a, b))
}

#[derive(clap::Args)]
pub struct KnnArgs {
    /// One table, split into train and test by --test-size and --seed.
    #[arg(long, conflicts_with_all = ["train", "test"])]
    pub data: Option<PathBuf>,
    /// Training table (with --test).
    #[arg(long, requires = "test")]
    pub train: Option<PathBuf>,
    /// Test table (with --train).
    #[arg(long, requires = "train")]
    pub test: Option<PathBuf>,
    /// The label column.
    #[arg(long)]
    pub label: String,
    /// Share of rows in the test set (scikit-learn's test_size).
    #[arg(long, default_value_t = 0.25)]
    pub test_size: f64,
    /// Split seed (scikit-learn's random_state: the same rows as train_test_split).
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// Keep class proportions in the split (train_test_split(stratify=y)).
    #[arg(long)]
    pub stratify: bool,
    /// Number of neighbours (scikit-learn's n_neighbors; --k-range replaces it).
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Sweep k over A..B (inclusive) from one neighbour search, pick the k with the lowest
    /// error rate (the smallest on ties), evaluate there.
    #[arg(long, value_parser = parse_range, value_name = "A..B")]
    pub k_range: Option<(usize, usize)>,
    /// Vote weighting.
    #[arg(long, default_value = "uniform", value_name = "uniform|distance")]
    pub weights: Weights,
    /// Write one row per test row (input order) with column `prediction`.
    #[arg(long, value_name = "FILE")]
    pub predictions: Option<PathBuf>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Save the model (scaler, features, training rows) for `netanom predict`.
    #[arg(long, value_name = "FILE")]
    pub save_model: Option<PathBuf>,
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub feat: FeatureArgs,
}

#[derive(clap::Args)]
pub struct KmeansArgs {
    /// The table to cluster.
    #[arg(long)]
    pub data: PathBuf,
    /// Number of clusters.
    #[arg(long, default_value_t = 2)]
    pub k: usize,
    /// Runs from different k-means++ seeds; the lowest inertia wins.
    #[arg(long, default_value_t = 10)]
    pub n_init: usize,
    /// Lloyd iterations per run at most.
    #[arg(long, default_value_t = 300)]
    pub max_iter: usize,
    /// Convergence tolerance, relative to the mean feature variance.
    #[arg(long, default_value_t = 1e-4)]
    pub tol: f64,
    /// Seed of the k-means++ draws (scikit-learn's random_state).
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// A label column: not a feature; clusters are compared with it and named after its majority.
    #[arg(long)]
    pub label: Option<String>,
    /// Write one row per input row with columns `cluster` and `cluster_name`.
    #[arg(long, value_name = "FILE")]
    pub assignments: Option<PathBuf>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Save the model (scaler, features, centres) for `netanom predict`.
    #[arg(long, value_name = "FILE")]
    pub save_model: Option<PathBuf>,
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub feat: FeatureArgs,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    /// A model saved by `knn --save-model` or `kmeans --save-model`.
    #[arg(long)]
    pub model: PathBuf,
    /// The table to score.
    pub input: PathBuf,
    /// Output CSV (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    #[command(flatten)]
    pub read: ReadArgs,
}

pub fn run_knn(a: KnnArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let job = KnnJob {
        input: Input {
            data: a.data.clone(),
            train: a.train.clone(),
            test: a.test.clone(),
            load: a.read.load_options()?,
            table: None,
        },
        features: a.feat.options(Some(a.label.clone())),
        test_size: a.test_size,
        seed: a.seed,
        stratify: a.stratify,
        params: KnnParams { k: a.k, weights: a.weights },
        k_range: a.k_range,
        predictions: a.predictions.clone(),
        report_json: a.report_json.clone(),
        save_model: a.save_model.clone(),
    };
    let out = netanom_ml::with_threads(a.threads, || pipeline::run_knn(&job))?;
    if !a.quiet {
        print!("{}", out.text);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_kmeans(a: KmeansArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let job = KmeansJob {
        input: Input { data: Some(a.data.clone()), load: a.read.load_options()?, ..Input::default() },
        features: a.feat.options(a.label.clone()),
        params: KMeansParams { n_clusters: a.k, n_init: a.n_init, max_iter: a.max_iter, tol: a.tol, seed: a.seed },
        assignments: a.assignments.clone(),
        report_json: a.report_json.clone(),
        save_model: a.save_model.clone(),
    };
    let out = netanom_ml::with_threads(a.threads, || pipeline::run_kmeans(&job))?;
    if !a.quiet {
        print!("{}", out.text);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_predict(a: PredictArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let job = PredictJob {
        model: a.model.clone(),
        input: a.input.clone(),
        load: a.read.load_options()?,
        output: a.output.clone(),
    };
    let out = netanom_ml::with_threads(a.threads, || pipeline::run_predict(&job))?;
    // the CSV may be on stdout: the summary goes to stderr
    eprint!("{}", out.text);
    Ok(ExitCode::SUCCESS)
}
