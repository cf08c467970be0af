//! The charts: each is drawn once onto an SVG backend and once onto a bitmap (PNG), from the same
//! drawing code. A chart whose data is missing or empty is not drawn; it is listed with the reason
//! instead, so the page can say why.

mod bars;
mod baseline;
mod clusters;
mod knn;
mod style;
pub mod time;

pub(crate) use style::thousands;
mod timeline;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::data::Summary;

/// One drawn chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// File stem and `data-chart` name, e.g. `error_rate_vs_k`.
    pub name: String,
    /// One line saying what the chart shows, for the page's caption.
    pub caption: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// A chart that was not drawn, and why (for the page).
#[derive(Clone, Debug, PartialEq)]
pub struct Omitted {
    pub name: String,
    pub reason: String,
}

/// Every chart of a summary: the drawn ones in page order, and the omitted ones.
#[derive(Clone, Debug, Default)]
pub struct Charts {
    pub drawn: Vec<Chart>,
    pub omitted: Vec<Omitted>,
}

impl Charts {
    pub fn get(&self, name: &str) -> Option<&Chart> {
        self.drawn.iter().find(|c| c.name == name)
    }

    pub fn omitted(&self, name: &str) -> Option<&Omitted> {
        self.omitted.iter().find(|c| c.name == name)
    }
}

/// A chart that could not be drawn although it had data (a plotting or encoding failure).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw chart {chart}: {reason}")]
pub struct ChartError {
    pub chart: String,
    pub reason: String,
}

/// What a chart module plans: draw this figure, or skip the chart with a reason.
pub(crate) enum Plan<F> {
    Draw { caption: String, figure: F },
    Skip(String),
}

/// A chart's drawing code, run once per backend.
pub(crate) trait Figure {
    /// Pixel size of the chart.
    fn size(&self) -> (u32, u32) {
        style::SIZE
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Every name a chart can have, in page order.
pub const NAMES: [&str; 10] = [
    "error_rate_vs_k",
    "clusters_by_cluster",
    "clusters_by_label",
    "rules",
    "timeline",
    "top_talkers",
    "top_offenders",
    "baseline_1",
    "baseline_2",
    "baseline_3",
];

/// Draws every chart the summary has data for.
pub fn build(s: &Summary) -> Result<Charts, ChartError> {
    let mut out = Charts::default();
    add(&mut out, "error_rate_vs_k", knn::plan(s))?;
    add(&mut out, "clusters_by_cluster", clusters::plan(s, clusters::Colouring::Cluster))?;
    add(&mut out, "clusters_by_label", clusters::plan(s, clusters::Colouring::Label))?;
    add(&mut out, "rules", bars::rules(s))?;
    add(&mut out, "timeline", timeline::plan(s))?;
    add(&mut out, "top_talkers", bars::talkers(s))?;
    add(&mut out, "top_offenders", bars::offenders(s))?;
    for (name, plan) in baseline::plans(s) {
        add(&mut out, &name, plan)?;
    }
    Ok(out)
}

fn add<F: Figure>(out: &mut Charts, name: &str, plan: Plan<F>) -> Result<(), ChartError> {
    match plan {
        Plan::Skip(reason) => out.omitted.push(Omitted { name: name.to_string(), reason }),
        Plan::Draw { caption, figure } => {
            let (svg, png) = render(&figure).map_err(|reason| ChartError { chart: name.to_string(), reason })?;
            out.drawn.push(Chart { name: name.to_string(), caption, svg, png });
        }
    }
    Ok(())
}

/// Draws a figure as SVG text and as PNG bytes.
pub(crate) fn render<F: Figure>(figure: &F) -> Result<(String, Vec<u8>), String> {
    crate::font::register()?;
    let size = figure.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        figure.draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        figure.draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok((svg, encode_png(&rgb, size)?))
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| format!("PNG encoding failed: {e}"))?;
    writer.write_image_data(rgb).map_err(|e| format!("PNG encoding failed: {e}"))?;
    writer.finish().map_err(|e| format!("PNG encoding failed: {e}"))?;
    Ok(out)
}

/// Plotters' errors, as text (they are generic over the backend).
pub(crate) fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests;
