//! The traffic-baseline stage's summary: the alerts of the run, and the history of the series that
//! alerted most, recorded by replaying the conversations into a fresh baseline that traces them
//! (the live one keeps no history: its memory per series is bounded).

use std::collections::HashMap;

use netanom_baseline::{Alert, Baseline, BaselineConfig, FlowObs, Measure, SeriesKey};
use netanom_report::{BaselineSummary, SeriesHistory};

/// Series charted at most.
const TOP_SERIES: usize = 3;

#[derive(Default)]
struct PerSeries {
    alerts: u64,
    max_ratio: f64,
    by_measure: HashMap<Measure, u64>,
}

pub(crate) fn summary(cfg: &BaselineConfig, alerts: &[Alert], series: u64, feed: &[(FlowObs, u64)]) -> BaselineSummary {
    let mut per: HashMap<SeriesKey, PerSeries> = HashMap::new();
    for a in alerts {
        let p = per.entry(a.key).or_default();
        p.alerts += 1;
        p.max_ratio = p.max_ratio.max(a.ratio);
        *p.by_measure.entry(a.measure).or_default() += 1;
    }
    let mut top: Vec<(&SeriesKey, &PerSeries)> = per.iter().collect();
    top.sort_by(|a, b| b.1.alerts.cmp(&a.1.alerts).then(b.1.max_ratio.total_cmp(&a.1.max_ratio)).then(a.0.cmp(b.0)));
    top.truncate(TOP_SERIES);
    let keys: Vec<SeriesKey> = top.iter().map(|(k, _)| **k).collect();
    let traces = replay(cfg, &keys, feed);
    let interval_s = cfg.interval_ns as f64 / 1e9;
    let top_series = top
        .iter()
        .zip(traces)
        .map(|((key, p), (_, points))| {
            // The measure that alerted most (ties: the first in Measure order).
            let mut ms: Vec<(&Measure, &u64)> = p.by_measure.iter().collect();
            ms.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let measure = ms.first().map(|m| *m.0).unwrap_or(Measure::Flows);
            let pts: Vec<_> = points.into_iter().filter(|t| t.measure == measure).collect();
            let first = pts.first().map_or(0, |t| t.interval);
            let last = pts.last().map_or(0, |t| t.interval);
            let n = if pts.is_empty() { 0 } else { (last - first + 1) as usize };
            let (mut observed, mut forecast, mut alerts) = (vec![0.0; n], vec![None; n], Vec::new());
            for t in &pts {
                let i = (t.interval - first) as usize;
                observed[i] = t.observed;
                forecast[i] = t.forecast;
                if t.alert {
                    alerts.push(i as u32);
                }
            }
            SeriesHistory {
                key: key.to_string(),
                measure: measure.name().to_string(),
                start_s: first as f64 * interval_s,
                observed,
                forecast,
                forecast_floor: cfg.forecast_floor(measure),
                alerts,
                max_ratio: p.max_ratio,
            }
        })
        .collect();
    BaselineSummary {
        interval_s,
        threshold: cfg.threshold,
        min_forecast: cfg.min_forecast,
        alerts: alerts.len() as u64,
        series,
        top_series,
    }
}

/// The same conversations, in the same order, with the same clock: the same alerts, now traced.
fn replay(
    cfg: &BaselineConfig,
    keys: &[SeriesKey],
    feed: &[(FlowObs, u64)],
) -> Vec<(SeriesKey, Vec<netanom_baseline::TracePoint>)> {
    if keys.is_empty() {
        return Vec::new();
    }
    let mut b = Baseline::new(cfg.clone());
    b.trace(keys);
    for (obs, clock) in feed {
        b.observe_flow(obs);
        b.advance_to(*clock);
    }
    b.flush();
    b.traces()
}
