//! The effective receive window a direction advertises (window × 2^scale): initial, IIR average,
//! range, changes up and down, and the share of packets below `WINMIN`.

use netanom_wire::PacketInfo;

use super::flags::fstat;
use crate::schema::ValueSink;

/// Tranalyzer2's WINMIN: windows below it count for tcpWinSzThRt.
const WINMIN: u32 = 1;

#[derive(Debug, Clone, Default)]
pub struct Window {
    pkts: u32,
    init: u32,
    last: u32,
    min: u32,
    max: u32,
    avg: f32,
    down: u16,
    up: u16,
    chg_dir: u16,
    /// The window has gone up at least once (never cleared again, see `update`).
    went_up: bool,
    below_min: u32,
    fstat: u16,
}

impl Window {
    #[inline]
    /// `shift` is the scale agreed before this segment (a retransmitted SYN is scaled too).
    pub fn update(&mut self, p: &PacketInfo, shift: u8) {
        let win = (p.tcp_win as u32) << shift.min(14);
        if self.pkts == 0 {
            self.init = win;
            self.min = win;
            self.max = win;
            self.avg = win as f32;
        } else {
            self.min = self.min.min(win);
            self.max = self.max.max(win);
            self.avg = 0.7 * self.avg + 0.3 * win as f32;
            // Tranalyzer2's direction state starts as "down" and, once it has gone up, stays
            // "up" (tcpFStat 0x0800): the first rise counts as a change of direction, and so
            // does every fall after it, rises after that do not (golden rows: up, down, down
            // gives 3; up, down, up gives 2; falls only give 0).
            if win > self.last {
                self.up = self.up.saturating_add(1);
                if !self.went_up {
                    self.went_up = true;
                    self.chg_dir = self.chg_dir.saturating_add(1);
                }
            } else if win < self.last {
                self.down = self.down.saturating_add(1);
                if self.went_up {
                    self.chg_dir = self.chg_dir.saturating_add(1);
                }
            }
        }
        if win < WINMIN && p.tcp_flags & 0x04 == 0 {
            self.below_min += 1;
        }
        self.pkts += 1;
        self.last = win;
    }

    pub fn fstat_bits(&self) -> u16 {
        self.fstat | if self.up > 0 { fstat::WIN_UP } else { 0 }
    }

    pub fn write(&self, pkts: u64, w: &mut dyn ValueSink) {
        w.uint(self.init as u64);
        w.float(self.avg as f64);
        w.uint(self.min as u64);
        w.uint(self.max as u64);
        w.uint(self.down as u64);
        w.uint(self.up as u64);
        w.uint(self.chg_dir as u64);
        w.float(if pkts > 0 { self.below_min as f64 / pkts as f64 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(wins: &[u16]) -> (u16, u16, u16) {
        let mut w = Window::default();
        for &x in wins {
            w.update(&PacketInfo { tcp_win: x, tcp_flags: 0x10, ..PacketInfo::default() }, 0);
        }
        (w.up, w.down, w.chg_dir)
    }

    #[test]
    fn direction_changes_as_tranalyzer2_counts_them() {
        assert_eq!(changes(&[100, 200, 150, 120]), (1, 2, 3));
        assert_eq!(changes(&[100, 200, 150, 180]), (2, 1, 2));
        assert_eq!(changes(&[300, 200, 100]), (0, 2, 0));
    }

    #[test]
    fn scaled_by_the_shift_agreed_before() {
        let mut w = Window::default();
        w.update(&PacketInfo { tcp_win: 1000, tcp_flags: 0x12, ..PacketInfo::default() }, 0);
        w.update(&PacketInfo { tcp_win: 1000, tcp_flags: 0x12, ..PacketInfo::default() }, 2);
        assert_eq!((w.min, w.max), (1000, 4000));
    }
}
