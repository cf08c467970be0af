//! Measures how well a Tranalyzer2-compatible flow table agrees with Tranalyzer2 0.9.3's own
//! output (`shared/golden/t2-0.9.3`) and with nDPI's per-flow packet counts.
//!
//! The rules follow golden/README.md, "How to compare a tool against these files"; see also
//! docs/compatibility.md.

pub mod columns;
pub mod compare;
pub mod diff;
pub mod error;
pub mod index;
pub mod join;
pub mod ndpi;
pub mod oracle;
pub mod run;
pub mod runner;
pub mod summary;
pub mod table;

pub use diff::{diff_tables, DiffOptions, DiffReport};
pub use error::{Error, Result};
pub use index::Shared;
pub use oracle::{run_oracle, OracleSummary};
pub use run::{run, RunOptions, Summary};
pub use table::Table;
