//! Where packets come from: a [`PacketSource`] hands out one frame at a time and says what time it
//! is when none arrives, so that flows end in real time on a quiet link.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use netanom_capture::{CaptureReader, ReadEvent};

/// How long a source waits for a packet before it reports [`Next::Idle`]: the pipeline's clock
/// advances (timeouts, status) at least this often.
pub const POLL: Duration = Duration::from_millis(100);

/// One captured frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub ts_ns: u64,
    pub linktype: u32,
    pub data: &'a [u8],
    pub orig_len: u32,
}

/// What [`PacketSource::next`] found.
#[derive(Debug)]
pub enum Next<'a> {
    Frame(Frame<'a>),
    /// No packet within [`POLL`]: the caller may advance its clock with [`PacketSource::now_ns`].
    Idle,
    /// The source is exhausted (end of a replayed file).
    End,
}

/// Counters of a source; the kernel's are those of libpcap (`pcap_stats`), `None` for a replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Frames handed out.
    pub frames: u64,
    /// Frames the kernel received (libpcap's `ps_recv`).
    pub kernel_received: Option<u64>,
    /// Frames dropped because the capture buffer was full (`ps_drop`): the capture fell behind.
    pub kernel_dropped: Option<u64>,
    /// Frames dropped by the interface or its driver (`ps_ifdrop`).
    pub if_dropped: Option<u64>,
    /// Damaged records skipped in a replayed file.
    pub damaged: u64,
}

/// Errors of a source, each naming the file or interface and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Capture(#[from] netanom_capture::CaptureError),
    #[error("{0}")]
    Live(String),
}

/// A stream of frames with a clock.
pub trait PacketSource {
    /// The next frame, or [`Next::Idle`] after waiting about [`POLL`] for one.
    fn next(&mut self) -> Result<Next<'_>, SourceError>;
    /// The source's present time in the packets' clock (ns since the epoch): wall time for a live
    /// interface, the scaled replay time for a replay. Used to end flows when no packet arrives.
    fn now_ns(&self) -> u64;
    /// The counters now (a live source asks the kernel).
    fn stats(&mut self) -> SourceStats;
    /// For messages: the file or interface.
    fn name(&self) -> String;
}

/// Wall time in ns since the epoch.
pub fn wall_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// A capture file played back at its own pace times `speed` (0: as fast as it reads).
pub struct ReplaySource {
    path: PathBuf,
    reader: CaptureReader,
    speed: f64,
    /// The next frame, read ahead (in `ahead`) so that the replay clock never passes it: flows
    /// end on the clock exactly as they would on the packets.
    held: Option<(u64, u32, u32)>,
    ahead: Vec<u8>,
    /// The frame handed out last.
    buf: Vec<u8>,
    /// A read error met while reading ahead, returned by the next call.
    error: Option<SourceError>,
    /// Capture time of the first frame and the wall instant it was handed out.
    origin: Option<(u64, Instant)>,
    /// Latest capture time handed out: the replay clock never runs behind it.
    latest_ns: u64,
    frames: u64,
    damaged: u64,
    done: bool,
}

impl ReplaySource {
    pub fn open(path: &Path, speed: f64) -> Result<ReplaySource, SourceError> {
        if !(speed.is_finite() && speed >= 0.0) {
            return Err(SourceError::Live(format!("--speed must be 0 (as fast as possible) or positive, not {speed}")));
        }
        let reader = CaptureReader::open_with(path, false)?;
        Ok(ReplaySource {
            path: path.to_path_buf(),
            reader,
            speed,
            held: None,
            ahead: Vec::new(),
            buf: Vec::new(),
            error: None,
            origin: None,
            latest_ns: 0,
            frames: 0,
            damaged: 0,
            done: false,
        })
    }

    /// When the frame captured at `ts_ns` is due, as an offset from the origin's wall instant.
    fn due(&self, ts_ns: u64) -> Option<Duration> {
        let (t0, _) = self.origin?;
        if self.speed == 0.0 {
            return None;
        }
        Some(Duration::from_secs_f64(ts_ns.saturating_sub(t0) as f64 / 1e9 / self.speed))
    }

    fn read_ahead(&mut self) -> Result<(), SourceError> {
        while self.held.is_none() && !self.done {
            match self.reader.next_event() {
                Ok(Some(ReadEvent::Packet(p))) => {
                    self.ahead.clear();
                    self.ahead.extend_from_slice(p.data);
                    self.held = Some((p.ts_ns, p.linktype, p.orig_len));
                }
                Ok(Some(ReadEvent::Damaged(_))) => self.damaged += 1,
                Ok(None) => self.done = true,
                Err(e) => {
                    // What was read stays; the pipeline reports the end of the stream.
                    self.done = true;
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }
}

impl PacketSource for ReplaySource {
    fn next(&mut self) -> Result<Next<'_>, SourceError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.read_ahead()?;
        let Some((ts, lt, len)) = self.held else { return Ok(Next::End) };
        if self.origin.is_none() {
            self.origin = Some((ts, Instant::now()));
        }
        if let (Some(due), Some((_, w0))) = (self.due(ts), self.origin) {
            let elapsed = w0.elapsed();
            if due > elapsed {
                let wait = due - elapsed;
                std::thread::sleep(wait.min(POLL));
                if wait > POLL {
                    return Ok(Next::Idle);
                }
            }
        }
        self.held = None;
        self.frames += 1;
        self.latest_ns = self.latest_ns.max(ts);
        std::mem::swap(&mut self.buf, &mut self.ahead);
        if let Err(e) = self.read_ahead() {
            self.error = Some(e);
        }
        Ok(Next::Frame(Frame { ts_ns: ts, linktype: lt, data: &self.buf, orig_len: len }))
    }

    fn now_ns(&self) -> u64 {
        match self.origin {
            Some((t0, w0)) if self.speed > 0.0 => {
                let replayed = (w0.elapsed().as_secs_f64() * self.speed * 1e9) as u64;
                let clock = t0.saturating_add(replayed);
                // Behind schedule, the clock must wait for the packets still to come.
                let clock = match self.held {
                    Some((next, _, _)) => clock.min(next),
                    None => clock,
                };
                clock.max(self.latest_ns)
            }
            _ => self.latest_ns,
        }
    }

    fn stats(&mut self) -> SourceStats {
        SourceStats { frames: self.frames, damaged: self.damaged, ..SourceStats::default() }
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/lab.pcap")
    }

    #[test]
    fn replays_every_frame_in_order() {
        let mut s = ReplaySource::open(&lab(), 0.0).unwrap();
        let mut n = 0;
        let mut last = 0;
        loop {
            match s.next().unwrap() {
                Next::Frame(f) => {
                    assert!(!f.data.is_empty());
                    last = f.ts_ns;
                    n += 1;
                }
                Next::Idle => panic!("speed 0 never waits"),
                Next::End => break,
            }
        }
        assert!(n > 1000);
        assert_eq!(s.stats().frames, n);
        assert_eq!(s.now_ns(), last.max(s.latest_ns));
    }

    #[test]
    fn a_slow_replay_goes_idle_and_its_clock_moves() {
        // Speed 1e-6: the second frame is due in days, so the source goes idle.
        let mut s = ReplaySource::open(&lab(), 1e-6).unwrap();
        assert!(matches!(s.next().unwrap(), Next::Frame(_)));
        let t = s.now_ns();
        let mut idle = false;
        for _ in 0..3 {
            if matches!(s.next().unwrap(), Next::Idle) {
                idle = true;
                break;
            }
        }
        assert!(idle);
        assert!(s.now_ns() >= t);
    }

    #[test]
    fn bad_speed_and_missing_file_are_errors() {
        assert!(ReplaySource::open(&lab(), -1.0).is_err());
        let e = ReplaySource::open(Path::new("/nonexistent/x.pcap"), 1.0).err().unwrap();
        assert!(e.to_string().contains("/nonexistent/x.pcap"), "{e}");
    }
}
