//! The TCP connection state that decides a TCP flow's timeout (Tranalyzer2's tcpStates timeouts:
//! new 120 s, established 610 s, closing 120 s, closed 10 s, reset 0.1 s). Both directions of a
//! conversation share one state; the meter copies it to the opposite record on every change.

/// Flag bits of the TCP header.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnState {
    /// Not TCP, or no packet yet: the idle timeout applies.
    #[default]
    None,
    /// Handshake in progress.
    New,
    Established,
    /// A side sent FIN (both may have; the last one is not acknowledged yet).
    Closing,
    /// Both sides sent FIN and the second FIN was acknowledged.
    Closed,
    Reset,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpState {
    pub state: ConnState,
    /// FIN seen from the A side / B side (indexed by `inverted`).
    fin: [bool; 2],
    /// The side whose FIN completed the pair; its peer's ACK closes the connection.
    second_fin: Option<u8>,
    /// Three-way handshake progress (tcpStates' anomaly flags): 0 nothing, 1 SYN, 2 SYN-ACK,
    /// 3 completed by the initiator's ACK, in that order.
    pub(crate) handshake: u8,
    /// The side that sent the SYN (the handshake's initiator).
    pub(crate) syn_side: u8,
    /// A RST was seen (from either side).
    pub(crate) reset: bool,
    /// The connection's first packet was a RST: a later FIN then closes as usual.
    reset_first: bool,
    /// Sequence number of each side's teardown FIN, and whether the peer acknowledged it.
    fin_seq: [u32; 2],
    fin_acked: [bool; 2],
    /// The side (1 or 2, 0 for none) whose FIN opened the connection, until the peer answers.
    fin_opener: u8,
    /// The peer answered a FIN-opened connection with a bare ACK: Tranalyzer2 then ignores the
    /// FINs and keeps the connection established (wechat.pcap, cloudflare-warp.pcap).
    fins_ignored: bool,
}

impl TcpState {
    /// [`on_packet`](Self::on_packet) for a real segment, with what Tranalyzer2 also looks at:
    /// a FIN that carries data does not count as a teardown FIN (the segment counts as data:
    /// such connections end "malformed teardown", 0x02, and keep their timeout, `pop3.pcap`), and
    /// the connection is closed only once each side's FIN is acknowledged by the peer's
    /// acknowledgement number, not by the first ACK after the second FIN (`bfcp.pcapng`: FIN,
    /// FIN that does not ack the first, ACK, ACK).
    #[inline]
    pub fn on_segment(&mut self, side: usize, flags: u8, payload: u32, seq: u32, ack: u32) -> bool {
        let mut flags = if payload > 0 { flags & !FIN } else { flags };
        let before = *self;
        let s = side & 1;
        let o = s ^ 1;
        let opens_with_fin = self.state == ConnState::None && flags & FIN != 0 && flags & (SYN | RST) == 0;
        if self.fin_opener == o as u8 + 1 {
            self.fin_opener = 0;
            if flags & (ACK | FIN | SYN | RST) == ACK {
                self.fins_ignored = true;
                self.fin = [false; 2];
                self.second_fin = None;
                self.state = ConnState::Established;
            }
        }
        if self.fins_ignored {
            flags &= !FIN;
        }
        // Any segment with ACK (a FIN-ACK too) may acknowledge the peer's FIN.
        if flags & ACK != 0 && self.fin[o] && !self.fin_acked[o] && ack.wrapping_sub(self.fin_seq[o]) as i32 > 0 {
            self.fin_acked[o] = true;
            // A half-close acknowledged by the peer, which has not closed its side, leaves the
            // connection established (610 s), not closing (wechat.pcap: FIN, ACK, then silence;
            // unacknowledged, it stays closing, tunnelbear.pcap).
            if !self.fin[s] && flags & (FIN | SYN | RST) == 0 && self.state == ConnState::Closing {
                self.state = ConnState::Established;
            }
        }
        let had_fin = self.fin[s];
        self.on_packet(side, flags);
        if opens_with_fin {
            self.fin_opener = s as u8 + 1;
        }
        if flags & FIN != 0 && flags & RST == 0 && !had_fin && self.fin[s] {
            self.fin_seq[s] = seq;
            self.fin_acked[s] = false;
        }
        if self.state == ConnState::Closed && !(self.fin_acked[0] && self.fin_acked[1]) {
            self.state = ConnState::Closing;
        }
        if self.state == ConnState::Closing && self.fin[0] && self.fin[1] && self.fin_acked[0] && self.fin_acked[1] {
            self.state = ConnState::Closed;
        }
        before != *self
    }

    /// Advances the shared state with a packet sent by side `side` (0 or 1) carrying `flags`.
    /// Returns true when anything changed (the state or the FIN bookkeeping), so that the caller
    /// copies it to the other direction.
    #[inline]
    pub fn on_packet(&mut self, side: usize, flags: u8) -> bool {
        let before = *self;
        self.track_handshake(side, flags);
        if flags & RST != 0 {
            self.reset = true;
            self.reset_first |= self.state == ConnState::None;
        }
        use ConnState::*;
        if flags & RST != 0 {
            self.state = Reset;
        } else if flags & FIN != 0 {
            let side = side & 1;
            self.fin[side] = true;
            if self.fin[0] && self.fin[1] && self.second_fin.is_none() {
                self.second_fin = Some(side as u8);
            }
            // A FIN after a reset does not reopen the teardown: the reset's short timeout stays
            // (starcraft_battle.pcap: FIN, RST, then the peer's FIN), unless the connection
            // opened with the reset (two_way_all_flags.pcap: RST, then FIN, closing).
            let keep_reset = self.state == Reset && !self.reset_first;
            if self.state != Closed && !keep_reset {
                self.state = Closing;
            }
        } else if flags & SYN != 0 {
            if self.state == None && flags & ACK != 0 {
                // A connection first seen at its SYN-ACK is taken as established (610 s), as
                // Tranalyzer2 times it (fuzz-2006-06-26-2594.pcap).
                self.state = Established;
            } else if matches!(self.state, None | Reset | Closed) {
                self.state = New;
                self.fin = [false; 2];
                self.second_fin = Option::None;
                self.reset = false;
                self.reset_first = false;
            }
        } else if flags & ACK != 0 {
            match self.state {
                None | New => self.state = Established,
                // Retransmitted FINs that are never acknowledged keep the connection closing
                // (Tranalyzer2 keeps such flows for the closing timeout, not the closed one).
                Closing if self.second_fin.is_some_and(|s| s as usize != side & 1) => self.state = Closed,
                _ => {}
            }
        } else if self.state == None {
            self.state = Established;
        }
        before != *self
    }
}

impl TcpState {
    /// The handshake in order: SYN, SYN-ACK from the other side, ACK (without FIN) from the
    /// SYN's side.
    #[inline]
    fn track_handshake(&mut self, side: usize, flags: u8) {
        let side = (side & 1) as u8;
        match (self.handshake, flags & (SYN | ACK | RST | FIN)) {
            (0, SYN) => {
                self.handshake = 1;
                self.syn_side = side;
            }
            (1, f) if f == SYN | ACK && side != self.syn_side => self.handshake = 2,
            (2, f) if f & (SYN | RST | FIN) == 0 && f & ACK != 0 && side == self.syn_side => self.handshake = 3,
            _ => {}
        }
    }

    /// The handshake was seen completely and in order.
    pub fn established_properly(&self) -> bool {
        self.handshake == 3
    }

    /// Both sides closed with FIN and the last FIN was acknowledged.
    pub fn closed_properly(&self) -> bool {
        self.state == ConnState::Closed
    }

    pub fn reset_seen(&self) -> bool {
        self.reset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_to_close() {
        let mut s = TcpState::default();
        s.on_packet(0, SYN);
        assert_eq!(s.state, ConnState::New);
        s.on_packet(1, SYN | ACK);
        assert_eq!(s.state, ConnState::New);
        s.on_packet(0, ACK);
        assert_eq!(s.state, ConnState::Established);
        s.on_packet(0, FIN | ACK);
        assert_eq!(s.state, ConnState::Closing);
        s.on_packet(1, FIN | ACK);
        assert_eq!(s.state, ConnState::Closing, "the second FIN is not acknowledged yet");
        s.on_packet(1, FIN | ACK);
        assert_eq!(s.state, ConnState::Closing, "a retransmitted FIN does not close");
        s.on_packet(0, ACK);
        assert_eq!(s.state, ConnState::Closed);
        s.on_packet(0, RST);
        assert_eq!(s.state, ConnState::Reset);
    }

    #[test]
    fn first_seen_at_the_syn_ack_is_established() {
        let mut s = TcpState::default();
        s.on_packet(1, SYN | ACK);
        assert_eq!(s.state, ConnState::Established);
        let mut t = TcpState::default();
        t.on_packet(0, SYN);
        t.on_packet(1, SYN | ACK);
        assert_eq!(t.state, ConnState::New, "a handshake seen from its SYN stays new");
    }

    #[test]
    fn a_fin_after_a_reset_keeps_the_reset() {
        let mut s = TcpState::default();
        s.on_packet(0, SYN);
        s.on_packet(1, SYN | ACK);
        s.on_packet(0, ACK);
        s.on_packet(0, FIN | ACK);
        s.on_packet(0, RST | ACK);
        s.on_packet(1, FIN | ACK);
        assert_eq!(s.state, ConnState::Reset);
        let mut t = TcpState::default();
        t.on_packet(0, RST);
        t.on_packet(1, FIN);
        assert_eq!(t.state, ConnState::Closing, "opened by the reset");
    }

    #[test]
    fn fin_with_data_is_not_a_teardown_fin() {
        let mut s = TcpState::default();
        for (side, flags) in [(0, SYN), (1, SYN | ACK), (0, ACK)] {
            s.on_segment(side, flags, 0, 0, 0);
        }
        s.on_segment(1, FIN | ACK | 0x08, 28, 500, 100);
        assert_eq!(s.state, ConnState::Established);
        s.on_segment(0, ACK, 0, 100, 529);
        s.on_segment(0, FIN | ACK, 0, 100, 529);
        s.on_segment(1, ACK, 0, 529, 101);
        assert!(!s.closed_properly(), "only one teardown FIN was seen");
    }

    #[test]
    fn a_fin_does_not_complete_the_handshake() {
        let mut s = TcpState::default();
        // SYN, SYN-ACK, then the responder closes and the initiator answers with FIN-ACK
        // (bro.org-filtered.pcap lacks the third ACK).
        for (side, flags) in [(0, SYN), (1, SYN | ACK), (1, FIN | ACK), (0, FIN | ACK)] {
            s.on_packet(side, flags);
        }
        assert!(!s.established_properly());
    }

    #[test]
    fn fin_opened_connection_answered_by_a_bare_ack_stays_established() {
        // wechat.pcap: FIN, ACK, FIN, ACK on a connection seen first with a FIN.
        let mut s = TcpState::default();
        s.on_segment(0, FIN | ACK, 0, 100, 500);
        s.on_segment(1, ACK, 0, 500, 101);
        s.on_segment(1, FIN | ACK, 0, 500, 101);
        s.on_segment(0, ACK, 0, 101, 501);
        assert_eq!(s.state, ConnState::Established);
        // Answered by a FIN, it closes as usual.
        let mut t = TcpState::default();
        t.on_segment(0, FIN | ACK, 0, 100, 500);
        t.on_segment(1, FIN | ACK, 0, 500, 101);
        t.on_segment(0, ACK, 0, 101, 501);
        assert!(t.closed_properly());
    }

    #[test]
    fn acknowledged_half_close_is_established_until_the_peer_closes() {
        let mut s = TcpState::default();
        s.on_segment(0, SYN, 0, 99, 0);
        s.on_segment(1, SYN | ACK, 0, 499, 100);
        s.on_segment(0, ACK, 0, 100, 500);
        // wechat.pcap: the server's FIN acknowledged by a bare ACK, then nothing
        s.on_segment(1, FIN | ACK, 0, 500, 100);
        assert_eq!(s.state, ConnState::Closing);
        s.on_segment(0, ACK, 0, 100, 501);
        assert_eq!(s.state, ConnState::Established);
        // the other side's FIN, acknowledged, still closes the connection
        s.on_segment(0, FIN | ACK, 0, 100, 501);
        assert_eq!(s.state, ConnState::Closing);
        s.on_segment(1, ACK, 0, 501, 101);
        assert!(s.closed_properly());
        // tunnelbear.pcap: a FIN the peer does not acknowledge stays closing
        let mut t = TcpState::default();
        t.on_segment(0, SYN, 0, 99, 0);
        t.on_segment(1, SYN | ACK, 0, 499, 100);
        t.on_segment(0, ACK, 0, 100, 500);
        t.on_segment(1, FIN | ACK, 0, 500, 100);
        t.on_segment(0, ACK | FIN, 113, 100, 500);
        assert_eq!(t.state, ConnState::Closing);
    }

    #[test]
    fn closed_when_both_fins_are_acknowledged() {
        let mut s = TcpState::default();
        for (side, flags) in [(0, SYN), (1, SYN | ACK), (0, ACK)] {
            s.on_segment(side, flags, 0, 0, 0);
        }
        // FIN (seq 100), FIN that does not acknowledge it, then the two ACKs.
        s.on_segment(0, FIN | ACK, 0, 100, 500);
        s.on_segment(1, FIN | ACK, 0, 500, 100);
        s.on_segment(0, ACK, 0, 101, 501);
        assert_eq!(s.state, ConnState::Closing, "side 0's FIN is not acknowledged yet");
        s.on_segment(1, ACK, 0, 501, 101);
        assert!(s.closed_properly());
        // The classic FIN, FIN-ACK, ACK.
        let mut t = TcpState::default();
        t.on_segment(0, FIN | ACK, 0, 100, 500);
        t.on_segment(1, FIN | ACK, 0, 500, 101);
        assert_eq!(t.state, ConnState::Closing);
        t.on_segment(0, ACK, 0, 101, 501);
        assert!(t.closed_properly());
    }
}
