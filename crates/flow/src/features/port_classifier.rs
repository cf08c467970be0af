//! portClassifier: a name for the destination port.

use crate::key::shown_ports;
use crate::labels::ports;
use crate::record::FlowRecord;
use crate::schema::{Column, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[
    Column::new("dstPortClassN", "U16", Kind::UInt, "Port based classification of the destination port number"),
    Column::new("dstPortClass", "SC", Kind::ShortStr, "Port based classification of the destination port name"),
];

/// Classifies the service port: the destination port of the initiating direction, so both rows of
/// a conversation (and a lone reply) name the server's port, as Tranalyzer2 does.
pub fn write(rec: &FlowRecord, w: &mut dyn ValueSink) {
    let k = &rec.key;
    let (src, dst) = shown_ports(k);
    let port = if rec.inverted { src } else { dst };
    w.uint(port as u64);
    w.short_str(ports::name(port, k.l4_proto).unwrap_or("unknown"));
}
