//! The reader's single input buffer.
//!
//! Records are parsed in place and packets borrow straight from here, so the buffer only moves
//! data when a record straddles its end (then the unread tail is moved to the front) and only
//! grows when one record is larger than the whole buffer.

use std::io::{self, Read};
use std::sync::Arc;

use crate::MAX_RECORD_LEN;

/// Large reads keep system calls and decompressor calls rare.
pub(crate) const INITIAL_CAPACITY: usize = 1 << 20;

/// The largest amount `fill` is ever asked for: a maximal record plus the headers around it that
/// resynchronisation looks at.
const MAX_CAPACITY: usize = MAX_RECORD_LEN + 4096;

/// How far ahead of the record being read the input is prefetched: a few records, as many as
/// take about a memory latency to read.
const PREFETCH_AHEAD: usize = 2048;

#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Where the buffered bytes live: a buffer refilled from a stream, or a whole file mapped into
/// memory (which saves copying every byte out of the page cache).
enum Storage {
    Heap(Vec<u8>),
    /// Shared so that packets can be handed to other threads as places in the map.
    Mapped(Arc<memmap2::Mmap>),
}

impl Storage {
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Heap(v) => v,
            Storage::Mapped(m) => m,
        }
    }
}

pub(crate) struct InputBuffer {
    src: Box<dyn Read + Send>,
    buf: Storage,
    pos: usize,
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// Decompressors report a damaged stream as an I/O error; for them the error is kept here and
    /// the stream is treated as ending, so the packets before the damage still count.
    lenient: bool,
    stream_error: Option<io::Error>,
    /// Bytes before this (from `pos` on) have been prefetched into the cache.
    prefetched: usize,
}

impl InputBuffer {
    pub(crate) fn new(src: Box<dyn Read + Send>, lenient: bool) -> Self {
        InputBuffer {
            src,
            buf: Storage::Heap(vec![0; INITIAL_CAPACITY]),
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            lenient,
            stream_error: None,
            prefetched: 0,
        }
    }

    /// A buffer over a whole mapped file: everything is available from the start.
    pub(crate) fn mapped(map: memmap2::Mmap) -> Self {
        let end = map.len();
        InputBuffer {
            src: Box::new(io::empty()),
            buf: Storage::Mapped(Arc::new(map)),
            pos: 0,
            end,
            base: 0,
            eof: true,
            lenient: false,
            stream_error: None,
            prefetched: 0,
        }
    }

    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self.buf, Storage::Mapped(_))
    }

    pub(crate) fn shared_map(&self) -> Option<Arc<memmap2::Mmap>> {
        match &self.buf {
            Storage::Mapped(m) => Some(Arc::clone(m)),
            Storage::Heap(_) => None,
        }
    }

    /// Unconsumed bytes currently buffered.
    pub(crate) fn avail(&self) -> &[u8] {
        &self.buf.bytes()[self.pos..self.end]
    }

    /// Stream offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Index into the backing storage of the first unconsumed byte; stays valid for
    /// [`InputBuffer::slice`] until the next `fill`.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn slice(&self, start: usize, len: usize) -> &[u8] {
        &self.buf.bytes()[start..start + len]
    }

    /// Bytes of the stream consumed so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.offset()
    }

    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.pos);
        self.pos += n.min(self.end - self.pos);
        self.prefetch_ahead();
    }

    /// Asks the CPU for the next [`PREFETCH_AHEAD`] bytes. Reading a record header is a chain of
    /// dependent loads (where the next record starts depends on this one's length), so without
    /// this every header of a mapped file was a cache miss: a third of the reading thread's time
    /// with `--threads`, which touches little else of each record. (One thread does not gain:
    /// dissecting the packet hides the miss.)
    #[inline]
    fn prefetch_ahead(&mut self) {
        let want = (self.pos + PREFETCH_AHEAD).min(self.end);
        let bytes = self.buf.bytes().as_ptr();
        let mut at = self.prefetched.max(self.pos);
        while at < want {
            prefetch(bytes.wrapping_add(at));
            at += 64;
        }
        self.prefetched = self.prefetched.max(at);
    }

    /// Consumes everything that is left, draining the source; used when the rest of a stream
    /// is known to be unusable so that the byte counters still reflect the whole input.
    pub(crate) fn consume_rest(&mut self) -> io::Result<()> {
        loop {
            self.pos = self.end;
            if self.fill(1)? == 0 {
                return Ok(());
            }
        }
    }

    /// The error that cut a lenient stream short, if any (taken once).
    pub(crate) fn take_stream_error(&mut self) -> Option<io::Error> {
        self.stream_error.take()
    }

    /// Makes at least `n` bytes available unless the stream ends first; returns how many are
    /// available (fewer than `n` only at the end of the stream).
    #[inline]
    pub(crate) fn fill(&mut self, n: usize) -> io::Result<usize> {
        // the per-record call: usually everything asked for is already there
        if self.end - self.pos >= n || self.eof {
            return Ok(self.end - self.pos);
        }
        self.refill(n)
    }

    #[inline(never)]
    fn refill(&mut self, n: usize) -> io::Result<usize> {
        let n = n.min(MAX_CAPACITY);
        while self.end - self.pos < n && !self.eof {
            let Storage::Heap(buf) = &mut self.buf else { break };
            if self.end == buf.len() {
                Self::make_room(buf, &mut self.pos, &mut self.end, &mut self.base, n);
                self.prefetched = 0;
            }
            let Storage::Heap(buf) = &mut self.buf else { break };
            match self.src.read(&mut buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k.min(buf.len() - self.end),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.lenient => {
                    self.eof = true;
                    self.stream_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.pos)
    }

    /// Frees space at the end: first by dropping consumed bytes, and only when a single record
    /// needs more than the whole buffer by growing it (doubling, so a small input claiming a
    /// huge record never makes us allocate the claimed size up front).
    fn make_room(buf: &mut Vec<u8>, pos: &mut usize, end: &mut usize, base: &mut u64, n: usize) {
        if *pos > 0 {
            buf.copy_within(*pos..*end, 0);
            *base += *pos as u64;
            *end -= *pos;
            *pos = 0;
        }
        if *end == buf.len() && buf.len() < n {
            let new_len = (buf.len() * 2).clamp(INITIAL_CAPACITY, MAX_CAPACITY);
            buf.resize(new_len, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most 3 bytes per read, to exercise the refill logic.
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let k = out.len().min(3).min(self.0.len() - self.1);
            out[..k].copy_from_slice(&self.0[self.1..self.1 + k]);
            self.1 += k;
            Ok(k)
        }
    }

    #[test]
    fn fill_across_reads_and_growth() {
        let data: Vec<u8> = (0..3 * INITIAL_CAPACITY).map(|i| i as u8).collect();
        let mut b = InputBuffer::new(Box::new(Trickle(data.clone(), 0)), false);
        assert_eq!(b.fill(10).unwrap(), 10.max(b.avail().len()));
        b.consume(5);
        assert_eq!(b.offset(), 5);
        // more than the initial capacity: must grow
        let want = 2 * INITIAL_CAPACITY + 7;
        assert!(b.fill(want).unwrap() >= want);
        assert_eq!(&b.avail()[..want], &data[5..5 + want]);
        b.consume(want);
        let rest = b.fill(usize::MAX).unwrap();
        assert_eq!(rest, data.len() - 5 - want);
        b.consume_rest().unwrap();
        assert_eq!(b.consumed(), data.len() as u64);
        assert_eq!(b.fill(1).unwrap(), 0);
    }

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt"))
        }
    }

    #[test]
    fn lenient_turns_errors_into_eof() {
        let mut b = InputBuffer::new(Box::new(Failing), true);
        assert_eq!(b.fill(4).unwrap(), 0);
        assert!(b.take_stream_error().is_some());
        let mut b = InputBuffer::new(Box::new(Failing), false);
        assert!(b.fill(4).is_err());
    }
}
