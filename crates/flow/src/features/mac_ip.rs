//! macIpConflict (netanom's own column): whether any frame of this flow direction carried an
//! on-link address with a MAC other than the one first seen for it (decided per packet by the
//! engine's observer, see `netanom_engine::observe`): frames relayed or swallowed by an
//! ARP-poisoning man in the middle, forged ARP claims.

use crate::record::FlowRecord;
use crate::schema::{Column, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[Column::new(
    "macIpConflict",
    "U8",
    Kind::UInt,
    "netanom: 1 if a frame carried an on-link IPv4 address with a MAC other than the one first seen for it",
)];

pub fn write(rec: &FlowRecord, w: &mut dyn ValueSink) {
    w.uint(rec.mac_ip_conflict as u64);
}
