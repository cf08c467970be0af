//! Traffic baselines: for the series with the most alerts, observed against forecast, the band
//! inside which no alert is raised, and the intervals that alerted.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, ANOMALOUS, GRID, INK, NORMAL};
use super::{err, time, Figure, Plan};
use crate::data::{SeriesHistory, Stage, Summary};

/// Most series drawn (`charts::NAMES` has as many); the page's table lists every one given.
const MAX_CHARTS: usize = 3;
const FORECAST: RGBColor = RGBColor(0x54, 0xa2, 0x4b);

pub(crate) struct Series {
    title: String,
    measure: String,
    start_s: f64,
    interval_s: f64,
    observed: Vec<f64>,
    forecast: Vec<Option<f64>>,
    /// Per interval with a forecast: the band's low and high edge.
    band: Vec<Option<(f64, f64)>>,
    alerts: Vec<usize>,
}

/// One plan per chart: `baseline_1`.. for the top series, or a single `baseline` entry saying why
/// there is none.
pub(crate) fn plans(s: &Summary) -> Vec<(String, Plan<Series>)> {
    let b = match &s.baseline {
        Stage::Skipped { reason } => {
            return vec![("baseline".into(), Plan::Skip(format!("the baseline stage did not run: {reason}")))]
        }
        Stage::Done(b) => b,
    };
    if b.top_series.is_empty() {
        let why = if b.alerts == 0 { "no series alerted" } else { "the summary holds no series history" };
        return vec![("baseline".into(), Plan::Skip(why.into()))];
    }
    if !(b.interval_s.is_finite() && b.interval_s > 0.0) {
        let why = format!("the baseline interval ({} s) is not a positive number", b.interval_s);
        return vec![("baseline".into(), Plan::Skip(why))];
    }
    b.top_series
        .iter()
        .take(MAX_CHARTS)
        .enumerate()
        .map(|(i, h)| (format!("baseline_{}", i + 1), plan_one(h, b.interval_s, b.threshold)))
        .collect()
}

fn plan_one(h: &SeriesHistory, interval_s: f64, threshold: f64) -> Plan<Series> {
    if h.observed.is_empty() {
        return Plan::Skip(format!("the series {} has no intervals", h.key));
    }
    let thr = if threshold.is_finite() && threshold > 0.0 { threshold } else { 0.0 };
    let floor = if h.forecast_floor.is_finite() { h.forecast_floor.max(0.0) } else { 0.0 };
    let band = h
        .forecast
        .iter()
        .map(|f| {
            f.filter(|f| f.is_finite()).map(|f| {
                let base = f.max(floor);
                ((base - thr * base).max(0.0), base + thr * base)
            })
        })
        .collect();
    let alerts: Vec<usize> = h.alerts.iter().map(|&a| a as usize).filter(|&a| a < h.observed.len()).collect();
    let caption = format!(
        "{}{} of {} per {} s interval against its forecast; the shaded band is forecast ± {}× forecast, \
         outside it an interval alerts ({} alerts, at most {:.1}× off).",
        h.measure.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default(),
        h.measure.chars().skip(1).collect::<String>(),
        h.key,
        style::si(interval_s),
        style::si(thr),
        alerts.len(),
        h.max_ratio
    );
    Plan::Draw {
        caption,
        figure: Series {
            title: format!("Baseline: {} of {}", h.measure, style::clip(&h.key, 48)),
            measure: h.measure.clone(),
            start_s: h.start_s,
            interval_s,
            observed: h.observed.iter().map(|v| if v.is_finite() { *v } else { 0.0 }).collect(),
            forecast: h.forecast.clone(),
            band,
            alerts,
        },
    }
}

impl Figure for Series {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let n = self.observed.len();
        let dt = self.interval_s;
        let x = |i: usize| i as f64 * dt;
        let span = x(n.saturating_sub(1)).max(dt);
        let top = self
            .observed
            .iter()
            .copied()
            .chain(self.forecast.iter().flatten().copied().filter(|v| v.is_finite()))
            .chain(self.band.iter().flatten().map(|b| b.1))
            .fold(1.0, f64::max)
            * 1.08;
        let mut chart = ChartBuilder::on(root)
            .caption(self.title.as_str(), style::title())
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..span, 0.0..top)
            .map_err(err)?;
        let start = self.start_s;
        let bytes = self.measure == "bytes";
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_desc("interval start (UTC)")
            .y_desc(self.measure.as_str())
            .axis_desc_style(style::label())
            .label_style(style::small())
            .x_labels(8)
            .x_label_formatter(&|v| time::tick(start + v, span))
            .y_label_formatter(&|v| if bytes { style::bytes(*v) } else { style::si(*v) })
            .draw()
            .map_err(err)?;
        // Alerting intervals: a light column behind everything.
        chart
            .draw_series(self.alerts.iter().map(|&i| {
                Rectangle::new([(x(i) - dt * 0.5, 0.0), (x(i) + dt * 0.5, top)], ANOMALOUS.mix(0.12).filled())
            }))
            .map_err(err)?;
        // The band, one polygon per run of intervals that have a forecast.
        let mut first_run = true;
        for run in runs(&self.band) {
            let mut poly: Vec<(f64, f64)> = run.iter().map(|&(i, (_, hi))| (x(i), hi)).collect();
            poly.extend(run.iter().rev().map(|&(i, (lo, _))| (x(i), lo)));
            let drawn =
                chart.draw_series(std::iter::once(Polygon::new(poly, FORECAST.mix(0.15).filled()))).map_err(err)?;
            if std::mem::take(&mut first_run) {
                drawn
                    .label("no-alert band")
                    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], FORECAST.mix(0.25).filled()));
            }
        }
        chart
            .draw_series(LineSeries::new((0..n).map(|i| (x(i), self.observed[i])), NORMAL.stroke_width(2)))
            .map_err(err)?
            .label("observed")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], NORMAL.stroke_width(2)));
        let mut first_run = true;
        for run in runs(&self.forecast.iter().map(|f| f.filter(|v| v.is_finite())).collect::<Vec<_>>()) {
            let drawn = chart
                .draw_series(LineSeries::new(run.iter().map(|&(i, f)| (x(i), f)), FORECAST.stroke_width(2)))
                .map_err(err)?;
            if std::mem::take(&mut first_run) {
                drawn
                    .label("forecast")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], FORECAST.stroke_width(2)));
            }
        }
        if !self.alerts.is_empty() {
            chart
                .draw_series(self.alerts.iter().map(|&i| Circle::new((x(i), self.observed[i]), 5, ANOMALOUS.filled())))
                .map_err(err)?
                .label("alert")
                .legend(|(x, y)| Circle::new((x + 7, y), 5, ANOMALOUS.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(INK.mix(0.3))
            .label_font(style::label())
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// Runs of consecutive `Some` values, with their indices.
fn runs<T: Copy>(values: &[Option<T>]) -> Vec<Vec<(usize, T)>> {
    let mut out: Vec<Vec<(usize, T)>> = Vec::new();
    let mut open = false;
    for (i, v) in values.iter().enumerate() {
        match (v, open) {
            (Some(v), true) => {
                if let Some(run) = out.last_mut() {
                    run.push((i, *v));
                }
            }
            (Some(v), false) => {
                out.push(vec![(i, *v)]);
                open = true;
            }
            (None, _) => open = false,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_split_at_gaps() {
        let r = runs(&[None, Some(1), Some(2), None, Some(3)]);
        assert_eq!(r, vec![vec![(1, 1), (2, 2)], vec![(4, 3)]]);
    }
}
