//! `netanom baseline`: captures in, flows built, per-host traffic baselines forecast, alerts out as
//! JSON lines when an interval strays from its forecast by more than the threshold.

use std::collections::HashMap;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use netanom_baseline::{Alert, Baseline, BaselineConfig, BaselineSink, Kind, SeriesKey};
use netanom_engine::labels::Labeller;
use netanom_engine::observe::Observer;
use netanom_engine::{run_flows, FlowJob, Input, Progress};
use netanom_flow::{features, FlowRecord, MeterConfig};

use crate::cmd_flows::exit_code;
use crate::progress::ProgressBar;
use crate::sample;

const NS: u64 = 1_000_000_000;

#[derive(clap::Args)]
pub struct BaselineArgs {
    /// Capture files or folders, `-` for stdin. Without any: the bundled sample capture.
    pub inputs: Vec<PathBuf>,

    /// Where to write the alerts, one JSON object a line; `-` for stdout.
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub alerts: String,

    /// Length of an interval: `10s`, `500ms`, `1m`, `1h` (a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub interval: u64,

    /// Length of a season, for Holt-Winters' seasonal term; `0` for none.
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = parse_duration_or_zero)]
    pub season: u64,

    /// Alert when |observed − forecast| / forecast exceeds this.
    #[arg(long, value_name = "RATIO", default_value_t = BaselineConfig::default().threshold)]
    pub threshold: f64,

    /// Floor of the forecast in flows (peers, ports, anomalous flows; ×10 for packets, ×10,000 for
    /// bytes): a quiet series needs more than (1 + threshold) × this to alert.
    #[arg(long, value_name = "N", default_value_t = BaselineConfig::default().min_forecast)]
    pub min_forecast: f64,

    /// Drop series without flows for this long.
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = parse_duration)]
    pub idle: u64,

    /// Most series held at once.
    #[arg(long, value_name = "N", default_value_t = BaselineConfig::default().max_series)]
    pub max_series: usize,

    /// Flow idle timeout in seconds (as for `flows`). Intervals are held open for the flow table's
    /// longest timeout (this or established TCP's 610 s) + 8 s, for flows still in the table.
    #[arg(long, value_name = "SECS", default_value_t = 182.0)]
    pub idle_timeout: f64,

    /// Also write the end report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,

    /// Alerting series listed in the end report.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Rules that decide which flows count as anomalous (the `anomalous flows` measure): a TOML
    /// file merged over the default rule set, as for `flows --rules`.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Read files through a buffer instead of memory-mapping them.
    #[arg(long)]
    pub no_mmap: bool,

    /// No end report and no progress bar on stderr.
    #[arg(short, long)]
    pub quiet: bool,

    /// Build the flows but hand them to a sink that only counts them: the reference run for
    /// measuring what the baseline stage costs.
    #[arg(long, hide = true)]
    pub flows_only: bool,
}

pub(crate) fn parse_duration_or_zero(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let mult = match unit {
        "" | "s" => 1e9,
        "ms" => 1e6,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        "d" => 86400e9,
        _ => return Err(format!("unknown unit in `{s}` (use ms, s, m, h or d)")),
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("`{s}` is not a duration"))?;
    if !(v.is_finite() && v >= 0.0 && v * mult < 1e18) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok((v * mult).round() as u64)
}

pub(crate) fn parse_duration(s: &str) -> Result<u64, String> {
    match parse_duration_or_zero(s)? {
        0 => Err(format!("`{s}` must be longer than zero")),
        v => Ok(v),
    }
}

/// A conversation counts as anomalous when a rule fires on either of its rows, as in the
/// `anomaly` column of `netanom flows`. The baseline sees a conversation when it ends, without its
/// due time, so the observer's look-ahead is bounded by its last packet plus the margin only.
fn rule_labels(mut labeller: Labeller) -> impl FnMut(&FlowRecord, Option<&FlowRecord>) -> bool + Send {
    move |a: &FlowRecord, b: Option<&FlowRecord>| {
        labeller.label(a, b, u64::MAX);
        let mut anomalous = labeller.is_anomalous();
        if let Some(b) = b {
            labeller.label(b, Some(a), u64::MAX);
            anomalous |= labeller.is_anomalous();
        }
        anomalous
    }
}

#[derive(Default)]
struct SeriesAlerts {
    alerts: u64,
    max_ratio: f64,
    first_interval: u64,
    measures: Vec<&'static str>,
}

pub fn run(a: BaselineArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let inputs: Vec<Input> = if a.inputs.is_empty() {
        vec![sample::input()]
    } else {
        a.inputs.iter().map(|p| Input::Path(p.clone())).collect()
    };
    if !(a.threshold.is_finite() && a.threshold > 0.0) {
        return Err(format!("--threshold must be a positive number, not {}", a.threshold).into());
    }
    if !(a.min_forecast.is_finite() && a.min_forecast > 0.0) {
        return Err(format!("--min-forecast must be a positive number, not {}", a.min_forecast).into());
    }
    let idle_timeout_ns = parse_duration(&a.idle_timeout.to_string())?;
    let meter = MeterConfig { idle_timeout_ns, ..MeterConfig::default() };
    let cfg = BaselineConfig {
        interval_ns: a.interval,
        season_ns: a.season,
        threshold: a.threshold,
        min_forecast: a.min_forecast,
        idle_ns: a.idle,
        max_series: a.max_series,
        ..netanom_analyze::baseline_config(&meter, a.interval)
    };

    let columns: Vec<_> = features::columns().copied().collect();
    let user = a.rules.as_ref().map(netanom_rules::RuleSet::from_file).transpose()?;
    let observer = Observer::shared();
    let labeller = Labeller::defaults_with(user, &columns)?.with_observer(observer.clone());

    let mut out: Box<dyn Write + Send> = if a.alerts == "-" {
        Box::new(BufWriter::new(io::stdout()))
    } else {
        let f = std::fs::File::create(&a.alerts).map_err(|e| format!("{}: cannot create: {e}", a.alerts))?;
        Box::new(BufWriter::new(f))
    };
    let mut write_error: Option<io::Error> = None;
    let mut by_series: HashMap<SeriesKey, SeriesAlerts> = HashMap::new();
    let started = Instant::now();
    let (report, baseline, spent) = {
        let on_alert = |al: &Alert| {
            let e = by_series
                .entry(al.key)
                .or_insert_with(|| SeriesAlerts { first_interval: al.interval, ..Default::default() });
            e.alerts += 1;
            e.max_ratio = e.max_ratio.max(al.ratio);
            if !e.measures.contains(&al.measure.name()) {
                e.measures.push(al.measure.name());
            }
            if write_error.is_none() {
                if let Err(err) = writeln!(out, "{}", al.to_json()) {
                    write_error = Some(err);
                }
            }
        };
        let sink = BaselineSink::new(Baseline::new(cfg), Box::new(rule_labels(labeller)), Box::new(on_alert));
        let mut sink = sink;

        let show_progress = !a.quiet && io::stderr().is_terminal();
        let mut bar = ProgressBar::new(show_progress);
        let job = FlowJob { inputs, meter, mmap: !a.no_mmap, threads: 1, observer: Some(observer) };
        let report = if a.flows_only {
            let mut n = 0u64;
            let r = run_flows(&job, &mut |_: &FlowRecord, _: Option<&FlowRecord>| n += 1, &mut |p: &Progress| {
                bar.update(p)
            })?;
            eprintln!("flows only: {n} conversations");
            r
        } else {
            run_flows(&job, &mut sink, &mut |p: &Progress| bar.update(p))?
        };
        bar.finish();
        let baseline = sink.finish();
        (report, baseline, started.elapsed())
    };
    if let Some(e) = write_error.take() {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(format!("{}: cannot write the alerts: {e}", a.alerts).into());
        }
    }
    out.flush().or_else(|e| if e.kind() == io::ErrorKind::BrokenPipe { Ok(()) } else { Err(e) })?;
    drop(out);

    for f in report.failed_files() {
        eprintln!("netanom: error: {}", f.error.as_deref().unwrap_or("unreadable"));
    }
    let text = end_report(&baseline, &by_series, spent, a.top);
    if !a.quiet {
        eprint!("{}", report.to_text());
        eprint!("{text}");
        if a.alerts != "-" {
            eprintln!("  alerts            {}", a.alerts);
        }
    }
    if let Some(p) = &a.report_json {
        let json = report_json(&baseline, &by_series, spent);
        std::fs::write(p, json.to_string()).map_err(|e| format!("{}: cannot write the report: {e}", p.display()))?;
    }
    Ok(exit_code(&report))
}

fn top_series(by_series: &HashMap<SeriesKey, SeriesAlerts>, n: usize) -> Vec<(&SeriesKey, &SeriesAlerts)> {
    let mut v: Vec<_> = by_series.iter().collect();
    v.sort_by(|x, y| y.1.alerts.cmp(&x.1.alerts).then(y.1.max_ratio.total_cmp(&x.1.max_ratio)).then(x.0.cmp(y.0)));
    v.truncate(n);
    v
}

fn end_report(b: &Baseline, by_series: &HashMap<SeriesKey, SeriesAlerts>, spent: Duration, top: usize) -> String {
    let c = b.counters();
    let cfg = b.config();
    let mut s = String::new();
    let secs = |ns: u64| ns as f64 / 1e9;
    s += &format!(
        "baseline: interval {} s, season {} s, threshold {}, forecast floor {}\n",
        secs(cfg.interval_ns),
        secs(cfg.season_ns),
        cfg.threshold,
        cfg.min_forecast
    );
    s += &format!("  flows counted     {} ({} late, not counted)\n", c.flows - c.late_flows, c.late_flows);
    s += &format!("  intervals         {}\n", c.intervals);
    s += &format!(
        "  series            {} created, {} dropped idle, {} refused (cap), {} at most at once, {} live at the end\n",
        c.series_created,
        c.series_dropped_idle,
        c.series_refused,
        c.max_live_series,
        b.live_series()
    );
    if c.distinct_saturated > 0 {
        s += &format!("  distinct counts   {} saturated (reported at the sketch's ceiling)\n", c.distinct_saturated);
    }
    let by_kind: Vec<String> =
        Kind::ALL.iter().map(|k| format!("{} {}", c.alerts_by_kind[*k as usize], k.name())).collect();
    s += &format!("  alerts            {} ({}) in {} series\n", c.alerts, by_kind.join(", "), by_series.len());
    for (k, v) in top_series(by_series, top) {
        s += &format!(
            "    {:<40} {:>4} alerts, max ratio {:>8.1}, from {}  [{}]\n",
            k.to_string(),
            v.alerts,
            v.max_ratio,
            v.first_interval * cfg.interval_ns / NS,
            v.measures.join(",")
        );
    }
    s += &format!("  elapsed           {:.3} s (flows and baselines)\n", spent.as_secs_f64());
    s
}

fn report_json(b: &Baseline, by_series: &HashMap<SeriesKey, SeriesAlerts>, spent: Duration) -> serde_json::Value {
    let c = b.counters();
    let top: Vec<_> = top_series(by_series, 50)
        .into_iter()
        .map(|(k, v)| {
            serde_json::json!({"key": k.to_string(), "alerts": v.alerts, "max_ratio": v.max_ratio,
            "first_interval": v.first_interval as f64 * b.config().interval_ns as f64 / 1e9, "measures": v.measures})
        })
        .collect();
    serde_json::json!({
        "flows": c.flows, "late_flows": c.late_flows, "intervals": c.intervals,
        "series_created": c.series_created, "series_dropped_idle": c.series_dropped_idle,
        "series_refused": c.series_refused, "max_live_series": c.max_live_series, "live_series": b.live_series(),
        "distinct_saturated": c.distinct_saturated, "alerts": c.alerts,
        "alerts_by_kind": Kind::ALL.iter().map(|k| (k.name().to_string(), c.alerts_by_kind[*k as usize])).collect::<HashMap<_, _>>(),
        "top_series": top, "elapsed_s": spent.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(10 * NS));
        assert_eq!(parse_duration("60"), Ok(60 * NS));
        assert_eq!(parse_duration("500ms"), Ok(NS / 2));
        assert_eq!(parse_duration("1d"), Ok(86_400 * NS));
        assert_eq!(parse_duration_or_zero("0"), Ok(0));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("-3s").is_err());
    }
}
