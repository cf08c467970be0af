//! What the report shows, as plain data: `netanom analyze` fills it (and writes it as
//! `summary.json`); this crate draws it. Nothing here knows about packets or models, so the
//! report can be rebuilt from a `summary.json` alone.

use serde::{Deserialize, Serialize};

/// Everything one report shows.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    /// What was analysed: the inputs as given (files, folders, `-`, or the bundled sample).
    pub inputs: Vec<String>,
    /// How to reproduce it.
    pub reproduce: Reproduce,
    /// Packets read (all inputs).
    pub packets: u64,
    /// Bytes read (captured lengths).
    pub bytes: u64,
    /// Packets that could not be turned into flows, by reason (`"truncated": 3`, …).
    pub skipped: Vec<Count>,
    /// Flow rows (one per direction, Tranalyzer2's A and B rows).
    pub flows: u64,
    /// Flow rows with `anomaly` = 1.
    pub anomalous_flows: u64,
    /// `(flows − anomalous_flows) / flows` (1.0 when there are no flows).
    pub normal_share: f64,
    /// `anomalous_flows / flows` (0.0 when there are no flows).
    pub malicious_share: f64,
    /// Capture time of the first and last packet (Unix seconds).
    pub first_seen_s: f64,
    pub last_seen_s: f64,
    /// Flow rows each rule fired on, every enabled rule listed, most frequent first.
    pub rules: Vec<RuleCount>,
    /// Source hosts with the most anomalous flow rows, with the rules that fired on them.
    pub top_offenders: Vec<HostSummary>,
    /// Hosts that sent the most bytes (as source of a flow row).
    pub top_talkers: Vec<HostSummary>,
    /// Flow rows per time bucket, split normal/anomalous (by the flow's first packet).
    pub timeline: Timeline,
    /// The most anomalous conversations (most rules fired first, then most packets).
    pub conversations: Vec<Conversation>,
    /// The KNN stage: trained on the rule labels, or why it did not run.
    pub knn: Stage<KnnSummary>,
    /// The KMeans stage.
    pub kmeans: Stage<KmeansSummary>,
    /// `--model`: the flow rows scored with a saved model instead of training the KNN.
    #[serde(default)]
    pub model: Option<ModelScore>,
    /// The traffic-baseline stage.
    pub baseline: Stage<BaselineSummary>,
    /// Wall-clock seconds per stage, in pipeline order (for the reader, never for tests).
    pub timings_s: Vec<Timing>,
}

/// The command line and versions that produced a report.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Reproduce {
    pub command_line: String,
    pub netanom_version: String,
    /// The Tranalyzer2 version whose columns are imitated.
    pub tranalyzer2_version: String,
    /// UTC time the report was made, RFC 3339.
    pub generated_at: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule: String,
    /// The rule's one-line description from the rule file.
    pub description: String,
    /// Flow rows it fired on.
    pub flows: u64,
    /// `flows / all flow rows`.
    pub share: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HostSummary {
    /// Address as text (IPv4 dotted, IPv6 compressed, or a MAC for layer-2 flows).
    pub host: String,
    /// Flow rows with this host as source.
    pub flows: u64,
    pub anomalous_flows: u64,
    pub packets: u64,
    pub bytes: u64,
    /// Distinct peers (destinations) it talked to.
    pub peers: u64,
    /// Rules that fired on its flow rows, with counts, most frequent first.
    pub rules: Vec<Count>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timeline {
    /// Unix seconds of the first bucket's start.
    pub start_s: f64,
    /// Bucket width in seconds (chosen so a capture gets 20–120 buckets).
    pub bucket_s: f64,
    pub normal: Vec<u64>,
    pub anomalous: Vec<u64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Conversation {
    pub flow_ind: u64,
    /// `A` or `B` (Tranalyzer2's flowStat direction bit).
    pub direction: String,
    pub src: String,
    pub src_port: u16,
    pub dst: String,
    pub dst_port: u16,
    /// Protocol name (`tcp`, `udp`, `icmp`, `arp`, …) or number.
    pub proto: String,
    pub first_s: f64,
    pub duration_s: f64,
    pub packets: u64,
    pub bytes: u64,
    pub rules: Vec<String>,
}

/// A pipeline stage's result, or the reason it has none (too few flows, one class only, …);
/// the other stages run either way.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Stage<T> {
    Done(T),
    Skipped { reason: String },
}

impl<T> Default for Stage<T> {
    fn default() -> Self {
        Stage::Skipped { reason: "not run".into() }
    }
}

impl<T> Stage<T> {
    pub fn done(&self) -> Option<&T> {
        match self {
            Stage::Done(t) => Some(t),
            Stage::Skipped { .. } => None,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KnnSummary {
    /// Rows the model saw: `sampled` of `available` flow rows (a seeded sample when the table is
    /// larger than the cap), split into `train_rows` and `test_rows`.
    pub available: u64,
    pub sampled: u64,
    pub train_rows: u64,
    pub test_rows: u64,
    pub test_size: f64,
    pub seed: u32,
    pub features: u64,
    /// The sweep: `k[i]` and the test error rate there (the seed's figure).
    pub k: Vec<u32>,
    pub error_rate: Vec<f64>,
    pub best_k: u32,
    pub accuracy: f64,
    /// Class names in the confusion matrix's order (`"0"` normal, `"1"` anomalous).
    pub classes: Vec<String>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<u64>>,
    pub per_class: Vec<ClassMetrics>,
    /// scikit-learn's `classification_report` text.
    pub report_text: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModelScore {
    /// The model file.
    pub model: String,
    /// Rows scored (predictions in `predictions.csv`).
    pub rows: u64,
    /// Share of rows where the model agrees with the rule labels, when the model was trained on them.
    pub accuracy_against_rules: Option<f64>,
    /// Why scoring failed, if it did.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KmeansSummary {
    pub k: u32,
    pub n_init: u32,
    pub inertia: f64,
    pub names: Vec<String>,
    pub sizes: Vec<u64>,
    /// Purity and adjusted Rand index against the rule labels.
    pub purity: f64,
    pub adjusted_rand_index: f64,
    /// Share of the variance the two PCA axes explain.
    pub explained_variance: [f64; 2],
    /// Points to draw (a seeded sample of at most a few thousand rows): PCA coordinates,
    /// cluster index, rule label (0/1).
    pub points: Vec<Point>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
    pub cluster: u32,
    pub label: u8,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BaselineSummary {
    pub interval_s: f64,
    pub threshold: f64,
    pub min_forecast: f64,
    pub alerts: u64,
    pub series: u64,
    /// The series with the most alerts, each with its whole history for the chart.
    pub top_series: Vec<SeriesHistory>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SeriesHistory {
    /// e.g. `10.77.0.66 as source`, `network`, `10.77.0.10 tcp/80`.
    pub key: String,
    /// `flows`, `packets`, `bytes`, `peers`, `ports`, `anomalous`.
    pub measure: String,
    pub start_s: f64,
    /// One value per interval from `start_s`; `forecast` is `None` before the model has one.
    pub observed: Vec<f64>,
    pub forecast: Vec<Option<f64>>,
    /// The least forecast the alert ratio divides by for this measure (`min_forecast` times the
    /// measure's unit: flows, packets or bytes per flow); the chart's alert band starts from
    /// `max(forecast, forecast_floor)`. 0 when unknown.
    #[serde(default)]
    pub forecast_floor: f64,
    /// Intervals (indices) that alerted.
    pub alerts: Vec<u32>,
    pub max_ratio: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timing {
    pub stage: String,
    pub seconds: f64,
}
