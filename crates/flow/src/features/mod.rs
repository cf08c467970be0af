//! Per-flow features, one module per Tranalyzer2 plugin, in Tranalyzer2's column order.
//!
//! Each module has `COLUMNS` and a `write` that emits one row's values in that order. The per-packet
//! updates live in the state types the record embeds. A new plugin adds its state to
//! [`FlowRecord`](crate::FlowRecord), its columns to [`COLUMN_GROUPS`] and its writer to
//! [`write_row`].

pub mod arp_decode;
pub mod basic_flow;
pub mod basic_stats;
pub mod conn_stat;
pub mod first_payload;
pub mod icmp_decode;
pub mod mac_ip;
pub mod mac_recorder;
pub mod port_classifier;
pub mod tcp_flags;
pub mod tcp_states;

use crate::record::FlowRecord;
use crate::schema::{Column, ValueSink};

/// Column groups in output order, named after the Tranalyzer2 plugin that defines them.
pub const COLUMN_GROUPS: &[(&str, &[Column])] = &[
    ("basicFlow", basic_flow::COLUMNS),
    ("macRecorder", mac_recorder::COLUMNS),
    ("portClassifier", port_classifier::COLUMNS),
    ("basicStats", basic_stats::COLUMNS),
    ("tcpFlags", tcp_flags::COLUMNS),
    ("tcpStates", tcp_states::COLUMNS),
    ("icmpDecode", icmp_decode::COLUMNS),
    ("arpDecode", arp_decode::COLUMNS),
    ("connStat", conn_stat::COLUMNS),
    // netanom's own columns come after every Tranalyzer2 plugin's.
    ("netanomPayload", first_payload::COLUMNS),
    ("netanomMacIp", mac_ip::COLUMNS),
];

/// All flow columns in output order.
pub fn columns() -> impl Iterator<Item = &'static Column> {
    COLUMN_GROUPS.iter().flat_map(|(_, c)| c.iter())
}

/// Writes one row: `rec` is the row's direction, `opp` the other direction if it was seen.
pub fn write_row(rec: &FlowRecord, opp: Option<&FlowRecord>, w: &mut dyn ValueSink) {
    basic_flow::write(rec, w);
    mac_recorder::write(rec, w);
    port_classifier::write(rec, w);
    basic_stats::write(rec, opp, w);
    tcp_flags::write(rec, opp, w);
    tcp_states::write(rec, w);
    icmp_decode::write(rec, opp, w);
    arp_decode::write(rec, w);
    conn_stat::write(rec, w);
    first_payload::write(rec, w);
    mac_ip::write(rec, w);
}
