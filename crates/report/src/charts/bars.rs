//! Horizontal bar charts: flows per rule, bytes per talker, anomalous flows per offender.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, ANOMALOUS, GRID, NORMAL};
use super::{err, Figure, Plan};
use crate::data::Summary;

/// Most bars in one chart; the page's tables list the rest.
const MAX_BARS: usize = 15;

pub(crate) struct Bars {
    title: String,
    x_desc: &'static str,
    colour: RGBColor,
    /// Top to bottom: label, value, the text printed at the bar's end.
    rows: Vec<(String, f64, String)>,
    x_fmt: fn(f64) -> String,
}

pub(crate) fn rules(s: &Summary) -> Plan<Bars> {
    let fired: Vec<_> = s.rules.iter().filter(|r| r.flows > 0).take(MAX_BARS).collect();
    if fired.is_empty() {
        return Plan::Skip(if s.rules.is_empty() {
            "no rules were enabled".into()
        } else {
            "no rule fired on any flow row".into()
        });
    }
    let rows = fired
        .iter()
        .map(|r| {
            let share = if s.flows > 0 { r.flows as f64 / s.flows as f64 } else { r.share };
            (r.rule.clone(), share * 100.0, format!("{} flow rows ({:.1} %)", style::thousands(r.flows), share * 100.0))
        })
        .collect();
    Plan::Draw {
        caption: "Share of all flow rows each rule fired on (a row can match several rules).".into(),
        figure: Bars {
            title: "Flow rows per rule".into(),
            x_desc: "share of flow rows (%)",
            colour: ANOMALOUS,
            rows,
            x_fmt: |v| format!("{v:.0} %"),
        },
    }
}

pub(crate) fn talkers(s: &Summary) -> Plan<Bars> {
    let rows: Vec<_> = s
        .top_talkers
        .iter()
        .filter(|h| h.bytes > 0)
        .take(MAX_BARS)
        .map(|h| {
            (
                h.host.clone(),
                h.bytes as f64,
                format!("{} in {} flow rows", style::bytes(h.bytes as f64), style::thousands(h.flows)),
            )
        })
        .collect();
    if rows.is_empty() {
        return Plan::Skip("no host sent any bytes".into());
    }
    Plan::Draw {
        caption: "Hosts that sent the most bytes (as the source of a flow row).".into(),
        figure: Bars {
            title: "Top talkers: bytes sent".into(),
            x_desc: "bytes sent",
            colour: NORMAL,
            rows,
            x_fmt: style::bytes,
        },
    }
}

pub(crate) fn offenders(s: &Summary) -> Plan<Bars> {
    let rows: Vec<_> = s
        .top_offenders
        .iter()
        .filter(|h| h.anomalous_flows > 0)
        .take(MAX_BARS)
        .map(|h| {
            let top = h.rules.first().map(|r| format!(", mostly {}", style::clip(&r.name, 24))).unwrap_or_default();
            (h.host.clone(), h.anomalous_flows as f64, format!("{}{top}", style::thousands(h.anomalous_flows)))
        })
        .collect();
    if rows.is_empty() {
        return Plan::Skip("no flow row is anomalous, so there are no offenders".into());
    }
    Plan::Draw {
        caption: "Source hosts with the most anomalous flow rows, and the rule that fired most on each.".into(),
        figure: Bars {
            title: "Top offenders: anomalous flow rows".into(),
            x_desc: "anomalous flow rows",
            colour: ANOMALOUS,
            rows,
            x_fmt: |v| style::si(v),
        },
    }
}

impl Figure for Bars {
    fn size(&self) -> (u32, u32) {
        (style::SIZE.0, (130 + 34 * self.rows.len() as u32).max(240))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let n = self.rows.len();
        let labels: Vec<String> = self.rows.iter().map(|r| style::clip(&r.0, 32)).collect();
        let max = self.rows.iter().map(|r| r.1).fold(0.0, f64::max);
        // Room on the right for the value text printed after the longest bar.
        let xmax = if max > 0.0 { max * 1.45 } else { 1.0 };
        let mut chart = ChartBuilder::on(root)
            .caption(self.title.as_str(), style::title())
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(style::label_area(&labels))
            // Row bands centred on whole numbers (plotters' segmented axis breaks for a single row).
            .build_cartesian_2d(0.0..xmax, -0.5..n as f64 - 0.5)
            .map_err(err)?;
        // Row i of the table is drawn at band n-1-i, so the first row is on top.
        let band = |i: usize| (n - 1 - i) as f64;
        let fmt = self.x_fmt;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_desc(self.x_desc)
            .axis_desc_style(style::label())
            .label_style(style::label())
            .x_labels(6)
            .x_label_formatter(&|v| fmt(*v))
            .y_labels(n)
            .y_label_formatter(&|v| {
                let b = v.round();
                if (v - b).abs() < 1e-6 && b >= 0.0 && (b as usize) < n {
                    labels[n - 1 - b as usize].clone()
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(err)?;
        let c = self.colour;
        chart
            .draw_series(
                self.rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| Rectangle::new([(0.0, band(i) - 0.34), (r.1, band(i) + 0.34)], c.filled())),
            )
            .map_err(err)?;
        chart
            .draw_series(self.rows.iter().enumerate().map(|(i, r)| {
                EmptyElement::at((r.1, band(i)))
                    + Text::new(r.2.clone(), (6, 0), style::small().pos(Pos::new(HPos::Left, VPos::Center)))
            }))
            .map_err(err)?;
        Ok(())
    }
}
