//! Traffic baselines: interval time series per key (a host as source, as destination, a host's
//! destination port, the whole network), a forecast per series and measure, and an alert when
//! |observed − forecast| / forecast exceeds a threshold (4 by default, the seed's value).
//!
//! ```
//! use netanom_baseline::{Baseline, BaselineConfig, FlowObs};
//! let mut b = Baseline::new(BaselineConfig { season_ns: 0, ..BaselineConfig::default() });
//! let flow = FlowObs { at_ns: 5_000_000_000, ip: true, src: [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
//!                      dst: [10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], proto: 6, dst_port: 80,
//!                      packets: 10, bytes: 1000, ..FlowObs::default() };
//! b.observe_flow(&flow);
//! let alerts = b.advance_to(3_600_000_000_000);
//! assert!(alerts.is_empty());
//! let _late = b.flush();
//! ```
//!
//! The model, its defaults and their reasons are in docs/baseline.md.

mod distinct;
mod estimator;
pub mod model;
mod series;
mod sink;

pub use estimator::{Alert, Baseline, BaselineConfig, Counters, TracePoint};
pub use model::{Forecaster, Params, Season};
pub use series::{FlowObs, Kind, Measure, SeriesKey};
pub use sink::{AlertFn, BaselineSink, Labeller};
