//! Flow rows per time bucket, normal and anomalous stacked.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, ANOMALOUS, GRID, NORMAL};
use super::{err, time, Figure, Plan};
use crate::data::Summary;

pub(crate) struct Timeline {
    start_s: f64,
    bucket_s: f64,
    /// Per bucket: normal, anomalous.
    counts: Vec<(u64, u64)>,
}

pub(crate) fn plan(s: &Summary) -> Plan<Timeline> {
    let t = &s.timeline;
    let n = t.normal.len().max(t.anomalous.len());
    let counts: Vec<(u64, u64)> =
        (0..n).map(|i| (t.normal.get(i).copied().unwrap_or(0), t.anomalous.get(i).copied().unwrap_or(0))).collect();
    if counts.iter().all(|&(a, b)| a == 0 && b == 0) {
        return Plan::Skip("the timeline has no flow rows".into());
    }
    if !(t.bucket_s.is_finite() && t.bucket_s > 0.0 && t.start_s.is_finite()) {
        return Plan::Skip(format!("the timeline's bucket width ({} s) is not a positive number", t.bucket_s));
    }
    let anomalous: u64 = counts.iter().map(|c| c.1).sum();
    let caption = format!(
        "Flow rows by the time of their first packet, {} s per bar: normal (blue) and anomalous (red, {} in all), stacked; times in UTC.",
        style::si(t.bucket_s),
        anomalous
    );
    Plan::Draw { caption, figure: Timeline { start_s: t.start_s, bucket_s: t.bucket_s, counts } }
}

impl Figure for Timeline {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let span = self.bucket_s * self.counts.len() as f64;
        let top = self.counts.iter().map(|c| c.0 + c.1).max().unwrap_or(1).max(1) as f64 * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption(format!("Flow rows over time, from {}", time::datetime(self.start_s)), style::title())
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..span, 0.0..top)
            .map_err(err)?;
        let start = self.start_s;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_desc("time (UTC)")
            .y_desc("flow rows")
            .axis_desc_style(style::label())
            .label_style(style::small())
            .x_labels(8)
            .x_label_formatter(&|v| time::tick(start + v, span))
            .y_label_formatter(&|v| style::si(*v))
            .draw()
            .map_err(err)?;
        let b = self.bucket_s;
        // Bars a pixel apart when there is room; touching when the buckets are many.
        let gap = if self.counts.len() <= 100 { 1 } else { 0 };
        let bar = |i: usize, lo: u64, hi: u64, c: RGBColor| {
            let x = i as f64 * b;
            let mut r = Rectangle::new([(x, lo as f64), (x + b, hi as f64)], c.filled());
            r.set_margin(0, 0, gap, gap);
            r
        };
        chart
            .draw_series(self.counts.iter().enumerate().filter(|(_, c)| c.0 > 0).map(|(i, c)| bar(i, 0, c.0, NORMAL)))
            .map_err(err)?
            .label("normal")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], NORMAL.filled()));
        chart
            .draw_series(
                self.counts.iter().enumerate().filter(|(_, c)| c.1 > 0).map(|(i, c)| bar(i, c.0, c.0 + c.1, ANOMALOUS)),
            )
            .map_err(err)?
            .label("anomalous")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], ANOMALOUS.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(GRID)
            .label_font(style::label())
            .draw()
            .map_err(err)?;
        Ok(())
    }
}
