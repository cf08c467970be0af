//! `netanom watch`: streaming detection. Packets come from a live interface (libpcap, cargo
//! feature `live`) or a capture replayed in (scaled) real time; they are dissected and metered
//! exactly as offline (`netanom flows`), flows end when their timeouts pass on the wall clock even
//! when no packet arrives, and every ended flow goes through the rules, an optional saved model
//! and the traffic baselines; what they flag is written as one JSON line per alert at once.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use netanom_engine::labels::{Labeller, LABEL_COLUMNS};
//! use netanom_watch::{watch, Detector, ReplaySource};
//! let mut columns: Vec<_> = netanom_flow::features::columns().copied().collect();
//! let observer = netanom_engine::observe::Observer::shared();
//! let labeller = Labeller::defaults_with(None, &columns).unwrap().with_observer(observer.clone());
//! columns.extend_from_slice(LABEL_COLUMNS);
//! let mut det = Detector::new(labeller, None, None, Box::new(std::io::stdout()), None, &columns);
//! let mut src = ReplaySource::open("capture.pcap".as_ref(), 10.0).unwrap();
//! let stop = AtomicBool::new(false);
//! let report = watch(&mut src, Default::default(), Some(observer), &mut det, &stop,
//!                    std::time::Duration::from_secs(5), &mut |s| eprintln!("{}", s.to_line()));
//! eprint!("{}", report.run.to_text());
//! ```
//!
//! docs/watch.md describes the command, the alert format and the measurements.

pub mod alert;
mod detector;
#[cfg(feature = "live")]
pub mod live;
mod pipeline;
pub mod rotate;
pub mod row;
pub mod score;
pub mod source;

pub use detector::{Detector, DetectorCounts};
pub use pipeline::{rss_bytes, watch, Status, StopReason, WatchReport};
pub use source::{Frame, Next, PacketSource, ReplaySource, SourceError, SourceStats};
