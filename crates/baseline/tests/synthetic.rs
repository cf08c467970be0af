//! Synthetic series with a known trend and season, and spikes injected at known intervals: the
//! alerts must be exactly the spikes'.

use netanom_baseline::{Alert, Baseline, BaselineConfig, FlowObs, Kind, Measure};

const NS: u64 = 1_000_000_000;
const IV: u64 = 10 * NS;
/// Interval numbers start here (a realistic epoch offset, aligned on the season).
const T0: u64 = 1_700_000_040 / 10;

fn v4(a: u8, b: u8, c: u8, d: u8) -> [u8; 16] {
    let mut x = [0; 16];
    x[..4].copy_from_slice(&[a, b, c, d]);
    x
}

fn flow(iv: u64, k: u64, src: [u8; 16], dst_port: u16) -> FlowObs {
    FlowObs {
        at_ns: iv * IV + (k * 7919) % IV,
        ip: true,
        src,
        dst: v4(10, 0, 0, 2),
        proto: 6,
        dst_port,
        packets: 10,
        bytes: 1000,
        ..FlowObs::default()
    }
}

/// Flows to 10.0.0.2:80 per interval: 20 + a trend of one flow every 5 intervals + a 12-interval
/// season (0…40), from five client hosts in turn.
fn normal(i: u64) -> u64 {
    const SEASON: [u64; 12] = [0, 5, 10, 20, 30, 40, 35, 25, 15, 10, 5, 2];
    20 + i / 5 + SEASON[((T0 + i) % 12) as usize]
}

fn run(spikes: &[(u64, u64)], intervals: u64) -> (Vec<Alert>, Baseline) {
    let cfg = BaselineConfig { interval_ns: IV, season_ns: 12 * IV, hold_ns: 0, ..BaselineConfig::default() };
    run_with(cfg, spikes, intervals, |_, _| {})
}

fn run_with(
    cfg: BaselineConfig,
    spikes: &[(u64, u64)],
    intervals: u64,
    mut extra: impl FnMut(u64, &mut Baseline),
) -> (Vec<Alert>, Baseline) {
    let mut b = Baseline::new(cfg);
    let mut alerts = Vec::new();
    for i in 0..intervals {
        let iv = T0 + i;
        for k in 0..normal(i) {
            b.observe_flow(&flow(iv, k, v4(10, 0, 1, (k % 5) as u8), 80));
        }
        for &(at, n) in spikes {
            if at == i {
                for k in 0..n {
                    b.observe_flow(&flow(iv, k, v4(10, 0, 9, 9), 80));
                }
            }
        }
        extra(iv, &mut b);
        // The clock has reached the next interval's start: this one is complete.
        alerts.extend(b.advance_to((iv + 1) * IV));
    }
    alerts.extend(b.flush());
    (alerts, b)
}

#[test]
fn pure_seasonal_pattern_with_trend_never_alerts() {
    let (alerts, b) = run(&[], 200);
    assert!(alerts.is_empty(), "{alerts:#?}");
    assert_eq!(b.counters().intervals, 200);
    // 1 network + 1 dst host + 1 dst port + 5 sources
    assert_eq!(b.live_series(), 8);
}

#[test]
fn spikes_alert_exactly_where_injected() {
    let (alerts, _) = run(&[(50, 600), (130, 700)], 200);
    let mut got: Vec<(u64, String, &str)> =
        alerts.iter().map(|a| (a.interval - T0, a.key.to_string(), a.measure.name())).collect();
    got.sort();
    let mut want = Vec::new();
    for at in [50, 130] {
        for key in ["dst_host 10.0.0.2", "dst_port 10.0.0.2 tcp/80", "network"] {
            for m in ["flows", "packets", "bytes"] {
                want.push((at, key.to_string(), m));
            }
        }
    }
    // By the second spike its source has a history of quiet intervals.
    for m in ["flows", "packets", "bytes"] {
        want.push((130, "src_host 10.0.9.9".to_string(), m));
    }
    want.sort();
    assert_eq!(got, want);
    let a = alerts.iter().find(|a| a.key.kind == Kind::DstHost && a.measure == Measure::Flows).unwrap();
    assert_eq!(a.observed, (normal(50) + 600) as f64);
    assert!((a.forecast - normal(50) as f64).abs() < 5.0, "{a:?}");
    assert!(a.ratio > 4.0);
}

#[test]
fn flows_of_a_closed_interval_are_late_and_idle_series_go() {
    let cfg =
        BaselineConfig { interval_ns: IV, season_ns: 0, hold_ns: 0, idle_ns: 30 * IV, ..BaselineConfig::default() };
    let mut b = Baseline::new(cfg);
    b.observe_flow(&flow(T0, 0, v4(10, 0, 1, 1), 80));
    assert!(b.advance_to((T0 + 1) * IV).is_empty());
    b.observe_flow(&flow(T0, 1, v4(10, 0, 1, 1), 80));
    assert_eq!(b.counters().late_flows, 1);
    // Idle for 30 intervals, dropped at the next sweep (every 16 intervals, or an eighth of the idle time when longer).
    b.advance_to((T0 + 60) * IV);
    assert_eq!(b.live_series(), 0);
    assert_eq!(b.counters().series_dropped_idle, 4);
    // After everything went idle a long gap costs nothing.
    b.observe_flow(&flow(T0 + 1_000_000, 0, v4(10, 0, 1, 1), 80));
    b.flush();
    // Counted, not computed: nothing was live to learn from the gap.
    assert_eq!(b.counters().intervals, 1_000_001);
}

#[test]
fn series_beyond_the_cap_are_refused_and_counted() {
    let cfg = BaselineConfig { interval_ns: IV, max_series: 3, ..BaselineConfig::default() };
    let mut b = Baseline::new(cfg);
    b.observe_flow(&flow(T0, 0, v4(10, 0, 1, 1), 80));
    // Series are made as their first interval closes.
    assert_eq!(b.live_series(), 0);
    b.flush();
    assert_eq!(b.live_series(), 3);
    assert_eq!(b.counters().series_refused, 1);
}

#[test]
fn quiet_series_learnt_late_give_the_same_alerts_as_learnt_every_interval() {
    // Sporadic hosts: a few flows now and then, bursts sometimes; some come back after long gaps.
    let sporadic = |iv: u64, b: &mut Baseline| {
        let i = iv - T0;
        for h in 0..6u64 {
            let period = 3 + 4 * h;
            if i > 0 && i % period == 0 && !(60..100).contains(&i) {
                let n = if i % (period * 7) == 0 { 60 } else { 2 + h };
                for k in 0..n {
                    b.observe_flow(&flow(iv, k, v4(10, 0, 3, h as u8), 1000 + (k % 3) as u16));
                }
            }
        }
    };
    let cfg = BaselineConfig {
        interval_ns: IV,
        season_ns: 12 * IV,
        hold_ns: 0,
        idle_ns: 50 * IV,
        ..BaselineConfig::default()
    };
    let eager = BaselineConfig { update_quiet_series: true, ..cfg.clone() };
    let (lazy_alerts, lazy) = run_with(cfg, &[(50, 600), (130, 700)], 200, sporadic);
    let (eager_alerts, eager) = run_with(eager, &[(50, 600), (130, 700)], 200, sporadic);
    assert!(lazy_alerts.iter().any(|a| a.key.host[2] == 3), "no sporadic alert to compare");
    let brief = |v: &[Alert]| -> Vec<String> {
        v.iter()
            .map(|a| {
                format!("{} {} {} {} {:.3}", a.interval - T0, a.key, a.measure.name(), a.observed, a.model_forecast)
            })
            .collect()
    };
    let (l, e) = (brief(&lazy_alerts), brief(&eager_alerts));
    let first_diff = l.iter().zip(&e).position(|(a, b)| a != b).unwrap_or(l.len().min(e.len()));
    assert_eq!(l.len(), e.len(), "first difference at {first_diff}: {:?} / {:?}", l.get(first_diff), e.get(first_diff));
    assert_eq!(l, e);
    assert_eq!(lazy_alerts, eager_alerts);
    assert_eq!(lazy.counters().series_dropped_idle, eager.counters().series_dropped_idle);
}
