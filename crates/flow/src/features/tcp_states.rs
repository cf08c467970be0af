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
/// Internal, never printed (0x20 is unused by Tranalyzer2): this direction opened the
/// connection with a FIN, which is a scan only if the connection does not then close properly.
const OPENED_BY_FIN: u8 = 0x20;

/// Flags of one packet of this direction, given the connection state before the packet.
#[inline]
pub fn on_packet(conn: &TcpState, flags: u8) -> u8 {
    let mut af = 0;
    if conn.reset_seen() && flags & SYN == 0 {
        af |= AFTER_RESET;
    } else if conn.state == ConnState::Closed && flags & SYN == 0 {
        af |= AFTER_TEARDOWN;
    }
    // Only the RST that resets the connection: RSTs after it are packets after a reset
    // (ethereum.pcap: the side answering a RST with RSTs gets 0x10 alone).
    if flags & RST != 0 && !conn.reset_seen() {
        af |= RESET_FROM_SENDER;
    }
    // A connection opened by a RST or a packet without SYN or ACK: what port scans send. One
    // opened by a FIN is judged at the end: answered by a FIN and closed, it was the end of a
    // connection that started before the capture (wechat.pcap, whatsapp_login_call.pcap).
    if conn.state == ConnState::None {
        if flags & RST != 0 || flags & (SYN | ACK) == 0 {
            af |= SCAN;
        } else if flags & FIN != 0 {
            af |= OPENED_BY_FIN;
        }
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
    let mut af = rec.tcp_af & !OPENED_BY_FIN;
    if rec.tcp_af & OPENED_BY_FIN != 0 && !rec.tcp.closed_properly() {
        af |= SCAN;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs (side, flags) packets through both records of a connection; returns (A, B) values.
    fn run(pkts: &[(usize, u8)]) -> (u8, u8) {
        let mut recs = [FlowRecord::default(), FlowRecord::default()];
        for r in recs.iter_mut() {
            r.key.l4_proto = 6;
        }
        let mut conn = TcpState::default();
        for &(side, flags) in pkts {
            recs[side].tcp_af |= on_packet(&conn, flags);
            conn.on_packet(side, flags);
        }
        for r in recs.iter_mut() {
            r.tcp = conn;
        }
        (value(&recs[0]), value(&recs[1]))
    }

    #[test]
    fn opened_by_fin_is_a_scan_only_without_proper_close() {
        // FIN, FIN, ACK: the end of a connection that began before the capture.
        assert_eq!(run(&[(0, FIN | ACK), (1, FIN | ACK), (0, ACK)]).0, MALFORMED_ESTABLISHMENT);
        // A FIN answered by a RST: not closed, so the opener is flagged.
        let (a, b) = run(&[(0, FIN | ACK), (1, RST)]);
        assert_ne!(a & SCAN, 0);
        assert_eq!(b & SCAN, 0);
        // A RST or a null packet first is a scan whatever follows.
        assert_ne!(run(&[(0, 0)]).0 & SCAN, 0);
        assert_ne!(run(&[(0, RST)]).0 & SCAN, 0);
    }

    #[test]
    fn only_the_first_reset_is_a_reset_from_sender() {
        let (a, b) = run(&[(0, SYN), (1, SYN | ACK), (0, ACK), (0, RST), (1, RST), (1, RST)]);
        assert_eq!(a & (RESET_FROM_SENDER | AFTER_RESET), RESET_FROM_SENDER);
        assert_eq!(b & (RESET_FROM_SENDER | AFTER_RESET), AFTER_RESET);
    }
}
