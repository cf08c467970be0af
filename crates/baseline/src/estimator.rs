//! The estimator: series per key, intervals held open while late flows can still arrive, then closed
//! one by one: every live series compares its observed values with its forecasts, then learns them.

use std::collections::BTreeMap;

use hashbrown::HashMap;

use crate::model::{Forecaster, Params, Season};
use crate::series::{Acc, FlowObs, Kind, Measure, SeriesKey, MEASURES};

const NS: u64 = 1_000_000_000;
/// Idle series are looked for every this many intervals at least (every eighth of the idle time
/// when longer), at interval numbers that are multiples of it, so the drops do not depend on which
/// intervals had flows.
const SWEEP_EVERY: u64 = 16;

/// Parameters of the baseline. The defaults are what `netanom baseline` uses.
#[derive(Debug, Clone)]
pub struct BaselineConfig {
    /// Length of an interval (default 60 s).
    pub interval_ns: u64,
    /// Length of a season (default one day; 0: no seasonal term, Holt's linear smoothing only).
    pub season_ns: u64,
    /// Most seasonal indices per season (default 48: half hours of a day at most; up to 48).
    pub season_slots: usize,
    /// Alert when |observed − forecast| / forecast exceeds this (default 4, the seed's value).
    pub threshold: f64,
    /// The forecast used in the ratio is at least this many flows, distinct peers, distinct ports or
    /// anomalous flows (default 5), so a quiet series does not alert on its first few flows.
    pub min_forecast: f64,
    /// The floor of packets and of bytes, per unit of `min_forecast` (default 10 packets and
    /// 10,000 bytes: a floor of 5 flows is one of 50 packets and 50 kB).
    pub packets_per_flow: f64,
    pub bytes_per_flow: f64,
    /// A series alerts only after this many intervals of history (default 4).
    pub min_history: u64,
    /// Intervals stay open this long after their end for flows still in the flow table (default
    /// 618 s: the flow table's longest timeout, established TCP's 610 s, and a margin).
    pub hold_ns: u64,
    /// Series without flows for this long are dropped (default 2 h).
    pub idle_ns: u64,
    /// Most series held; flows for new series beyond it count for the others only (default 200,000).
    pub max_series: usize,
    /// Re-fit a series' parameters every this many intervals (default 32, the history kept).
    pub refit_every: u64,
    /// Parameters before the first re-fit.
    pub params: Params,
    /// Learn every live series every interval as it closes, rather than a quiet series' zeros when
    /// it next has flows (default false; the alerts are the same, since a zero cannot alert with a
    /// threshold of 1 or more; forced on below that).
    pub update_quiet_series: bool,
}

impl BaselineConfig {
    /// The least forecast a measure's alert ratio divides by: `min_forecast` flows, or as many
    /// flows' worth of packets or bytes.
    pub fn forecast_floor(&self, m: Measure) -> f64 {
        match m {
            Measure::Packets => self.min_forecast * self.packets_per_flow,
            Measure::Bytes => self.min_forecast * self.bytes_per_flow,
            _ => self.min_forecast,
        }
    }
}

impl Default for BaselineConfig {
    fn default() -> BaselineConfig {
        BaselineConfig {
            interval_ns: 60 * NS,
            season_ns: 86_400 * NS,
            season_slots: crate::model::MAX_SLOTS,
            threshold: 4.0,
            min_forecast: 5.0,
            packets_per_flow: 10.0,
            bytes_per_flow: 10_000.0,
            min_history: 4,
            hold_ns: 618 * NS,
            idle_ns: 7200 * NS,
            max_series: 200_000,
            refit_every: crate::model::HISTORY as u64,
            params: Params::default(),
            update_quiet_series: false,
        }
    }
}

/// One observation far enough from its forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Interval number: the interval starts at `interval × interval_ns` since the epoch.
    pub interval: u64,
    pub interval_ns: u64,
    pub key: SeriesKey,
    pub measure: Measure,
    pub observed: f64,
    /// The forecast the ratio used: the model's, raised to the floor.
    pub forecast: f64,
    /// The model's own forecast.
    pub model_forecast: f64,
    pub ratio: f64,
}

impl Alert {
    pub fn start_ns(&self) -> u64 {
        self.interval.saturating_mul(self.interval_ns)
    }

    /// One JSON object: interval start (s since the epoch), key, measure, observed, forecast, ratio.
    pub fn to_json(&self) -> serde_json::Value {
        let k = &self.key;
        // The model computes in f32: more digits than these would be noise.
        let r = |v: f64| (v * 1000.0).round() / 1000.0;
        serde_json::json!({
            "interval": self.start_ns() as f64 / 1e9,
            "interval_s": self.interval_ns as f64 / 1e9,
            "key": k.to_string(),
            "kind": k.kind.name(),
            "host": if k.kind == Kind::Network { None } else { Some(k.host_string()) },
            "port": if k.kind == Kind::DstPort { Some(format!("{}/{}", k.proto_name(), k.port)) } else { None },
            "measure": self.measure.name(),
            "observed": self.observed,
            "forecast": r(self.forecast),
            "model_forecast": r(self.model_forecast),
            "ratio": r(self.ratio),
        })
    }
}

/// What happened, for the end report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub flows: u64,
    /// Flows whose interval had already closed (handed over later than the hold): not counted.
    pub late_flows: u64,
    pub intervals: u64,
    pub series_created: u64,
    pub series_dropped_idle: u64,
    /// Series not created because `max_series` were live.
    pub series_refused: u64,
    pub max_live_series: u64,
    /// Distinct counts that hit the sketch's ceiling (reported as the ceiling).
    pub distinct_saturated: u64,
    pub alerts: u64,
    pub alerts_by_kind: [u64; 4],
}

struct Series {
    key: SeriesKey,
    /// First and latest interval with a flow.
    born: u64,
    last_seen: u64,
    live: bool,
    /// The latest interval its models learnt.
    stepped: Option<u64>,
    /// This interval's values, when every series is updated every interval.
    cur: Option<[f32; MEASURES]>,
    models: [Forecaster; MEASURES],
    /// Every step's values, for series asked for with [`Baseline::trace`] (charts).
    trace: Option<Vec<TracePoint>>,
}

/// One series' measure in one interval, as [`Baseline::trace`] records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TracePoint {
    pub interval: u64,
    pub measure: Measure,
    pub observed: f64,
    /// The forecast compared with (after the floor); `None` while the model has none.
    pub forecast: Option<f64>,
    pub alert: bool,
}

/// The estimator. Feed ended flows with [`observe_flow`](Baseline::observe_flow), move time with
/// [`advance_to`](Baseline::advance_to), end with [`flush`](Baseline::flush); both return alerts.
pub struct Baseline {
    cfg: BaselineConfig,
    season: Season,
    floors: [f32; MEASURES],
    idle_intervals: u64,
    index: HashMap<SeriesKey, u32>,
    series: Vec<Series>,
    free: Vec<u32>,
    live: usize,
    /// Live series whose first interval has closed: without any, empty intervals can be skipped.
    started: usize,
    /// Update every live series every interval (see [`BaselineConfig::update_quiet_series`]).
    eager: bool,
    /// Most quiet intervals learnt when a series comes back.
    catch_up: u64,
    sweep_every: u64,
    /// Open intervals' accumulators, by interval then series.
    pending: BTreeMap<u64, HashMap<SeriesKey, Acc>>,
    /// The next interval to close; `None` until the first closes (earlier flows are not late yet).
    next: Option<u64>,
    counters: Counters,
    /// Series to record ([`Baseline::trace`]) and the records of those already dropped.
    traced: Vec<SeriesKey>,
    traces_done: Vec<(SeriesKey, Vec<TracePoint>)>,
}

impl Baseline {
    pub fn new(cfg: BaselineConfig) -> Baseline {
        let interval_ns = cfg.interval_ns.max(1);
        let season = Season::new(cfg.season_ns / interval_ns, cfg.season_slots);
        let floors = Measure::ALL.map(|m| cfg.forecast_floor(m) as f32);
        let idle_intervals = (cfg.idle_ns / interval_ns).max(1);
        let eager = cfg.update_quiet_series || cfg.threshold < 1.0;
        // Covers any gap a series can have without being dropped: its idle time and the hold.
        let sweep_every = (idle_intervals / 8).max(SWEEP_EVERY);
        let catch_up = idle_intervals + cfg.hold_ns / interval_ns + sweep_every + 2;
        let cfg = BaselineConfig { interval_ns, ..cfg };
        Baseline {
            cfg,
            season,
            floors,
            idle_intervals,
            index: HashMap::new(),
            series: Vec::new(),
            free: Vec::new(),
            live: 0,
            started: 0,
            eager,
            catch_up,
            sweep_every,
            pending: BTreeMap::new(),
            next: None,
            counters: Counters::default(),
            traced: Vec::new(),
            traces_done: Vec::new(),
        }
    }

    /// Records every interval of these series from now on (observed value, forecast, alert), for
    /// charts. Meant for a handful of series: a replay of the flows for the series that alerted.
    pub fn trace(&mut self, keys: &[SeriesKey]) {
        self.traced.extend_from_slice(keys);
        for s in self.series.iter_mut().filter(|s| s.live && keys.contains(&s.key)) {
            s.trace.get_or_insert_with(Vec::new);
        }
    }

    /// What [`trace`](Baseline::trace) recorded, per series, in the order asked for.
    pub fn traces(&self) -> Vec<(SeriesKey, Vec<TracePoint>)> {
        let mut out: Vec<(SeriesKey, Vec<TracePoint>)> = Vec::new();
        for k in &self.traced {
            let mut pts: Vec<TracePoint> =
                self.traces_done.iter().filter(|(dk, _)| dk == k).flat_map(|(_, p)| p.iter().copied()).collect();
            if let Some(s) = self.index.get(k).and_then(|&i| self.series[i as usize].trace.as_ref()) {
                pts.extend_from_slice(s);
            }
            out.push((*k, pts));
        }
        out
    }

    pub fn config(&self) -> &BaselineConfig {
        &self.cfg
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn live_series(&self) -> usize {
        self.live
    }

    /// Counts one ended conversation in the interval of its last packet, for its source host, its
    /// destination host, its destination port and the network. Series are looked up (or created)
    /// when the interval closes, once per series rather than per flow.
    pub fn observe_flow(&mut self, f: &FlowObs) {
        self.counters.flows += 1;
        let iv = f.at_ns / self.cfg.interval_ns;
        if self.next.is_some_and(|n| iv < n) {
            self.counters.late_flows += 1;
            return;
        }
        let accs = self.pending.entry(iv).or_default();
        accs.entry(SeriesKey::network()).or_default().add(Kind::Network, f);
        if f.ip {
            let host = |kind, host| SeriesKey { kind, v6: f.v6, host, proto: 0, port: 0 };
            accs.entry(host(Kind::SrcHost, f.src)).or_default().add(Kind::SrcHost, f);
            accs.entry(host(Kind::DstHost, f.dst)).or_default().add(Kind::DstHost, f);
            let port = SeriesKey { proto: f.proto, port: f.dst_port, ..host(Kind::DstPort, f.dst) };
            accs.entry(port).or_default().add(Kind::DstPort, f);
        }
    }

    /// The series of `key`, created if new and there is room.
    fn series_for(&mut self, key: &SeriesKey, iv: u64) -> Option<u32> {
        if let Some(&i) = self.index.get(key) {
            return Some(i);
        }
        if self.live >= self.cfg.max_series {
            self.counters.series_refused += 1;
            return None;
        }
        let s = Series {
            key: *key,
            born: iv,
            last_seen: iv,
            live: true,
            stepped: None,
            cur: None,
            models: std::array::from_fn(|_| Forecaster::new(self.cfg.params)),
            trace: self.traced.contains(key).then(Vec::new),
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.series[i as usize] = s;
                i
            }
            None => {
                self.series.push(s);
                (self.series.len() - 1) as u32
            }
        };
        self.index.insert(*key, i);
        self.live += 1;
        self.counters.series_created += 1;
        self.counters.max_live_series = self.counters.max_live_series.max(self.live as u64);
        Some(i)
    }

    /// Closes every interval that ended at least the hold before `now_ns` (the flow table's clock:
    /// flows ended so far are all in).
    pub fn advance_to(&mut self, now_ns: u64) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let Some(end) = now_ns.checked_sub(self.cfg.hold_ns) else { return alerts };
        // Intervals [.., upto) have ended by `end`.
        let upto = end / self.cfg.interval_ns;
        self.close_before(upto, &mut alerts);
        alerts
    }

    /// Closes every interval that has flows: the end of input.
    pub fn flush(&mut self) -> Vec<Alert> {
        let mut alerts = Vec::new();
        if let Some((&last, _)) = self.pending.last_key_value() {
            self.close_before(last + 1, &mut alerts);
        }
        alerts
    }

    fn close_before(&mut self, upto: u64, alerts: &mut Vec<Alert>) {
        loop {
            let next = match self.next {
                Some(n) => n,
                // Nothing closed yet: start at the first interval with flows.
                None => match self.pending.first_key_value() {
                    Some((&k, _)) => k,
                    None => return,
                },
            };
            if next >= upto {
                self.next = Some(next);
                return;
            }
            if (!self.eager || self.started == 0) && !self.pending.contains_key(&next) {
                // Nothing to compare until the next flows: quiet series catch up when they return.
                let to = self.pending.first_key_value().map_or(upto, |(&k, _)| k.min(upto));
                self.counters.intervals += to - next;
                // The sweeps the skipped intervals would have made, while there is anything to drop.
                let mut at = next.next_multiple_of(self.sweep_every);
                while at < to && self.live > 0 {
                    self.sweep(at);
                    at += self.sweep_every;
                }
                self.next = Some(to);
                continue;
            }
            self.close_one(next, alerts);
            self.next = Some(next + 1);
        }
    }

    /// Compares and teaches the series with flows in `iv` (every live series when quiet ones are
    /// updated eagerly): O(series with flows), O(live series) at worst.
    fn close_one(&mut self, iv: u64, alerts: &mut Vec<Alert>) {
        self.counters.intervals += 1;
        let accs = self.pending.remove(&iv).unwrap_or_default();
        // In key order: series are created, and alerts come out, in the same order on every run
        // (the hash map's order is seeded per process).
        let mut saturated = 0;
        let mut keyed: Vec<(SeriesKey, [f32; MEASURES])> = accs
            .into_iter()
            .map(|(k, acc)| {
                let (v, full) = acc.values();
                saturated += full as u64;
                (k, v)
            })
            .collect();
        self.counters.distinct_saturated += saturated;
        keyed.sort_unstable_by_key(|a| a.0);
        let mut values = Vec::with_capacity(keyed.len());
        for (key, v) in keyed {
            if let Some(idx) = self.series_for(&key, iv) {
                self.series[idx as usize].last_seen = iv;
                values.push((idx, v));
            }
        }
        let ctx = StepContext {
            iv,
            thr: self.cfg.threshold as f32,
            floors: self.floors,
            min_history: self.cfg.min_history,
            refit: self.cfg.refit_every,
            interval_ns: self.cfg.interval_ns,
            catch_up: self.catch_up,
            season: &self.season,
        };
        let first_alert = alerts.len();
        if self.eager {
            for (idx, v) in values {
                self.series[idx as usize].cur = Some(v);
            }
            for s in self.series.iter_mut() {
                if s.live && iv >= s.born {
                    let (v, flows) = s.cur.take().map_or(([0.0; MEASURES], false), |v| (v, true));
                    self.started += step(s, &v, flows, &ctx, alerts, &mut self.counters) as usize;
                }
            }
            alerts[first_alert..].sort_by_key(|a| (a.key, a.measure));
        } else {
            for (idx, v) in values {
                let s = &mut self.series[idx as usize];
                self.started += step(s, &v, true, &ctx, alerts, &mut self.counters) as usize;
            }
        }
        if iv % self.sweep_every == 0 {
            self.sweep(iv);
        }
    }

    /// Drops the series idle for `idle_ns`.
    fn sweep(&mut self, iv: u64) {
        for (idx, s) in self.series.iter_mut().enumerate() {
            if s.live && s.last_seen + self.idle_intervals <= iv {
                s.live = false;
                // Give the memory back now: a dropped slot may wait long for a new series.
                s.models = std::array::from_fn(|_| Forecaster::new(self.cfg.params));
                if let Some(t) = s.trace.take() {
                    self.traces_done.push((s.key, t));
                }
                self.index.remove(&s.key);
                self.free.push(idx as u32);
                self.live -= 1;
                self.started -= s.stepped.is_some() as usize;
                self.counters.series_dropped_idle += 1;
            }
        }
    }
}

/// What every series' step of one interval shares.
struct StepContext<'a> {
    iv: u64,
    thr: f32,
    floors: [f32; MEASURES],
    min_history: u64,
    refit: u64,
    interval_ns: u64,
    catch_up: u64,
    season: &'a Season,
}

/// One series' interval: the quiet intervals since its last step are learnt as zeros (they cannot
/// alert: a zero is at ratio 1 from any forecast, not above a threshold of 1 or more), then its
/// values are compared with the forecasts and learnt. Parameters are re-fitted only in intervals
/// with flows, which keeps a quiet series' catching up cheap. True on the series' first step.
fn step(
    s: &mut Series,
    v: &[f32; MEASURES],
    flows: bool,
    c: &StepContext,
    alerts: &mut Vec<Alert>,
    n: &mut Counters,
) -> bool {
    let first = s.stepped.is_none();
    if let Some(last) = s.stepped {
        let from = (last + 1).max(c.iv.saturating_sub(c.catch_up));
        if from < c.iv {
            for (m, measure) in Measure::ALL.iter().enumerate() {
                if measure.applies_to(s.key.kind) {
                    s.models[m].observe_zeros(from, c.iv, c.season);
                }
            }
        }
    }
    s.stepped = Some(c.iv);
    for (m, measure) in Measure::ALL.iter().enumerate() {
        if !measure.applies_to(s.key.kind) {
            continue;
        }
        let x = v[m];
        let model = &mut s.models[m];
        let mut learn = x;
        let mut point =
            TracePoint { interval: c.iv, measure: *measure, observed: x as f64, forecast: None, alert: false };
        if let Some(fc) = model.forecast(c.iv, c.season) {
            let f = fc.max(c.floors[m]);
            let ratio = (x - f).abs() / f;
            point.forecast = Some(f as f64);
            if model.observations() >= c.min_history && ratio > c.thr {
                point.alert = true;
                alerts.push(Alert {
                    interval: c.iv,
                    interval_ns: c.interval_ns,
                    key: s.key,
                    measure: *measure,
                    observed: x as f64,
                    forecast: f as f64,
                    model_forecast: fc as f64,
                    ratio: ratio as f64,
                });
                n.alerts += 1;
                n.alerts_by_kind[s.key.kind as usize] += 1;
                // An anomaly teaches the model only what a bad-but-normal interval would: a flood
                // shifts the baseline gradually, not in one step.
                learn = x.clamp((f * (1.0 - c.thr)).max(0.0), f * (1.0 + c.thr));
            }
        }
        model.observe(c.iv, learn, c.season, if flows { c.refit } else { 0 });
        if let Some(t) = s.trace.as_mut() {
            t.push(point);
        }
    }
    first
}
