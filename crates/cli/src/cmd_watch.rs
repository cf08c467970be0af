//! `netanom watch`: live capture (or a replay in real time) with alerts as flows end. The
//! pipeline is in `netanom_watch`; this parses flags, opens the outputs and handles signals.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use netanom_baseline::{Baseline, BaselineConfig};
use netanom_engine::labels::{Labeller, LABEL_COLUMNS};
use netanom_engine::observe::Observer;
use netanom_flow::{features, MeterConfig};
use netanom_output::{Format, TableMeta};
use netanom_watch::rotate::RotatingTable;
use netanom_watch::score::Scorer;
use netanom_watch::{watch, Detector, PacketSource, ReplaySource, StopReason};

use crate::cmd_baseline::{parse_duration, parse_duration_or_zero};
use crate::cmd_flows::{parse_format, seconds};

const NS: u64 = 1_000_000_000;

#[derive(clap::Args)]
pub struct WatchArgs {
    /// Capture live from this interface (needs a build with `--features live`, and root or
    /// CAP_NET_RAW).
    #[arg(short, long, value_name = "IFACE", required_unless_present = "replay", conflicts_with = "replay")]
    pub interface: Option<String>,

    /// Replay this capture file in real time instead (works in every build).
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,

    /// Replay speed: 10 plays ten times faster than captured; 0 as fast as it reads.
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "replay")]
    pub speed: f64,

    /// BPF capture filter, tcpdump's syntax (live only), e.g. 'not port 22'.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,

    /// Bytes captured per packet (live only).
    #[arg(long, value_name = "BYTES", default_value_t = 65535)]
    pub snaplen: i32,

    /// Do not put the interface in promiscuous mode (live only).
    #[arg(long)]
    pub no_promisc: bool,

    /// Kernel capture buffer in MiB (live only). libpcap's default of 2 MiB drops packets from
    /// about 5,000 packets/s on a 2-core machine (docs/watch.md); 32 holds to ~40,000.
    #[arg(long, value_name = "MIB", default_value_t = 32)]
    pub buffer_mib: u32,

    /// Where the alerts go, one JSON object a line; `-` for stdout.
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub alerts: String,

    /// Score each flow row with a model saved by `knn --save-model` or `kmeans --save-model`; a
    /// prediction that is not a normal class raises an alert.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,

    /// Classes (or cluster names) of --model that are normal [default: 0, normal, benign, -, none,
    /// false, no, empty].
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub normal_class: Vec<String>,

    /// Anomaly rules (TOML) merged over the built-in set, as for `flows --rules`.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Write every flow row (with labels) into this folder, a new file every --rotate.
    #[arg(long, value_name = "DIR")]
    pub flows_out: Option<PathBuf>,

    /// Format of the flow files: t2, csv, jsonl or parquet.
    #[arg(short, long, default_value = "t2", value_parser = parse_format)]
    pub format: Format,

    /// Start a new flow file every this long (aligned on the clock: `1h` starts on the hour);
    /// `0` for one file.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration_or_zero)]
    pub rotate: u64,

    /// Idle timeout in seconds: a direction ends this long after its last packet.
    #[arg(long, value_name = "SECS", default_value_t = 182.0)]
    pub idle_timeout: f64,

    /// End conversations this long after their first packet even if still active, so that long
    /// flows are reported while they last.
    #[arg(long, value_name = "SECS", default_value_t = 1800.0)]
    pub active_timeout: f64,

    /// Most flow directions held at once.
    #[arg(long, value_name = "N", default_value_t = MeterConfig::default().max_flows)]
    pub max_flows: usize,

    /// Do not run the traffic baselines (on by default; see `netanom baseline`).
    #[arg(long)]
    pub no_baseline: bool,

    /// Baseline interval.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub baseline_interval: u64,

    /// Baseline season (`0` for none).
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = parse_duration_or_zero)]
    pub baseline_season: u64,

    /// Baseline alert threshold on |observed − forecast| / forecast.
    #[arg(long, value_name = "RATIO", default_value_t = BaselineConfig::default().threshold)]
    pub baseline_threshold: f64,

    /// Seconds between status lines on stderr (0: none).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub status: f64,

    /// Also write the end report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,

    /// No status lines and no end report on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

fn open_source(a: &WatchArgs) -> Result<Box<dyn PacketSource>, Box<dyn std::error::Error>> {
    if let Some(f) = &a.replay {
        if a.filter.is_some() {
            return Err("--filter applies to live capture only (filter the file first, e.g. with tcpdump -r)".into());
        }
        return Ok(Box::new(ReplaySource::open(f, a.speed)?));
    }
    let iface = a.interface.clone().unwrap_or_default();
    open_live(a, iface)
}

#[cfg(feature = "live")]
fn open_live(a: &WatchArgs, interface: String) -> Result<Box<dyn PacketSource>, Box<dyn std::error::Error>> {
    let o = netanom_watch::live::LiveOptions {
        interface,
        filter: a.filter.clone(),
        snaplen: a.snaplen,
        promisc: !a.no_promisc,
        buffer_bytes: Some((a.buffer_mib.clamp(1, 2047) as i32) << 20),
    };
    Ok(Box::new(netanom_watch::live::LiveSource::open(&o)?))
}

#[cfg(not(feature = "live"))]
fn open_live(_: &WatchArgs, interface: String) -> Result<Box<dyn PacketSource>, Box<dyn std::error::Error>> {
    Err(format!(
        "cannot capture on '{interface}': this netanom was built without live capture; rebuild with \
         `cargo build --release --features live` (needs libpcap-dev), or use --replay FILE"
    )
    .into())
}

pub fn run(a: WatchArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let idle_timeout_ns = seconds("idle-timeout", a.idle_timeout)?;
    let meter = MeterConfig {
        idle_timeout_ns,
        active_timeout_ns: Some(seconds("active-timeout", a.active_timeout)?),
        max_flows: a.max_flows,
        ..MeterConfig::default()
    };
    if !(a.status.is_finite() && a.status >= 0.0) {
        return Err(format!("--status must be 0 or a positive number of seconds, not {}", a.status).into());
    }
    let mut columns: Vec<_> = features::columns().copied().collect();
    let observer = Observer::shared();
    let user = a.rules.as_ref().map(netanom_rules::RuleSet::from_file).transpose()?;
    let labeller = Labeller::defaults_with(user, &columns)?.with_observer(observer.clone());
    columns.extend_from_slice(LABEL_COLUMNS);
    let scorer = a.model.as_ref().map(|m| Scorer::load(m, &columns, &a.normal_class)).transpose()?;
    let baseline = (!a.no_baseline).then(|| {
        Baseline::new(BaselineConfig {
            interval_ns: a.baseline_interval,
            season_ns: a.baseline_season,
            threshold: a.baseline_threshold,
            hold_ns: meter.tcp_timeouts_ns.iter().fold(idle_timeout_ns, |a, &t| a.max(t)) + 8 * NS,
            ..BaselineConfig::default()
        })
    });
    let meta = TableMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        t2_version: netanom_flow::T2_VERSION.to_string(),
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let flows =
        a.flows_out.as_ref().map(|d| RotatingTable::new(d, a.format, columns.clone(), meta, a.rotate)).transpose()?;
    let alerts: Box<dyn Write + Send> = if a.alerts == "-" {
        Box::new(BufWriter::new(io::stdout()))
    } else {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&a.alerts)
            .map_err(|e| format!("{}: cannot open for the alerts: {e}", a.alerts))?;
        Box::new(BufWriter::new(f))
    };

    // The source last: a live capture starts buffering packets as soon as it is open.
    let mut source = open_source(&a)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let mut det = Detector::new(labeller, scorer, baseline, alerts, flows, &columns);
    let every = if a.quiet { Duration::ZERO } else { Duration::from_secs_f64(a.status) };
    if !a.quiet {
        eprintln!("netanom watch: reading {} (stop with Ctrl-C: live flows are flushed)", source.name());
    }
    let report =
        watch(source.as_mut(), meter, Some(observer), &mut det, &stop, every, &mut |s| eprintln!("{}", s.to_line()));

    if !a.quiet {
        eprint!("{}", report.run.to_text());
        let c = &report.counts;
        eprintln!("  alerts            {} flow, {} baseline", c.flow_alerts, c.baseline_alerts);
        if let Some(e) = &c.model_error {
            eprintln!(
                "  model             {} rows flagged, {} rows not scored: {e}",
                c.model_anomalous, c.model_errors
            );
        } else if a.model.is_some() {
            eprintln!("  model             {} rows flagged", c.model_anomalous);
        }
        if let (Some(k), Some(i)) = (report.source.kernel_dropped, report.source.if_dropped) {
            eprintln!("  dropped           {k} by the kernel (capture buffer full), {i} by the interface");
        }
        if let Some(f) = &det.flows {
            for (p, rows) in &f.done {
                eprintln!("  flow file         {} ({rows} rows)", p.display());
            }
        }
        eprintln!("  stopped           {}", stop_text(report.stop));
    }
    if let Some(p) = &a.report_json {
        let json = serde_json::json!({
            "run": serde_json::from_str::<serde_json::Value>(&report.run.to_json()).unwrap_or_default(),
            "flow_alerts": report.counts.flow_alerts, "baseline_alerts": report.counts.baseline_alerts,
            "model_anomalous": report.counts.model_anomalous, "model_errors": report.counts.model_errors,
            "frames": report.source.frames, "kernel_received": report.source.kernel_received,
            "kernel_dropped": report.source.kernel_dropped, "if_dropped": report.source.if_dropped,
            "stop": stop_text(report.stop), "elapsed_s": report.elapsed.as_secs_f64(),
        });
        std::fs::write(p, json.to_string()).map_err(|e| format!("{}: cannot write the report: {e}", p.display()))?;
    }
    if let Some(e) = det.error.take() {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(format!("cannot write the output: {e}").into());
        }
    }
    if let Some(e) = report.source_error {
        return Err(e.into());
    }
    Ok(ExitCode::SUCCESS)
}

fn stop_text(r: StopReason) -> &'static str {
    match r {
        StopReason::Signal => "by a signal (SIGINT/SIGTERM); every live flow was flushed",
        StopReason::EndOfInput => "at the end of the replayed file",
        StopReason::OutputFailed => "because an output failed",
        StopReason::SourceFailed => "because the capture failed",
    }
}
