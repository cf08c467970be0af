//! Dissecting packets.
//!
//! `wire` holds typed zero-copy views over byte slices in the style of smoltcp's `wire` module
//! (`Ipv4Packet<&[u8]>` with checked accessors, `check_len()` before any field is read), one protocol
//! per file. [`dissect`] walks a captured frame from its link layer down to the transport header
//! (through VLAN/MPLS/PPPoE and tunnels, as Tranalyzer2 does) and fills a [`PacketInfo`]: a plain,
//! fixed-size record that the flow table consumes. Nothing here allocates.

mod dissect;
pub mod hdrdesc;
pub mod info;
pub mod tcpopt;
pub mod wire;

pub use dissect::{dissect, linktype};
pub use hdrdesc::{HdrDesc, Proto};
pub use info::{flowstat, IpAddrBytes, PacketInfo, SkipReason, L3, PAYLOAD_HEAD};
pub use tcpopt::TcpOpts;
