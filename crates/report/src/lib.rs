//! The `netanom analyze` report: charts drawn by the project (SVG and PNG, embedded font, no
//! browser or Python needed) and one self-contained HTML page, from a [`Summary`].

pub mod data;

pub use data::*;

/// Files the report wrote.
pub struct ReportFiles {
    pub files: Vec<std::path::PathBuf>,
}

impl ReportFiles {
    pub fn paths(&self) -> Vec<std::path::PathBuf> {
        self.files.clone()
    }
}

/// TEMPORARY: replaced by the report helper's implementation.
pub fn write_report(dir: &std::path::Path, _s: &Summary) -> std::io::Result<ReportFiles> {
    let p = dir.join("report.html");
    std::fs::write(&p, "<!doctype html><title>netanom</title>")?;
    Ok(ReportFiles { files: vec![p] })
}
