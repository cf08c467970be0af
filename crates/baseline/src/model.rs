//! One series' forecaster: exponential smoothing while history is short, additive Holt-Winters
//! (level, trend, seasonal) once two full seasons have been seen, parameters re-fitted now and then
//! on the recent history by a small grid search on the one-step-ahead squared error.
//!
//! Memory is fixed per forecaster: a ring of the last [`HISTORY`] values and, when a season is
//! configured, `2 × slots` seasonal numbers (the per-slot sums of the two warm-up seasons, then the
//! seasonal indices), allocated at the second observation: most series (a client's ephemeral
//! port, a scanned address) are seen once and keep only their level.

/// Values kept for re-fitting.
pub const HISTORY: usize = 32;
/// Most seasonal slots: a season longer than this many intervals shares one seasonal index between
/// neighbouring intervals (a day at 60 s intervals in 48 slots: one index per half hour).
pub const MAX_SLOTS: usize = 48;

/// Smoothing parameters: level, trend, seasonal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub alpha: f32,
    pub beta: f32,
    pub gamma: f32,
}

impl Default for Params {
    fn default() -> Params {
        Params { alpha: 0.3, beta: 0.05, gamma: 0.2 }
    }
}

/// Trend damping: each step ahead keeps this much of the trend, so a slope learnt during a
/// burst fades instead of carrying the forecast far above or below the data (counts are bursty).
const PHI: f32 = 0.9;

// Small on purpose: the refit runs per series and has to stay O(1) per interval on average.
const ALPHAS: [f32; 5] = [0.1, 0.2, 0.4, 0.6, 0.9];
// No zero: a trend that never updates keeps whatever slope the last burst left, for good.
const BETAS: [f32; 3] = [0.02, 0.1, 0.3];
const GAMMAS: [f32; 2] = [0.1, 0.3];

/// How a season of `len` intervals maps onto seasonal slots; shared by every series.
#[derive(Debug, Clone)]
pub struct Season {
    /// Intervals per season (0: no seasonality, exponential smoothing with trend only).
    pub len: u64,
    pub slots: usize,
    /// Intervals of one season falling into each slot.
    counts: Vec<u32>,
}

impl Season {
    pub fn new(len: u64, max_slots: usize) -> Season {
        let slots = if len == 0 { 0 } else { (len.min(max_slots.clamp(1, MAX_SLOTS) as u64)) as usize };
        let mut s = Season { len, slots, counts: vec![0; slots] };
        for p in 0..len {
            let slot = s.slot(p);
            s.counts[slot] += 1;
        }
        s
    }

    /// Slot of an absolute interval number: seasons are aligned on the epoch, so a one-day season
    /// starts at midnight UTC whatever the capture's start.
    #[inline]
    pub fn slot(&self, interval: u64) -> usize {
        ((interval % self.len) * self.slots as u64 / self.len) as usize
    }
}

#[derive(Debug, Clone)]
pub struct Forecaster {
    /// Observations so far.
    n: u64,
    level: f32,
    trend: f32,
    params: Params,
    holt_winters: bool,
    /// Empty until the second observation; then the history ring ([`HISTORY`] values) followed by
    /// the seasonal numbers: during warm-up the slot sums of season 0 then season 1, after it the
    /// seasonal indices (first half).
    store: Box<[f32]>,
    /// Interval number of the latest observation.
    last: u64,
    /// Observations after which the next re-fit is due.
    refit_at: u64,
}

impl Forecaster {
    pub fn new(params: Params) -> Forecaster {
        Forecaster {
            n: 0,
            level: 0.0,
            trend: 0.0,
            params,
            holt_winters: false,
            store: Box::new([]),
            last: 0,
            refit_at: 0,
        }
    }

    pub fn observations(&self) -> u64 {
        self.n
    }

    pub fn is_holt_winters(&self) -> bool {
        self.holt_winters
    }

    pub fn params(&self) -> Params {
        self.params
    }

    /// Forecast for `interval`, the one after the latest observation; `None` before any.
    #[inline]
    pub fn forecast(&self, interval: u64, season: &Season) -> Option<f32> {
        if self.n == 0 {
            return None;
        }
        let f = if self.holt_winters {
            self.level + PHI * self.trend + self.store[HISTORY + season.slot(interval)]
        } else {
            self.level + PHI * self.trend
        };
        Some(f.max(0.0))
    }

    /// Takes the value of `interval`, which must follow the previous one; re-fits the parameters
    /// when `refit_every` observations have passed since the last re-fit (0: not now).
    #[inline]
    pub fn observe(&mut self, interval: u64, x: f32, season: &Season, refit_every: u64) {
        let p = self.params;
        if self.n == 1 {
            // The first value is the level: enter it in the history and the first season's sums.
            self.store = vec![0.0; HISTORY + 2 * season.slots].into_boxed_slice();
            self.store[0] = self.level;
            if season.len > 0 {
                self.store[HISTORY + season.slot(self.last)] = self.level;
            }
        }
        if self.n == 0 {
            self.level = x;
        } else if self.holt_winters {
            let slot = season.slot(interval);
            let s = self.store[HISTORY + slot];
            let level = p.alpha * (x - s) + (1.0 - p.alpha) * (self.level + PHI * self.trend);
            self.trend = p.beta * (level - self.level) + (1.0 - p.beta) * PHI * self.trend;
            self.store[HISTORY + slot] = p.gamma * (x - level) + (1.0 - p.gamma) * s;
            self.level = level;
            self.settle();
        } else {
            // Holt's linear smoothing: no seasonal term yet.
            let level = p.alpha * x + (1.0 - p.alpha) * (self.level + PHI * self.trend);
            self.trend = p.beta * (level - self.level) + (1.0 - p.beta) * PHI * self.trend;
            self.level = level;
            self.settle();
        }
        if season.len > 0 && !self.holt_winters && self.n > 0 {
            let which = (self.n / season.len) as usize;
            if which < 2 {
                self.store[HISTORY + which * season.slots + season.slot(interval)] += x;
            }
            if self.n + 1 == 2 * season.len {
                self.start_holt_winters(interval + 1 - 2 * season.len, season);
            }
        }
        if self.n > 0 {
            self.store[(self.n % HISTORY as u64) as usize] = x;
        }
        self.last = interval;
        self.n += 1;
        if refit_every > 0 && self.n >= HISTORY as u64 && self.n >= self.refit_at {
            self.refit_at = self.n + refit_every;
            self.refit(season);
        }
    }

    /// Counts are never negative: neither is the level, and the trend cannot take the next
    /// forecast below zero (after a burst ends, an unchecked trend digs a hole that every later
    /// interval alerts on, since alerted values are learnt clipped). And a level and trend decaying
    /// through zeros reach exactly zero instead of crawling through slow subnormal floats.
    #[inline]
    fn settle(&mut self) {
        self.level = self.level.max(0.0);
        if self.level + PHI * self.trend < 0.0 {
            self.trend = -self.level / PHI;
        }
        if self.level < 1e-6 && self.trend.abs() < 1e-6 {
            self.level = 0.0;
            self.trend = 0.0;
        }
    }

    /// Learns zeros for the intervals `from..to`, as `observe(j, 0.0, season, 0)` for each would,
    /// with the Holt warm-up steps in a tight loop: a series back after an hour at 10 s intervals
    /// has hundreds to learn.
    pub fn observe_zeros(&mut self, from: u64, to: u64, season: &Season) {
        let mut j = from;
        while j < to {
            // Steps before the one that starts Holt-Winters.
            let plain = if season.len > 0 { (2 * season.len - 1).saturating_sub(self.n) } else { u64::MAX };
            if self.holt_winters || self.n < 2 || plain == 0 {
                self.observe(j, 0.0, season, 0);
                j += 1;
                continue;
            }
            let m = (to - j).min(plain);
            let p = self.params;
            for _ in 0..m {
                if self.level == 0.0 && self.trend == 0.0 {
                    break; // zeros learnt from zero stay zero
                }
                let level = (1.0 - p.alpha) * (self.level + PHI * self.trend);
                self.trend = p.beta * (level - self.level) + (1.0 - p.beta) * PHI * self.trend;
                self.level = level;
                self.settle();
            }
            // Zeros add nothing to the warm-up sums; the ring takes the last (at most) HISTORY.
            for k in m.saturating_sub(HISTORY as u64)..m {
                self.store[((self.n + k) % HISTORY as u64) as usize] = 0.0;
            }
            self.n += m;
            j += m;
            self.last = j - 1;
        }
    }

    /// Classical initialisation from two full seasons: trend from the change of the seasons'
    /// means, seasonal indices from each slot's mean against its season's mean, less the trend's
    /// part (a slot late in the season would otherwise take the trend for seasonality).
    /// `start` is the first warm-up interval.
    fn start_holt_winters(&mut self, start: u64, season: &Season) {
        let (len, slots) = (season.len as f32, season.slots);
        let seasonal = &mut self.store[HISTORY..];
        let m0 = seasonal[..slots].iter().sum::<f32>() / len;
        let m1 = seasonal[slots..].iter().sum::<f32>() / len;
        self.trend = (m1 - m0) / len;
        // Mean position within the season of each slot's intervals, from the season's middle.
        let mut pos = [0.0f32; MAX_SLOTS];
        for j in 0..season.len {
            pos[season.slot(start + j)] += j as f32;
        }
        for i in 0..slots {
            let c = season.counts[i].max(1) as f32;
            let offset = self.trend * (pos[i] / c - (len - 1.0) / 2.0);
            seasonal[i] = ((seasonal[i] / c - m0) + (seasonal[slots + i] / c - m1)) / 2.0 - offset;
            seasonal[slots + i] = 0.0;
        }
        // The second season's mean is its level half a season ago.
        self.level = m1 + self.trend * (len - 1.0) / 2.0;
        self.holt_winters = true;
    }

    /// The recent history oldest first, with the interval number of the first value.
    fn history(&self) -> ([f32; HISTORY], u64) {
        let mut h = [0.0; HISTORY];
        let start = self.n % HISTORY as u64;
        for (i, v) in h.iter_mut().enumerate() {
            *v = self.store[((start + i as u64) % HISTORY as u64) as usize];
        }
        (h, self.last + 1 - HISTORY as u64)
    }

    /// Grid search over the parameters, replaying the recent history from a state taken from the
    /// current model (its trend and seasonal indices); keeps the current state, swaps parameters.
    fn refit(&mut self, season: &Season) {
        let (h, first) = self.history();
        if h.iter().all(|&v| v == h[0]) {
            return; // a flat series fits every parameter equally
        }
        if h.iter().filter(|&&v| v != 0.0).count() < HISTORY / 4 {
            return; // a few flows among zeros cannot tell parameters apart, and sparse series abound
        }
        let mut best = (f32::INFINITY, self.params);
        if self.holt_winters {
            let mut s = [0.0f32; MAX_SLOTS];
            for &alpha in &ALPHAS {
                for &beta in &BETAS {
                    for &gamma in &GAMMAS {
                        s[..season.slots].copy_from_slice(&self.store[HISTORY..HISTORY + season.slots]);
                        let p = Params { alpha, beta, gamma };
                        let sse = replay_hw(&h, first, self.trend, &mut s[..season.slots], season, p);
                        if sse < best.0 {
                            best = (sse, p);
                        }
                    }
                }
            }
        } else {
            for &alpha in &ALPHAS {
                for &beta in &BETAS {
                    let p = Params { alpha, beta, gamma: self.params.gamma };
                    let sse = replay_holt(&h, p);
                    if sse < best.0 {
                        best = (sse, p);
                    }
                }
            }
        }
        self.params = best.1;
    }
}

/// One-step-ahead squared error of Holt's linear smoothing over `h`.
fn replay_holt(h: &[f32], p: Params) -> f32 {
    let (mut level, mut trend, mut sse) = (h[0], 0.0f32, 0.0f32);
    for &x in &h[1..] {
        let e = x - (level + PHI * trend);
        sse += e * e;
        let l = (p.alpha * x + (1.0 - p.alpha) * (level + PHI * trend)).max(0.0);
        trend = (p.beta * (l - level) + (1.0 - p.beta) * PHI * trend).max(-l / PHI);
        level = l;
    }
    sse
}

fn replay_hw(h: &[f32], first: u64, trend0: f32, s: &mut [f32], season: &Season, p: Params) -> f32 {
    let mut trend = trend0;
    let mut level = h[0] - s[season.slot(first)];
    let mut sse = 0.0f32;
    for (i, &x) in h.iter().enumerate().skip(1) {
        let slot = season.slot(first + i as u64);
        let e = x - (level + PHI * trend + s[slot]);
        sse += e * e;
        let l = (p.alpha * (x - s[slot]) + (1.0 - p.alpha) * (level + PHI * trend)).max(0.0);
        trend = (p.beta * (l - level) + (1.0 - p.beta) * PHI * trend).max(-l / PHI);
        s[slot] = p.gamma * (x - l) + (1.0 - p.gamma) * s[slot];
        level = l;
    }
    sse
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(values: &[f32], season: &Season) -> (Forecaster, Vec<Option<f32>>) {
        let mut f = Forecaster::new(Params::default());
        let mut out = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            out.push(f.forecast(1000 + i as u64, season));
            f.observe(1000 + i as u64, v, season, 32);
        }
        (f, out)
    }

    #[test]
    fn season_slots_cover_every_interval() {
        let s = Season::new(100, 48);
        assert_eq!(s.slots, 48);
        assert_eq!(s.counts.iter().sum::<u32>(), 100);
        let short = Season::new(12, 48);
        assert_eq!(short.slots, 12);
        assert!(short.counts.iter().all(|&c| c == 1));
    }

    #[test]
    fn level_series_is_forecast_exactly() {
        let (_, fc) = run(&[7.0; 50], &Season::new(0, 48));
        assert_eq!(fc[0], None);
        assert!(fc[1..].iter().all(|f| (f.unwrap() - 7.0).abs() < 1e-4));
    }

    #[test]
    fn holt_winters_learns_trend_and_season() {
        let season = Season::new(12, 48);
        let pattern = [0.0, 5.0, 10.0, 20.0, 30.0, 40.0, 35.0, 25.0, 15.0, 10.0, 5.0, 2.0];
        let values: Vec<f32> = (0..120).map(|i| 100.0 + 0.5 * i as f32 + pattern[(1000 + i) % 12]).collect();
        let (f, fc) = run(&values, &season);
        assert!(f.is_holt_winters());
        for i in 24..120 {
            let err = (fc[i].unwrap() - values[i]).abs();
            assert!(err < 2.0, "interval {i}: forecast {:?} for {}", fc[i], values[i]);
        }
    }

    #[test]
    fn zeros_in_a_run_are_learnt_as_one_by_one() {
        for season in [Season::new(0, 48), Season::new(12, 48)] {
            let mut one = Forecaster::new(Params::default());
            let mut run = Forecaster::new(Params::default());
            let mut i = 1000u64;
            for (v, gap) in [(5.0, 0u64), (9.0, 3), (4.0, 7), (12.0, 1), (30.0, 40), (2.0, 5), (8.0, 2)] {
                for j in i..i + gap {
                    one.observe(j, 0.0, &season, 0);
                }
                run.observe_zeros(i, i + gap, &season);
                i += gap;
                one.observe(i, v, &season, 32);
                run.observe(i, v, &season, 32);
                i += 1;
                assert_eq!(one.forecast(i, &season), run.forecast(i, &season), "season {}", season.len);
                if one.observations() >= 2 {
                    assert_eq!(one.history(), run.history());
                }
            }
        }
    }

    #[test]
    fn the_trend_after_a_burst_does_not_dig_below_zero() {
        let season = Season::new(0, 48);
        let mut f = Forecaster::new(Params::default());
        for (i, v) in [0.0, 2000.0, 3000.0, 100.0, 0.0].into_iter().enumerate() {
            f.observe(i as u64, v, &season, 0);
        }
        assert!(f.trend >= -f.level);
        // What the estimator does once every interval alerts: learn values clipped to 5 × forecast.
        for i in 5..20 {
            let fc = f.forecast(i, &season).unwrap().max(5.0);
            f.observe(i, 50.0f32.min(5.0 * fc), &season, 0);
        }
        let fc = f.forecast(20, &season).unwrap();
        assert!(fc > 25.0 && fc < 55.0, "{fc}");
    }

    #[test]
    fn refit_picks_parameters_that_track_a_random_walk() {
        let season = Season::new(0, 48);
        // Steps that persist: a high alpha predicts them best.
        let values: Vec<f32> = (0..64).map(|i| if (i / 4) % 2 == 0 { 10.0 } else { 50.0 }).collect();
        let (f, _) = run(&values, &season);
        assert!(f.params().alpha >= 0.6, "{:?}", f.params());
    }
}
