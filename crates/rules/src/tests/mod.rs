//! End-to-end tests through the public API.

mod evaluate;
mod fuzz;
mod loader;

use crate::{ColumnKind, ColumnSpec};

/// A slice of the Tranalyzer2 columns the rules are written against.
pub(crate) fn schema() -> Vec<ColumnSpec> {
    use ColumnKind::*;
    [
        ("tcpFlags", Int),
        ("tcpAnomaly", Int),
        ("flowStat", Int),
        ("connSipDprt", Int),
        ("pktsSnt", Int),
        ("pktsRcvd", Int),
        ("l4Proto", Int),
        ("dstPort", Int),
        ("dstPortClass", Str),
        ("firstPayload", Str),
        ("hdrDesc", Str),
        ("srcIP", Str),
        ("avgL7PktSz", Float),
        ("dir", Str),
        ("tcpMSS", Int),
    ]
    .into_iter()
    .map(|(n, k)| ColumnSpec::new(n, k))
    .collect()
}

/// Index of a column in [`schema`].
pub(crate) fn col(name: &str) -> usize {
    schema().iter().position(|c| c.name == name).unwrap_or_else(|| panic!("no column {name}"))
}
