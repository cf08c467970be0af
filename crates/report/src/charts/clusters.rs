//! The KMeans points on their first two principal components, coloured by cluster or by rule
//! label.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, ANOMALOUS, GRID, NORMAL};
use super::{err, Figure, Plan};
use crate::data::{Point, Stage, Summary};

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Colouring {
    Cluster,
    Label,
}

/// Legend text, colour, points.
type Group = (String, RGBColor, Vec<(f64, f64)>);

pub(crate) struct Scatter {
    title: &'static str,
    /// Groups drawn in order (later ones on top).
    groups: Vec<Group>,
    x_desc: String,
    y_desc: String,
    x: (f64, f64),
    y: (f64, f64),
}

pub(crate) fn plan(s: &Summary, colouring: Colouring) -> Plan<Scatter> {
    let km = match &s.kmeans {
        Stage::Skipped { reason } => return Plan::Skip(format!("KMeans did not run: {reason}")),
        Stage::Done(k) => k,
    };
    let pts: Vec<&Point> = km.points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()).collect();
    if pts.is_empty() {
        return Plan::Skip("KMeans has no points to draw".into());
    }
    let xy = |p: &&Point| (f64::from(p.x), f64::from(p.y));
    let groups = match colouring {
        Colouring::Cluster => {
            let n = pts.iter().map(|p| p.cluster as usize + 1).max().unwrap_or(0).max(km.names.len());
            (0..n)
                .map(|c| {
                    let name = km.names.get(c).cloned().unwrap_or_else(|| format!("cluster {c}"));
                    let members: Vec<_> = pts.iter().filter(|p| p.cluster as usize == c).map(xy).collect();
                    (format!("{} ({})", style::clip(&name, 28), members.len()), style::colour(c), members)
                })
                .filter(|g| !g.2.is_empty())
                .collect()
        }
        Colouring::Label => [(0u8, "normal", NORMAL), (1, "anomalous", ANOMALOUS)]
            .into_iter()
            .map(|(l, name, c)| {
                let members: Vec<_> = pts.iter().filter(|p| (p.label != 0) == (l != 0)).map(xy).collect();
                (format!("{name} ({})", members.len()), c, members)
            })
            .filter(|g| !g.2.is_empty())
            .collect(),
    };
    let (mut x, mut y) = ((f64::MAX, f64::MIN), (f64::MAX, f64::MIN));
    for p in pts.iter().map(xy) {
        x = (x.0.min(p.0), x.1.max(p.0));
        y = (y.0.min(p.1), y.1.max(p.1));
    }
    let share = |v: f64| if v.is_finite() { format!(" ({:.1} % of variance)", v * 100.0) } else { String::new() };
    let sample = if (pts.len() as u64) < km.sizes.iter().sum::<u64>() { " (a sample)" } else { "" };
    let (title, caption) = match colouring {
        Colouring::Cluster => (
            "KMeans clusters on the first two principal components",
            format!("{} flow rows{sample} on the PCA plane, coloured by KMeans cluster (k = {}).", pts.len(), km.k),
        ),
        Colouring::Label => (
            "Rule labels on the first two principal components",
            format!("The same {} points coloured by the rules' label: normal or anomalous.", pts.len()),
        ),
    };
    Plan::Draw {
        caption,
        figure: Scatter {
            title,
            groups,
            x_desc: format!("PC1{}", share(km.explained_variance[0])),
            y_desc: format!("PC2{}", share(km.explained_variance[1])),
            x: style::pad(x.0, x.1, 0.05),
            y: style::pad(y.0, y.1, 0.05),
        },
    }
}

impl Figure for Scatter {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, style::title())
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(GRID)
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .axis_desc_style(style::label())
            .label_style(style::small())
            .x_label_formatter(&|v| style::si(round(*v)))
            .y_label_formatter(&|v| style::si(round(*v)))
            .draw()
            .map_err(err)?;
        for (name, colour, points) in &self.groups {
            let c = *colour;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, c.mix(0.55).filled())))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, c.filled()));
        }
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

/// Tick values as plotters computes them carry float noise (0.30000000000000004).
fn round(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}
