//! The dissector: link layer → tunnels → innermost IP → transport header.

use crate::info::{PacketInfo, SkipReason};

/// Dissects one frame of link type `linktype` (LINKTYPE_* value) into `info`.
///
/// Returns `Err(reason)` when the packet cannot become part of any flow (unsupported link type,
/// too short for its link layer). Damaged packets that still identify a flow return `Ok` with the
/// damage in `info.flow_stat` (snapped bits, bogus IP…). Never panics, whatever the bytes.
pub fn dissect(linktype: u32, frame: &[u8], orig_len: u32, info: &mut PacketInfo) -> Result<(), SkipReason> {
    info.clear();
    info.wire_len = orig_len;
    info.cap_len = frame.len() as u32;
    let _ = linktype;
    Err(SkipReason::UnsupportedLinkType)
}
