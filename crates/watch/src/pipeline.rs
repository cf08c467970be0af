//! The streaming loop: source → dissect ([`PacketFeed`], as offline) → flow table → detector, with
//! the clock advanced by the source when no packet arrives, a status callback every few seconds,
//! and a clean stop that flushes every live flow.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netanom_engine::observe::SharedObserver;
use netanom_engine::{PacketFeed, RunReport};
use netanom_flow::{FlowMeter, MeterConfig};

use crate::detector::{Detector, DetectorCounts};
use crate::source::{Next, PacketSource, SourceStats, POLL};

/// One status line's figures.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub elapsed: Duration,
    pub packets: u64,
    /// Packets per second since the previous status.
    pub packets_per_s: f64,
    pub live_flows: usize,
    pub counts: DetectorCounts,
    pub source: SourceStats,
    /// Resident memory of this process (from /proc), when known.
    pub rss_bytes: Option<u64>,
}

impl Status {
    /// `netanom watch: 10 s  1200 pkts  120.0 pkt/s  live flows 31  ended 200  alerts 4 flow, 0 baseline  drops 0  rss 14.2 MiB`
    pub fn to_line(&self) -> String {
        let c = &self.counts;
        let drops = match (self.source.kernel_dropped, self.source.if_dropped) {
            (Some(k), Some(i)) => format!("drops {k} kernel, {i} interface"),
            (Some(k), None) => format!("drops {k} kernel"),
            _ => "drops n/a (replay)".to_string(),
        };
        let rss = self.rss_bytes.map(|b| format!("{:.1} MiB", b as f64 / 1048576.0)).unwrap_or_else(|| "n/a".into());
        format!(
            "netanom watch: {:.0} s  {} pkts  {:.1} pkt/s  live flows {}  ended {}  alerts {} flow, {} baseline  {drops}  rss {rss}",
            self.elapsed.as_secs_f64(),
            self.packets,
            self.packets_per_s,
            self.live_flows,
            c.conversations,
            c.flow_alerts,
            c.baseline_alerts
        )
    }
}

/// Why the watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT or SIGTERM (the stop flag).
    Signal,
    /// The replayed file ended.
    EndOfInput,
    /// An output failed (see the detector's error).
    OutputFailed,
    /// The source failed (see [`WatchReport::source_error`]).
    SourceFailed,
}

/// The end of a watch.
#[derive(Debug)]
pub struct WatchReport {
    pub run: RunReport,
    pub counts: DetectorCounts,
    pub source: SourceStats,
    pub stop: StopReason,
    pub source_error: Option<String>,
    pub elapsed: Duration,
}

/// Resident set size of this process, from /proc/self/status (Linux).
pub fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Frames between looks at the wall clock while packets keep coming.
const CLOCK_EVERY: u64 = 256;

/// Runs until the source ends, `stop` is set, or an output fails; then ends every flow still in
/// the table (through rules and outputs, as any other) and returns the report.
/// `on_status` is called every `status_every` (never when zero).
pub fn watch(
    source: &mut dyn PacketSource,
    meter: MeterConfig,
    observer: Option<SharedObserver>,
    det: &mut Detector,
    stop: &AtomicBool,
    status_every: Duration,
    on_status: &mut dyn FnMut(&Status),
) -> WatchReport {
    let started = Instant::now();
    let mut feed = PacketFeed::new(observer);
    let mut table = FlowMeter::new(meter);
    let mut last_tick = Instant::now();
    let mut last_status = (Instant::now(), 0u64);
    let mut since_clock = 0u64;
    let mut source_error = None;
    let reason = loop {
        if stop.load(Ordering::Relaxed) {
            break StopReason::Signal;
        }
        if det.error.is_some() {
            break StopReason::OutputFailed;
        }
        let idle = match source.next() {
            Ok(Next::Frame(f)) => {
                feed.packet(f.ts_ns, f.linktype, f.data, f.orig_len, &mut |ts, p| {
                    det.now_ns = det.now_ns.max(ts);
                    table.packet(ts, p, det);
                    det.packet(p);
                    det.error.is_some()
                });
                since_clock += 1;
                false
            }
            Ok(Next::Idle) => true,
            Ok(Next::End) => break StopReason::EndOfInput,
            Err(e) => {
                // A signal can interrupt a blocking read: that is a stop, not a failure.
                if stop.load(Ordering::Relaxed) {
                    break StopReason::Signal;
                }
                source_error = Some(e.to_string());
                break StopReason::SourceFailed;
            }
        };
        if idle || since_clock >= CLOCK_EVERY {
            since_clock = 0;
            if idle || last_tick.elapsed() >= POLL {
                last_tick = Instant::now();
                // Wall time drives the timeouts when packets are few or none.
                let now = source.now_ns();
                table.expire(now, det);
                det.tick(now);
            }
            if !status_every.is_zero() && last_status.0.elapsed() >= status_every {
                let dt = last_status.0.elapsed().as_secs_f64();
                let pps = (feed.packets() - last_status.1) as f64 / dt.max(1e-9);
                last_status = (Instant::now(), feed.packets());
                on_status(&status(&feed, &table, det, source, started, pps));
            }
        }
    };
    // Nothing captured is lost: every flow still in the table ends now, through the same path.
    table.finish(det);
    det.finish();
    let mut run = RunReport::default();
    feed.fill_report(&mut run);
    run.flows = table.counters().clone();
    run.conversations = det.counts.conversations;
    run.rows = det.counts.rows;
    run.labels = Some(det.labeller.report());
    run.elapsed_s = started.elapsed().as_secs_f64();
    run.packets_per_s = if run.elapsed_s > 0.0 { run.packets as f64 / run.elapsed_s } else { 0.0 };
    if !status_every.is_zero() {
        let pps = run.packets_per_s;
        on_status(&status(&feed, &table, det, source, started, pps));
    }
    WatchReport {
        run,
        counts: det.counts.clone(),
        source: source.stats(),
        stop: reason,
        source_error,
        elapsed: started.elapsed(),
    }
}

fn status(
    feed: &PacketFeed,
    table: &FlowMeter,
    det: &Detector,
    source: &mut dyn PacketSource,
    started: Instant,
    pps: f64,
) -> Status {
    Status {
        elapsed: started.elapsed(),
        packets: feed.packets(),
        packets_per_s: pps,
        live_flows: table.live_flows(),
        counts: det.counts.clone(),
        source: source.stats(),
        rss_bytes: rss_bytes(),
    }
}
