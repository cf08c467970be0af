//! `netanom analyze`: the whole pipeline into one folder (the work is `netanom_analyze::analyze`).

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use netanom_analyze::{analyze, baseline_config, AnalyzeJob, Event};
use netanom_engine::Input;
use netanom_flow::MeterConfig;
use netanom_report::Summary;

use crate::cmd_baseline::parse_duration;
use crate::cmd_flows::{exit_code, seconds};
use crate::progress::ProgressBar;
use crate::sample;

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Capture files or folders (read recursively), `-` for stdin. Without any: the bundled
    /// sample capture.
    pub inputs: Vec<PathBuf>,

    /// The output folder: flows.txt, flows.parquet, knn.json, kmeans.json, baseline.jsonl,
    /// summary.json, charts/ and report.html.
    #[arg(short, long, value_name = "DIR", default_value = "netanom-report")]
    pub out: PathBuf,

    /// Score the flows with this saved model (`netanom knn --save-model`) instead of training a
    /// KNN on the rule labels.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,

    /// Load anomaly rules from this TOML file, merged over the built-in set.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Most flow rows the models see: larger tables are sampled (seeded) down to it, since
    /// brute-force KNN costs train × test distances.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub max_model_rows: usize,

    /// Seed of the sample, the 70/30 split and KMeans (the seed's protocol uses 101).
    #[arg(long, default_value_t = 101)]
    pub seed: u32,

    /// Traffic-baseline interval.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub interval: u64,

    /// Baseline alert threshold: |observed − forecast| / forecast above it alerts.
    #[arg(long, value_name = "RATIO", default_value_t = 4.0)]
    pub threshold: f64,

    /// No traffic-baseline stage.
    #[arg(long)]
    pub no_baseline: bool,

    /// Idle timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 182.0)]
    pub idle_timeout: f64,

    /// Most flow directions held at once (see `netanom flows --max-flows`).
    #[arg(long, value_name = "N", default_value_t = MeterConfig::default().max_flows)]
    pub max_flows: usize,

    /// Flow-table threads (see `netanom flows --threads`).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,

    /// Read files through a buffer instead of memory-mapping them.
    #[arg(long)]
    pub no_mmap: bool,

    /// No progress, stage timings or end report on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: AnalyzeArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let inputs: Vec<Input> = if a.inputs.is_empty() {
        vec![sample::input()]
    } else {
        a.inputs.iter().map(|p| Input::Path(p.clone())).collect()
    };
    if !(a.threshold.is_finite() && a.threshold > 0.0) {
        return Err(format!("--threshold must be a positive number, not {}", a.threshold).into());
    }
    if a.max_model_rows < 2 {
        return Err("--max-model-rows must be at least 2".into());
    }
    let meter = MeterConfig {
        idle_timeout_ns: seconds("idle-timeout", a.idle_timeout)?,
        max_flows: a.max_flows,
        ..MeterConfig::default()
    };
    let mut job = AnalyzeJob::new(inputs, a.out.clone());
    job.baseline = (!a.no_baseline)
        .then(|| netanom_baseline::BaselineConfig { threshold: a.threshold, ..baseline_config(&meter, a.interval) });
    job.meter = meter;
    job.mmap = !a.no_mmap;
    job.threads = a.threads as usize;
    job.rules = a.rules.as_ref().map(netanom_rules::RuleSet::from_file).transpose()?;
    job.learn.max_rows = a.max_model_rows;
    job.learn.seed = a.seed;
    job.learn.model = a.model.clone();
    job.command_line = std::env::args().collect::<Vec<_>>().join(" ");

    let mut bar = ProgressBar::new(!a.quiet && io::stderr().is_terminal());
    let quiet = a.quiet;
    let done = analyze(&job, &mut |e| match e {
        Event::Packets(p) => bar.update(p),
        Event::Stage(_) => {}
        Event::Done(name, s) => {
            bar.finish();
            if !quiet {
                eprintln!("netanom: {name:<9} {s:>8.3} s");
            }
        }
    })?;
    for f in done.run.failed_files() {
        eprintln!("netanom: error: {}", f.error.as_deref().unwrap_or("unreadable"));
    }
    if !a.quiet {
        eprint!("{}", done.run.to_text());
        eprint!("{}", headline(&done.summary));
        eprintln!("  report            {}", a.out.join("report.html").display());
    }
    Ok(exit_code(&done.run))
}

/// The report's first lines, for the terminal.
fn headline(s: &Summary) -> String {
    let mut t = format!(
        "analysis: {} flow rows, {:.1}% normal, {:.1}% malicious ({} rows)\n",
        s.flows,
        100.0 * s.normal_share,
        100.0 * s.malicious_share,
        s.anomalous_flows
    );
    for h in s.top_offenders.iter().take(3) {
        let rules: Vec<&str> = h.rules.iter().take(4).map(|r| r.name.as_str()).collect();
        t += &format!("  offender          {} ({} anomalous rows: {})\n", h.host, h.anomalous_flows, rules.join(", "));
    }
    match &s.knn {
        netanom_report::Stage::Done(k) => {
            t += &format!("  knn               best k {}, test accuracy {:.4}\n", k.best_k, k.accuracy)
        }
        netanom_report::Stage::Skipped { reason } => t += &format!("  knn               skipped: {reason}\n"),
    }
    match &s.kmeans {
        netanom_report::Stage::Done(k) => {
            t += &format!("  kmeans            inertia {:.1}, clusters {}\n", k.inertia, k.names.join(", "))
        }
        netanom_report::Stage::Skipped { reason } => t += &format!("  kmeans            skipped: {reason}\n"),
    }
    if let netanom_report::Stage::Done(b) = &s.baseline {
        t += &format!("  baseline          {} alerts in {} series\n", b.alerts, b.series);
    }
    t
}
