//! The `netanom analyze` report: charts drawn by the project (SVG and PNG, embedded font, no
//! browser or Python needed) and one self-contained HTML page, from a [`Summary`].
//!
//! ```no_run
//! let summary = netanom_report::Summary::default();
//! let files = netanom_report::write_report(std::path::Path::new("report"), &summary)?;
//! println!("wrote {}", files.html.display());
//! # Ok::<(), netanom_report::ReportError>(())
//! ```

pub mod browser;
pub mod charts;
pub mod data;
mod font;
mod html;

use std::path::{Path, PathBuf};

pub use data::*;

/// What [`write_report`] wrote.
#[derive(Clone, Debug)]
pub struct ReportFiles {
    /// `report.html`.
    pub html: PathBuf,
    /// Every drawn chart, in page order.
    pub charts: Vec<ChartFiles>,
    /// Charts not drawn, and why (the page says so too).
    pub omitted: Vec<charts::Omitted>,
}

#[derive(Clone, Debug)]
pub struct ChartFiles {
    pub name: String,
    pub svg: PathBuf,
    pub png: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {}: {source} (check that the output folder is writable and the disk has room)", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
}

/// Writes `charts/<name>.svg` and `charts/<name>.png` for every chart that has data, and
/// `report.html` (one self-contained page) into `dir`. Returns what it wrote.
pub fn write_report(dir: &Path, s: &Summary) -> Result<ReportFiles, ReportError> {
    let drawn = charts::build(s)?;
    let chart_dir = dir.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|source| ReportError::Write { path: chart_dir.clone(), source })?;
    let mut files = Vec::with_capacity(drawn.drawn.len());
    for c in &drawn.drawn {
        let svg = chart_dir.join(format!("{}.svg", c.name));
        let png = chart_dir.join(format!("{}.png", c.name));
        write(&svg, c.svg.as_bytes())?;
        write(&png, &c.png)?;
        files.push(ChartFiles { name: c.name.clone(), svg, png });
    }
    // A chart this summary has no data for must not survive from an earlier report in the folder.
    for name in charts::NAMES.iter().filter(|n| drawn.get(n).is_none()) {
        for ext in ["svg", "png"] {
            let old = chart_dir.join(format!("{name}.{ext}"));
            match std::fs::remove_file(&old) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(ReportError::Write { path: old, source: e })
                }
                _ => {}
            }
        }
    }
    let html = dir.join("report.html");
    write(&html, html::page(s, &drawn).as_bytes())?;
    Ok(ReportFiles { html, charts: files, omitted: drawn.omitted })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write { path: path.to_path_buf(), source })
}
