//! tcpStates: anomalies of the TCP state machine (`tcpStatesAFlags`, reference §2.6).
//!
//! The connection state itself ([`TcpState`]) is shared by both directions and also drives the
//! per-state timeouts (in the meter); what is per direction are the anomalies this direction's
//! packets showed, accumulated here, and the two "never happened" flags decided when the row is
//! written (no proper handshake, no proper teardown).

use crate::record::FlowRecord;
use crate::schema::{Column, Kind, ValueSink};
use crate::tcp_state::{ConnState, TcpState, ACK, FIN, RST, SYN};

pub const COLUMNS: &[Column] = &[Column::new("tcpStatesAFlags", "H8", Kind::Hex(2), "TCP state machine anomalies")];

pub const MALFORMED_ESTABLISHMENT: u8 = 0x01;
pub const MALFORMED_TEARDOWN: u8 = 0x02;
pub const MALFORMED_FLAGS: u8 = 0x04;
pub const AFTER_TEARDOWN: u8 = 0x08;
pub const AFTER_RESET: u8 = 0x10;
pub const RESET_FROM_SENDER: u8 = 0x40;
pub const SCAN: u8 = 0x80;

/// Flags of one packet of this direction, given the connection state before the packet.
#[inline]
pub fn on_packet(conn: &TcpState, flags: u8) -> u8 {
    let mut af = 0;
    if conn.reset_seen() && flags & SYN == 0 {
        af |= AFTER_RESET;
    } else if conn.state == ConnState::Closed && flags & SYN == 0 {
        af |= AFTER_TEARDOWN;
    }
    if flags & RST != 0 {
        af |= RESET_FROM_SENDER;
    }
    // A connection opened by a FIN, a RST or a packet without SYN or ACK: what port scans send.
    if conn.state == ConnState::None && (flags & (FIN | RST) != 0 || flags & (SYN | ACK) == 0) {
        af |= SCAN;
    }
    if flags & SYN != 0 && (conn.established_properly() || flags & (FIN | RST) != 0) {
        af |= MALFORMED_FLAGS;
    }
    af
}

/// The row's value: the accumulated per-packet anomalies and what the connection lacked.
pub fn value(rec: &FlowRecord) -> u8 {
    if rec.key.l4_proto != 6 || rec.tcp.state == ConnState::None {
        return 0;
    }
    let mut af = rec.tcp_af;
    if !rec.tcp.established_properly() {
        af |= MALFORMED_ESTABLISHMENT;
    }
    if !rec.tcp.closed_properly() {
        af |= MALFORMED_TEARDOWN;
    }
    af
}

pub fn write(rec: &FlowRecord, w: &mut dyn ValueSink) {
    w.hex(value(rec) as u64, 2);
}
