//! The first stage of the pipeline as one library call: capture files (or folders, or stdin) in,
//! ended flows out through a [`FlowSink`](netanom_flow::FlowSink), and a [`RunReport`] of
//! everything read, skipped, damaged and evicted.
//!
//! ```no_run
//! use netanom_engine::{run_flows, FlowJob, Input};
//! use netanom_flow::FlowRecord;
//! let job = FlowJob::new(vec![Input::Path("capture.pcap".into())]);
//! let mut rows = 0usize;
//! let report = run_flows(&job, &mut |_: &FlowRecord, b: Option<&FlowRecord>| rows += 1 + b.is_some() as usize, &mut |_| {}).unwrap();
//! eprintln!("{}", report.to_text());
//! ```

mod feed;
mod inputs;
pub mod labels;
pub mod observe;
mod report;
mod route;
mod rows;
mod run;
mod sharded;

pub use feed::PacketFeed;
pub use inputs::{expand_inputs, Input};
pub use report::{FileReport, RunReport};
pub use rows::{RowFormatter, RowSink};
pub use run::{run_flows, run_flows_rows, EngineError, FlowJob, Progress};
