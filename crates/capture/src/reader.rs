use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::buffer::InputBuffer;
use crate::compress::{self, Counting};
use crate::detect::{self, Compression};
use crate::pcap::{self, PcapReader};
use crate::pcapng::{self, PcapNgReader};
use crate::{CaptureError, Damage, DamageKind, RawPacket, ReadEvent, ReaderStats};

/// The container format detected from a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Pcap,
    PcapNg,
}

/// How much of a stream is looked at to recognise it.
const HEAD_SAMPLE: usize = 512;

/// Everything about a packet but its bytes, which stay in the buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PacketMeta {
    pub ts_ns: u64,
    pub linktype: u32,
    pub orig_len: u32,
    pub interface: u32,
    pub offset: u64,
}

/// One step of a format reader. Packets are returned as a position in the buffer rather than a
/// slice so that the format readers never hold a borrow of it.
pub(crate) enum Step {
    /// Metadata, index into the buffer's storage, length.
    Packet(PacketMeta, usize, usize),
    Damaged(Damage),
    End,
}

impl Step {
    pub(crate) fn damaged(offset: u64, kind: DamageKind, reason: String) -> Step {
        Step::Damaged(Damage { offset, kind, reason })
    }
}

enum Format {
    Pcap(PcapReader),
    PcapNg(PcapNgReader),
    /// A pcap file header cut short: one damage event, then nothing.
    Stub,
}

/// Bytes of a mapped capture worth releasing at a time (see [`MappedInput::release_pages`]).
pub const RELEASE_STEP: usize = 32 << 20;

/// A memory-mapped capture file, shared (see [`CaptureReader::mapped_input`]).
#[derive(Clone)]
pub struct MappedInput(Arc<memmap2::Mmap>);

impl MappedInput {
    /// Where `data` starts in these bytes, if it lies wholly inside them.
    #[inline]
    pub fn offset_of(&self, data: &[u8]) -> Option<usize> {
        let (base, at) = (self.0.as_ptr() as usize, data.as_ptr() as usize);
        let off = at.checked_sub(base)?;
        (off.checked_add(data.len())? <= self.0.len()).then_some(off)
    }

    /// Whether both are the same mapping.
    pub fn same(&self, other: &MappedInput) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Drops this process's page-table entries for `range` (widened to whole pages); the bytes
    /// stay in the page cache and are mapped again if read. Released in steps of about
    /// [`RELEASE_STEP`] behind the reader, a capture never makes the whole of its size resident,
    /// and the unmapping (about 25 ms per GiB) is spread over the run instead of all done at the
    /// end, on one thread.
    pub fn release_pages(&self, range: std::ops::Range<usize>) {
        let len = range.end.min(self.0.len()).saturating_sub(range.start);
        if len == 0 {
            return;
        }
        // SAFETY: the mapping is shared and read-only (`memmap2::Mmap::map`), so MADV_DONTNEED
        // only unmaps: a later read of these bytes, by any thread, faults the same file data
        // back in rather than seeing zeroes (which is what makes the advice unsafe in general:
        // on private or anonymous mappings it discards the contents).
        #[cfg(unix)]
        let _ = unsafe { self.0.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, range.start, len) };
    }
}

impl std::ops::Deref for MappedInput {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for MappedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedInput({} bytes)", self.0.len())
    }
}

/// Reads one capture file (or stdin for `-`), whatever its format and compression.
pub struct CaptureReader {
    path: PathBuf,
    input: InputBuffer,
    format: Format,
    compression: Compression,
    input_bytes: Arc<AtomicU64>,
    stats: ReaderStats,
    /// Damage found while opening, reported by the first `next_event`.
    pending: Option<Damage>,
    finished: bool,
}

impl CaptureReader {
    /// Opens a capture file, or stdin when `path` is `-`, and reads its header. Large regular
    /// uncompressed files are memory-mapped (see [`CaptureReader::open_with`]).
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        Self::open_with(path, true)
    }

    /// Like [`CaptureReader::open`]; `mmap: false` always reads through a buffer. Mapping saves
    /// copying the file out of the page cache (about a sixth of the time of a whole run), but a
    /// file that is truncated by another process while it is mapped ends the process with
    /// SIGBUS, so it can be turned off for captures that are still being written to.
    pub fn open_with(path: &Path, mmap: bool) -> Result<Self, CaptureError> {
        if path.as_os_str() == "-" {
            return Self::from_reader(path, io::stdin());
        }
        let file = File::open(path).map_err(|source| CaptureError::Open { path: path.to_path_buf(), source })?;
        if mmap {
            if let Some(map) = map_if_worthwhile(&file) {
                let compressed = detect::sniff_compression(&map[..map.len().min(4)]) != Compression::None;
                if !compressed {
                    let input = InputBuffer::mapped(map);
                    return Self::from_input(path.to_path_buf(), input, Compression::None, Arc::new(AtomicU64::new(0)));
                }
            }
        }
        Self::from_reader(path, file)
    }

    /// Reads a capture from any byte stream; `name` is used in error messages. This is how tests
    /// and the fuzzer feed in-memory data.
    pub fn from_reader(name: impl Into<PathBuf>, reader: impl Read + Send + 'static) -> Result<Self, CaptureError> {
        let path = name.into();
        let input_bytes = Arc::new(AtomicU64::new(0));
        let counting = Counting::new(reader, Arc::clone(&input_bytes));
        let (src, compression) = compress::unwrap(Box::new(counting)).map_err(|source| CaptureError::Io {
            path: path.clone(),
            offset: 0,
            source,
        })?;
        let input = InputBuffer::new(src, compression != Compression::None);
        Self::from_input(path, input, compression, input_bytes)
    }

    fn from_input(
        path: PathBuf,
        mut input: InputBuffer,
        compression: Compression,
        input_bytes: Arc<AtomicU64>,
    ) -> Result<Self, CaptureError> {
        let io_err = |source| CaptureError::Io { path: path.clone(), offset: 0, source };
        // enough for any file header, and for a fair guess at what a non-capture is
        input.fill(HEAD_SAMPLE).map_err(io_err)?;
        let head = input.avail();
        let head = &head[..head.len().min(HEAD_SAMPLE)];
        let (format, pending) = if let Some(r) = PcapReader::from_header(head) {
            input.consume(pcap::FILE_HEADER_LEN);
            (Format::Pcap(r), None)
        } else if pcap::magic(head).is_some() {
            let why = format!("file ends {} bytes into the 24-byte pcap file header", head.len());
            let d = Damage { offset: 0, kind: DamageKind::TruncatedFile, reason: why };
            let n = head.len();
            input.consume(n);
            (Format::Stub, Some(d))
        } else if let Some(endian) = pcapng::section_endian(head) {
            (Format::PcapNg(PcapNgReader::new(endian)), None)
        } else {
            let head = head.to_vec();
            let looks_like = match (compression, input.take_stream_error()) {
                (Compression::None, _) => detect::describe(&head),
                (c, Some(e)) if head.is_empty() => format!("{} data that cannot be decompressed ({e})", c.as_str()),
                (c, _) => format!("{} data containing {}", c.as_str(), detect::describe(&head)),
            };
            return Err(CaptureError::NotACapture { path, looks_like });
        };
        Ok(CaptureReader {
            path,
            input,
            format,
            compression,
            input_bytes,
            stats: ReaderStats::default(),
            pending,
            finished: false,
        })
    }

    /// The whole input when the file is memory-mapped (a large uncompressed file): every packet
    /// this reader returns then borrows from these bytes, which stay valid for as long as a clone
    /// is kept, so a consumer on another thread can keep a packet's place instead of a copy.
    pub fn mapped_input(&self) -> Option<MappedInput> {
        self.input.shared_map().map(MappedInput)
    }

    /// The next packet or damage report; `Ok(None)` at the end (and on every call after it).
    /// The packet's bytes are borrowed from the reader until the next call.
    pub fn next_event(&mut self) -> Result<Option<ReadEvent<'_>>, CaptureError> {
        if let Some(d) = self.pending.take() {
            return Ok(Some(self.count_damage(d)));
        }
        if self.finished {
            return Ok(None);
        }
        let step = match &mut self.format {
            Format::Pcap(r) => r.next(&mut self.input),
            Format::PcapNg(r) => r.next(&mut self.input),
            Format::Stub => Ok(Step::End),
        };
        let step = match step {
            Ok(s) => s,
            Err(source) => {
                self.finished = true;
                return Err(CaptureError::Io { path: self.path.clone(), offset: self.input.offset(), source });
            }
        };
        match step {
            Step::Packet(meta, start, len) => {
                self.stats.packets += 1;
                let data = self.input.slice(start, len);
                Ok(Some(ReadEvent::Packet(RawPacket {
                    ts_ns: meta.ts_ns,
                    linktype: meta.linktype,
                    orig_len: meta.orig_len,
                    data,
                    interface: meta.interface,
                    offset: meta.offset,
                })))
            }
            Step::Damaged(mut d) => {
                if let Some(e) = self.input.take_stream_error() {
                    d.reason = format!("{}; {} stream broken: {e}", d.reason, self.compression.as_str());
                }
                Ok(Some(self.count_damage(d)))
            }
            Step::End => {
                self.finished = true;
                // A decompressor that failed exactly between two records still cut the capture short.
                match self.input.take_stream_error() {
                    Some(e) => {
                        let reason = format!("{} stream broken: {e}", self.compression.as_str());
                        let d = Damage { offset: self.input.offset(), kind: DamageKind::TruncatedFile, reason };
                        Ok(Some(self.count_damage(d)))
                    }
                    None => Ok(None),
                }
            }
        }
    }

    fn count_damage(&mut self, d: Damage) -> ReadEvent<'static> {
        self.stats.damaged.add(d.kind);
        ReadEvent::Damaged(d)
    }

    /// The name given to `open` or `from_reader`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> FileFormat {
        match self.format {
            Format::Pcap(_) | Format::Stub => FileFormat::Pcap,
            Format::PcapNg(_) => FileFormat::PcapNg,
        }
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Human-readable format, e.g. "pcap (big-endian, ns, linktype 1, snaplen 65535), gzip".
    pub fn format_description(&self) -> String {
        let f = match &self.format {
            Format::Pcap(r) => r.describe(),
            Format::PcapNg(r) => r.describe(),
            Format::Stub => "pcap (header cut short)".to_string(),
        };
        match self.compression {
            Compression::None => f,
            c => format!("{f}, {}-compressed", c.as_str()),
        }
    }

    /// Counters so far; complete once `next_event` has returned `Ok(None)`.
    pub fn stats(&self) -> ReaderStats {
        let input_bytes =
            if self.input.is_mapped() { self.input.consumed() } else { self.input_bytes.load(Ordering::Relaxed) };
        ReaderStats { input_bytes, bytes: self.input.consumed(), ..self.stats }
    }
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("path", &self.path)
            .field("format", &self.format_description())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Files smaller than this are read: mapping costs more than it saves on them.
const MMAP_MIN_LEN: u64 = 1 << 20;

fn map_if_worthwhile(file: &File) -> Option<memmap2::Mmap> {
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() < MMAP_MIN_LEN || meta.len() > usize::MAX as u64 {
        return None;
    }
    // SAFETY: the map is only read. If another process truncates the file while it is mapped,
    // reading the lost pages raises SIGBUS; that hazard is documented on `open_with`, which
    // lets callers opt out for files still being written.
    let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
    let _ = map.advise(memmap2::Advice::Sequential);
    Some(map)
}

#[cfg(test)]
mod tests;
