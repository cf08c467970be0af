//! `netanom analyze` as one library call: captures in, an output folder out — the labelled flow
//! table (Tranalyzer2 TSV and Parquet), the models (`knn.json`, `kmeans.json`), the traffic
//! baseline's alerts, `summary.json`, charts and `report.html`.
//!
//! ```no_run
//! use netanom_analyze::{analyze, AnalyzeJob};
//! use netanom_engine::Input;
//! let job = AnalyzeJob::new(vec![Input::Path("capture.pcap".into())], "report".into());
//! let done = analyze(&job, &mut |_| {}).unwrap();
//! println!("{:.1}% malicious", 100.0 * done.summary.malicious_share);
//! ```
//!
//! Stages, each a library call of its own crate: flows and rule labels (netanom-engine), traffic
//! baselines (netanom-baseline) fed as flows end, KNN and KMeans (netanom-ml) on the table just
//! written, then the report (netanom-report). A stage that cannot run (too few flows, one class)
//! says why in the summary; the others run.

mod baseline_stage;
mod collect;
mod hosts;
mod learn;
mod pca;

use std::path::{Path, PathBuf};
use std::time::Instant;

use netanom_baseline::{Alert, Baseline, BaselineConfig, BaselineSink};
use netanom_engine::labels::{Labeller, LABEL_COLUMNS};
use netanom_engine::observe::Observer;
use netanom_engine::{run_flows, EngineError, FlowJob, Input, Progress, RunReport};
use netanom_flow::features::{self, COLUMN_GROUPS};
use netanom_flow::MeterConfig;
use netanom_output::{Destination, Format, TableMeta};
use netanom_report::{Count, Reproduce, RuleCount, Stage, Summary, Timing};
use netanom_rules::RuleSet;

pub use learn::{LearnOptions, LABEL};

const NS: u64 = 1_000_000_000;

/// What to analyse and how. [`AnalyzeJob::new`] gives the documented defaults.
#[derive(Clone, Debug)]
pub struct AnalyzeJob {
    pub inputs: Vec<Input>,
    /// The output folder (created if missing; files in it are replaced).
    pub out_dir: PathBuf,
    pub meter: MeterConfig,
    pub mmap: bool,
    /// Flow-table threads (see `FlowJob::threads`).
    pub threads: usize,
    /// Rules merged over the default set (as `flows --rules`).
    pub rules: Option<RuleSet>,
    pub learn: LearnOptions,
    /// The traffic baseline (`None`: no baseline stage). Default: 60 s intervals, a one-day season,
    /// threshold 4 — `netanom baseline`'s defaults.
    pub baseline: Option<BaselineConfig>,
    /// Hosts in the top-talker and top-offender lists.
    pub top: usize,
    /// Shown in the report under "how to reproduce".
    pub command_line: String,
}

impl AnalyzeJob {
    pub fn new(inputs: Vec<Input>, out_dir: PathBuf) -> AnalyzeJob {
        let meter = MeterConfig::default();
        let baseline = Some(baseline_config(&meter, 60 * NS));
        AnalyzeJob {
            inputs,
            out_dir,
            meter,
            mmap: true,
            threads: 1,
            rules: None,
            learn: LearnOptions::default(),
            baseline,
            top: 10,
            command_line: String::new(),
        }
    }
}

/// The baseline's defaults for a flow table configured as `meter`: an interval closes once every
/// flow that could still end in it has (the longest timeout, plus slack for capture-order jitter).
pub fn baseline_config(meter: &MeterConfig, interval_ns: u64) -> BaselineConfig {
    let longest = meter.tcp_timeouts_ns.iter().fold(meter.idle_timeout_ns, |a, &t| a.max(t));
    BaselineConfig { interval_ns, hold_ns: longest + 8 * NS, ..BaselineConfig::default() }
}

/// What the caller is told as the run goes.
pub enum Event<'a> {
    /// A stage starts.
    Stage(&'static str),
    /// Reading progress of the flow stage.
    Packets(&'a Progress),
    /// A stage ended after this many seconds.
    Done(&'static str, f64),
}

/// A finished analysis.
pub struct Analysis {
    pub summary: Summary,
    /// The flow stage's end report (packets, skipped, damaged, evictions, labels).
    pub run: RunReport,
    /// Files written, in the order written.
    pub files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("rules: {0}")]
    Rules(#[from] netanom_rules::RuleError),
    #[error("report: {0}")]
    Report(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AnalyzeError + '_ {
    move |source| AnalyzeError::Io { path: path.to_path_buf(), source }
}

/// Runs every stage into `job.out_dir`.
pub fn analyze(job: &AnalyzeJob, on: &mut dyn FnMut(Event)) -> Result<Analysis, AnalyzeError> {
    let out = &job.out_dir;
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let mut timings: Vec<Timing> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let stage = |name: &'static str, on: &mut dyn FnMut(Event), t: Instant, timings: &mut Vec<Timing>| {
        let s = t.elapsed().as_secs_f64();
        on(Event::Done(name, s));
        timings.push(Timing { stage: name.into(), seconds: s });
    };

    // Flows, labels and the baseline in one pass over the packets.
    on(Event::Stage("flows"));
    let t = Instant::now();
    let mut columns: Vec<_> = features::columns().copied().collect();
    let observer = Observer::shared();
    let labeller = Labeller::defaults_with(job.rules.clone(), &columns)?.with_observer(observer.clone());
    let rule_names: Vec<String> = labeller.rules().iter().map(|r| r.name.clone()).collect();
    let rule_descriptions: Vec<String> =
        labeller.rules().iter().map(|r| r.description.clone().unwrap_or_default()).collect();
    columns.extend_from_slice(LABEL_COLUMNS);
    let mut groups: Vec<(&str, usize)> = COLUMN_GROUPS.iter().map(|(n, c)| (*n, c.len())).collect();
    groups.push(("anomalyLabels", LABEL_COLUMNS.len()));
    let meta = TableMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        t2_version: netanom_flow::T2_VERSION.to_string(),
        command_line: job.command_line.clone(),
    };
    let flows_txt = out.join("flows.txt");
    let flows_parquet = out.join("flows.parquet");
    let headers = out.join("flows_headers.txt");
    netanom_output::write_headers(&headers, &columns, &groups, &meta).map_err(io_err(&headers))?;
    let mut tables = Vec::new();
    for (path, format) in [(&flows_txt, Format::T2), (&flows_parquet, Format::Parquet)] {
        let dest = Destination::File(path.clone());
        let w = netanom_output::open(format, &dest, columns.clone(), &meta).map_err(io_err(path))?;
        tables.push((path.display().to_string(), w));
    }
    let mut baseline_alerts: Vec<Alert> = Vec::new();
    let (run, tally, feed, baseline_done) = {
        let on_alert = |a: &Alert| baseline_alerts.push(a.clone());
        let bsink = job.baseline.clone().map(|cfg| {
            // The collector labels; the baseline is given its verdicts, not asked.
            BaselineSink::new(Baseline::new(cfg), Box::new(|_: &_, _: Option<&_>| false), Box::new(on_alert))
        });
        let mut sink = collect::Collector::new(tables, labeller, bsink);
        sink.tally.set_rule_names(rule_names.clone());
        let fjob = FlowJob {
            inputs: job.inputs.clone(),
            meter: job.meter.clone(),
            mmap: job.mmap,
            threads: job.threads,
            observer: Some(observer),
        };
        let mut run = run_flows(&fjob, &mut sink, &mut |p: &Progress| on(Event::Packets(p)))?;
        run.labels = Some(sink.labeller.report());
        sink.finish().map_err(|(path, source)| AnalyzeError::Io { path: path.into(), source })?;
        let baseline_done = sink.baseline.take().map(|b| b.finish());
        (run, sink.tally, std::mem::take(&mut sink.baseline_feed), baseline_done)
    };
    files.extend([headers, flows_txt.clone(), flows_parquet]);
    stage("flows", on, t, &mut timings);

    let mut summary = Summary {
        inputs: job.inputs.iter().map(Input::name).collect(),
        reproduce: Reproduce {
            command_line: job.command_line.clone(),
            netanom_version: env!("CARGO_PKG_VERSION").into(),
            tranalyzer2_version: netanom_flow::T2_VERSION.into(),
            generated_at: netanom_report::charts::time::rfc3339(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()),
            ),
        },
        packets: run.packets,
        bytes: run.captured_bytes,
        skipped: run.skipped.iter().map(|(k, v)| Count { name: k.clone(), count: *v }).collect(),
        flows: tally.rows,
        anomalous_flows: tally.anomalous,
        normal_share: if tally.rows == 0 { 1.0 } else { (tally.rows - tally.anomalous) as f64 / tally.rows as f64 },
        malicious_share: if tally.rows == 0 { 0.0 } else { tally.anomalous as f64 / tally.rows as f64 },
        first_seen_s: if tally.rows == 0 { 0.0 } else { tally.first_ns as f64 / 1e9 },
        last_seen_s: tally.last_ns as f64 / 1e9,
        rules: rule_counts(&rule_names, &rule_descriptions, &tally.rule_rows, tally.rows),
        top_offenders: tally.top_offenders(job.top),
        top_talkers: tally.top_talkers(job.top),
        timeline: tally.timeline(),
        conversations: tally.conversations(),
        ..Summary::default()
    };

    on(Event::Stage("baseline"));
    let t = Instant::now();
    summary.baseline = match (&job.baseline, baseline_done) {
        (Some(cfg), Some(b)) => {
            let series = b.counters().series_created;
            let alerts_path = out.join("baseline.jsonl");
            let lines: String = baseline_alerts.iter().map(|a| a.to_json().to_string() + "\n").collect();
            std::fs::write(&alerts_path, lines).map_err(io_err(&alerts_path))?;
            files.push(alerts_path);
            Stage::Done(baseline_stage::summary(cfg, &baseline_alerts, series, &feed))
        }
        _ => Stage::Skipped { reason: "switched off (--no-baseline)".into() },
    };
    drop(feed);
    stage("baseline", on, t, &mut timings);

    on(Event::Stage("models"));
    let learnt = if tally.rows == 0 {
        learn::Learnt::skipped("no flows".to_string())
    } else {
        learn::learn(&flows_txt, tally.rows as usize, out, &job.learn)
    };
    for &(name, s) in &learnt.timings {
        on(Event::Done(name, s));
        timings.push(Timing { stage: name.into(), seconds: s });
    }
    summary.knn = learnt.knn;
    summary.kmeans = learnt.kmeans;
    summary.model = learnt.model;
    let ran = [
        ("knn.json", summary.knn.done().is_some() || summary.model.is_some()),
        ("kmeans.json", summary.kmeans.done().is_some()),
        ("predictions.csv", summary.model.as_ref().is_some_and(|m| m.error.is_none())),
    ];
    files.extend(ran.iter().filter(|(_, r)| *r).map(|(n, _)| out.join(n)));

    on(Event::Stage("report"));
    let t = Instant::now();
    summary.timings_s = timings.clone();
    let written = netanom_report::write_report(out, &summary).map_err(|e| AnalyzeError::Report(e.to_string()))?;
    files.extend(written.charts.iter().flat_map(|c| [c.svg.clone(), c.png.clone()]));
    files.push(written.html);
    stage("report", on, t, &mut timings);
    summary.timings_s = timings;
    let summary_path = out.join("summary.json");
    let text = serde_json::to_string_pretty(&summary).map_err(|e| AnalyzeError::Report(e.to_string()))?;
    std::fs::write(&summary_path, text + "\n").map_err(io_err(&summary_path))?;
    files.push(summary_path);
    Ok(Analysis { summary, run, files })
}

/// Every enabled rule with the rows it fired on, most first (ties in rule order).
fn rule_counts(names: &[String], descriptions: &[String], rows: &[u64], total: u64) -> Vec<RuleCount> {
    let mut v: Vec<RuleCount> = names
        .iter()
        .zip(descriptions)
        .zip(rows)
        .map(|((n, d), &r)| RuleCount {
            rule: n.clone(),
            description: d.clone(),
            flows: r,
            share: if total == 0 { 0.0 } else { r as f64 / total as f64 },
        })
        .collect();
    v.sort_by(|a, b| b.flows.cmp(&a.flows));
    v
}
