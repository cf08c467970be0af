//! KNN test error rate against k (the seed's figure), the best k marked.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, ANOMALOUS, GRID, NORMAL};
use super::{err, Figure, Plan};
use crate::data::{Stage, Summary};

pub(crate) struct ErrorRate {
    points: Vec<(f64, f64)>,
    best: Option<(f64, f64)>,
}

pub(crate) fn plan(s: &Summary) -> Plan<ErrorRate> {
    let knn = match &s.knn {
        Stage::Skipped { reason } => return Plan::Skip(format!("KNN did not run: {reason}")),
        Stage::Done(k) => k,
    };
    let points: Vec<(f64, f64)> =
        knn.k.iter().zip(&knn.error_rate).filter(|(_, e)| e.is_finite()).map(|(&k, &e)| (f64::from(k), e)).collect();
    if points.is_empty() {
        return Plan::Skip("the k sweep has no error rates".into());
    }
    let best = points.iter().copied().find(|&(k, _)| k == f64::from(knn.best_k));
    let caption = match best {
        Some((k, e)) => {
            format!("KNN test error rate for each k of the sweep; k = {k} has the lowest ({:.2} %).", e * 100.0)
        }
        None => "KNN test error rate for each k of the sweep.".to_string(),
    };
    Plan::Draw { caption, figure: ErrorRate { points, best } }
}

impl Figure for ErrorRate {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (kmin, kmax) = self.points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let emax = self.points.iter().map(|p| p.1).fold(0.0, f64::max);
        // Headroom for the legend above the curve.
        let ytop = if emax > 0.0 { emax * 1.35 } else { 0.01 };
        let mut chart = ChartBuilder::on(root)
            .caption("KNN: test error rate against k", style::title())
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(kmin - 0.5..kmax + 0.5, 0.0..ytop)
            .map_err(err)?;
        let span = kmax - kmin;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(GRID)
            .x_desc("k (neighbours)")
            .y_desc("test error rate")
            .axis_desc_style(style::label())
            .label_style(style::small())
            .x_labels((span as usize + 1).min(20))
            .x_label_formatter(&|v| if v.fract().abs() < 1e-9 { format!("{v:.0}") } else { String::new() })
            .y_label_formatter(&|v| format!("{:.1} %", v * 100.0))
            .draw()
            .map_err(err)?;
        chart.draw_series(self.points.iter().map(|&p| Circle::new(p, 4, NORMAL.filled()))).map_err(err)?;
        chart
            .draw_series(LineSeries::new(self.points.iter().copied(), NORMAL.stroke_width(2)))
            .map_err(err)?
            .label("test error rate")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], NORMAL.stroke_width(2)));
        if let Some((k, e)) = self.best {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(k, 0.0), (k, ytop)],
                    ANOMALOUS.mix(0.6).stroke_width(1),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Circle::new((k, e), 7, ANOMALOUS.filled())))
                .map_err(err)?
                .label(format!("best k = {k:.0}: {:.2} % test error", e * 100.0))
                .legend(|(x, y)| Circle::new((x + 8, y), 6, ANOMALOUS.filled()));
        }
        // The legend goes to the upper corner above the lower half of the curve.
        let mid = (kmin + kmax) / 2.0;
        let top_left = self.points.iter().filter(|p| p.0 <= mid).map(|p| p.1).fold(0.0, f64::max);
        let top_right = self.points.iter().filter(|p| p.0 > mid).map(|p| p.1).fold(0.0, f64::max);
        let corner =
            if top_left <= top_right { SeriesLabelPosition::UpperLeft } else { SeriesLabelPosition::UpperRight };
        chart
            .configure_series_labels()
            .position(corner)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(style::label())
            .draw()
            .map_err(err)?;
        Ok(())
    }
}
