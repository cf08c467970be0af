//! The flow table: packets in, Tranalyzer2-style flow records out.
//!
//! [`FlowMeter`] follows Tranalyzer2 0.9.3's flow model (reference §3.3): one record per direction,
//! the two directions of a conversation sharing `flowInd`; its direction rule; an idle timeout and
//! per-TCP-state timeouts driven by packet time; a pair leaves the table when both directions have
//! expired; a bounded table whose evictions are flagged and counted. Ended flows are handed to a
//! [`FlowSink`] in termination order, A row before B row.
//!
//! ```
//! use netanom_flow::{FlowMeter, MeterConfig, FlowRecord, FlowSink};
//! struct Count(usize);
//! impl FlowSink for Count {
//!     fn flow(&mut self, _a: &FlowRecord, b: Option<&FlowRecord>) { self.0 += 1 + b.is_some() as usize; }
//! }
//! let mut meter = FlowMeter::new(MeterConfig::default());
//! let mut rows = Count(0);
//! // for each dissected packet: meter.packet(ts_ns, &info, &mut rows);
//! meter.finish(&mut rows);
//! assert_eq!(rows.0, 0);
//! ```

pub mod features;
mod key;
pub mod labels;
mod meter;
mod record;
pub mod schema;
mod tcp_state;
pub mod textfmt;

pub use key::{shown_ports, FlowKey, FragKey};
pub use meter::{EndReason, Ending, FlowMeter, FlowSink, MeterConfig, MeterCounters};
pub use record::FlowRecord;
pub use tcp_state::{ConnState, TcpState};

/// The Tranalyzer2 version whose output format and semantics the flow table imitates.
pub const T2_VERSION: &str = "0.9.3";
