//! The `netanom analyze` report: charts drawn by the project (SVG and PNG, embedded font, no
//! browser or Python needed) and one self-contained HTML page, from a [`Summary`].

pub mod data;

pub use data::*;
