//! `--threads N`: the flow table split into N shards by a hash of each packet's address pair,
//! with output identical to the single-threaded table.
//!
//! Shard 0 is the reading thread's; the other N − 1 are *floating* shards, which any thread may
//! run. Three kinds of thread:
//!
//! * The **reader** (the caller's thread) frames capture records, finds each frame's address
//!   pair (without dissecting the common frames, see the `route` module) and runs the part of
//!   the observer that needs every packet in input order (who owns an address on the link, a
//!   hash lookup for on-link IPv4; the owners are taken out of the shared observer's lock for
//!   the run). It runs **shard 0** itself: its frames are dissected right after they are read,
//!   while still in this core's cache, and never travel (that cut the CPU time that splitting
//!   adds by about a third). The floating shards' frames go into their batches, and every shard
//!   gets the timestamps of *every* packet, so that each shard's clock (which drives the
//!   timeouts) follows the whole input and its flows end at exactly the packet where they
//!   would end in one table. Since the reader also frames and routes everything, shard 0 gets
//!   a smaller part of the hash range (`route::ShardMap`).
//! * **N − 1 workers** run the floating shards' batches, oldest first, one batch at a time
//!   (a shard is locked while one of its batches runs, so its batches run in order). Running a
//!   batch dissects its frames (checksums included), keeps the observer's connection attempts
//!   of its address pairs (a pair's packets all land in one shard), runs the shard's flow table
//!   and, when a conversation ends, answers the labeller's question about its pair right away
//!   (what one thread would answer at that packet); shard 0 does the same on the reader. With
//!   no batch waiting, workers format rows (labels included) for the output, in chunks the
//!   merger queues. When the workers fall behind (shards are loaded unevenly over time, a long
//!   transfer between two hosts being all one shard's), the reader formats chunks and runs
//!   floating batches too, and once the input is read it runs the last ones beside them (see
//!   [`Floats`]).
//! * The **merger** puts the shards' ended conversations back into single-threaded order (by the
//!   packet at which they ended, then by [`Ending`]), renumbers them in creation order, runs
//!   connStat (which needs the global order of creations, packets and ends), then queues the
//!   conversations in chunks for formatting and writes the formatted chunks in order. With an
//!   output that cannot be formatted in pieces (Parquet) or a plain [`FlowSink`], the merger
//!   gives the conversations to the sink itself.
//!
//! At the end of the input every shard flushes its table in parts ([`FLUSH_PART`]), each made
//! once the merger has taken all but [`FLUSH_PARTS_AHEAD`] of the shard's earlier ones, and the
//! merger merges the parts in flush order: copying a million-flow table out at once doubled
//! the run's memory. Behind the batches in flight, the reader gives a mapped capture's pages
//! back ([`PageRelease`]).
//!
//! With two cores, `netanom flows bench-2m.pcap -o /dev/null --threads 2` runs 1.66–1.75× as
//! fast as one thread (`benches/flows/threads.py`; README, "Speed and memory"); the cores are
//! idle 2–5% of the run. It spends about 13% more CPU than one thread, as much with both threads
//! pinned to one core, so the split's own work rather than contention: connStat's per-packet
//! events (written by the shards, merged in input order by the merger); ended records moving
//! to the thread that formats them (handing over the table's boxed records instead of copying
//! them saved nothing: the formatter then missed on them); every shard following every packet's
//! timestamp; the reader's cache misses on record headers (where the next record starts depends
//! on this one's length, hence the buffer's prefetching). Lines that were last written on
//! another core (batches, frames, conversation boxes) are prefetched a few items ahead. Frames
//! of memory-mapped captures are not copied (they travel as places in the mapping), ended
//! conversations are moved out of the table into recycled boxes rather than cloned, and their
//! order keys are worked out in the shards so that the merger sorts without touching the boxes.
//!
//! Shards hash the address pair, not the ports, so that an IP fragment (which has no ports)
//! meets its first fragment. Two things differ from one table, by design: a full table evicts
//! the oldest flow of its own shard (each shard holds `max_flows / N`; likewise each shard's
//! observer holds `MAX_PAIRS / N` address pairs), and the peak table size in the report is the
//! sum of the shards' peaks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use hashbrown::HashMap;
use netanom_capture::{MappedInput, RELEASE_STEP};
use netanom_flow::features::conn_stat::{packet_source, ConnKey, ConnStat, IpKey};
use netanom_flow::features::tcp_flags::ws::WsState;
use netanom_flow::{EndReason, Ending, FlowMeter, FlowRecord, FlowSink, MeterConfig, MeterCounters};
use netanom_wire::{dissect, flowstat, PacketInfo};

use crate::observe::{preset_key, Observer, PairView, SharedObserver};
use crate::route::ShardMap;
use crate::rows::{RowFormatter, RowSink};

/// Packets per batch: large enough that channel traffic is negligible, small enough that the
/// shards and the merger work concurrently.
const BATCH: usize = 4096;
/// Batches in flight per floating shard (bounds memory, about 5 MB per shard; a slow merger
/// slows the reader down). Deep enough that a shard with a burst of packets (one large transfer)
/// can fall behind the others for a while without the reader waiting for it (in alternating
/// runs with shards pinned to threads, 8 gave 1.52–1.57× with two threads where 32 gave
/// 1.58–1.69×; with floating shards, 128 left the cores idle longer, at the end, than 32).
const IN_FLIGHT: usize = 32;
/// Chunks left waiting for the worker threads before the reading thread (which also runs
/// shard 0) takes one, when the workers are a little behind (see [`Dispatcher::help`]).
const KEEP_FOR_WORKERS: usize = 2;
/// Batches per floating shard that the worker threads are behind by when the reading thread
/// runs one of them (see [`Dispatcher::help`]).
const RUN_BEHIND: u64 = 8;
/// Conversations per formatting chunk.
const CHUNK: usize = 256;
/// Conversations per part of a shard's end-of-input flush, and parts of a shard made ahead of
/// the merger: a table of a million flows copied out whole (1.7 KB a conversation) doubled the
/// memory of a run.
const FLUSH_PART: usize = 4096;
const FLUSH_PARTS_AHEAD: usize = 2;
/// Chunks sent and not yet written that the merger lets pile up while it merges the flushes.
const FLUSH_CHUNKS_AHEAD: u64 = 64;

const SNAPPED: u64 = flowstat::SNAP_L2 | flowstat::SNAP_L3_LEN | flowstat::SNAP_L3_HDR | flowstat::SNAP_L4_HDR;

/// One frame of a shard's batch: a place in one of [`Batch::maps`] or in [`Batch::bytes`].
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// Index in the batch.
    idx: u32,
    linktype: u32,
    orig_len: u32,
    len: u32,
    start: usize,
    /// Index in `maps`, or [`COPIED`].
    map: u16,
    /// The reader's observer found it contradicts an address owner.
    conflict: bool,
}

const COPIED: u16 = u16::MAX;

/// Frames ahead of the one being dissected that are prefetched.
const FRAMES_AHEAD: usize = 4;
/// Most bytes of a frame prefetched: the whole of common frames. Checking the transport
/// checksum reads all of them, and only this shard's frames are read, out of the capture's
/// order, which the CPU's own prefetching does not follow (prefetching only the first 128
/// bytes: 1.66x with two threads where the whole frame gave 1.69x, alternating runs).
const FRAME_PREFETCH: usize = 2048;

/// Asks the CPU for the cache lines of `len` bytes at `p`. The worker's frames and the
/// conversations it formats were last touched on another core (the reader's, a shard's, the
/// merger's): a miss each time they are first read, unless asked for ahead.
#[inline(always)]
fn prefetch(p: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    for at in (0..len).step_by(64) {
        // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
        unsafe { std::arch::x86_64::_mm_prefetch(p.wrapping_add(at) as *const i8, std::arch::x86_64::_MM_HINT_T0) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, len);
}

fn prefetch_frame(f: &[u8]) {
    prefetch(f.as_ptr(), f.len().min(FRAME_PREFETCH));
}

/// What the reader sends a shard.
pub(crate) struct Batch {
    first_seq: u64,
    /// Timestamps of all packets of the batch, whichever shard they belong to.
    ts: Vec<u64>,
    /// This shard's frames, in order.
    mine: Vec<Frame>,
    /// The mapped files the frames lie in (copying the frames out of a mapped file was the
    /// reader's largest cost).
    maps: Vec<MappedInput>,
    /// Frames of inputs read through a buffer (compressed files, stdin, small files), copied.
    bytes: Vec<u8>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            first_seq: 0,
            ts: Vec::with_capacity(BATCH),
            mine: Vec::with_capacity(BATCH),
            maps: Vec::new(),
            bytes: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.ts.clear();
        self.mine.clear();
        self.maps.clear();
        self.bytes.clear();
    }

    /// Where the frames lie: the bytes of each of `maps` (looked up once per batch rather than
    /// through each mapping's shared pointer per frame), then `bytes`.
    fn sources(&self) -> FrameSources<'_> {
        let mut maps: [&[u8]; 4] = [&[]; 4];
        for (m, from) in maps.iter_mut().zip(&self.maps) {
            *m = from;
        }
        FrameSources { maps, batch: self }
    }
}

/// A batch's frames, found by [`Batch::sources`].
struct FrameSources<'b> {
    /// The first few of the batch's mappings (a batch rarely spans more than two files).
    maps: [&'b [u8]; 4],
    batch: &'b Batch,
}

impl<'b> FrameSources<'b> {
    #[inline]
    fn bytes(&self, f: &Frame) -> &'b [u8] {
        let b = self.batch;
        let from: &[u8] = match self.maps.get(f.map as usize) {
            Some(m) => m,
            None => match b.maps.get(f.map as usize) {
                Some(m) => m,
                None => &b.bytes,
            },
        };
        from.get(f.start..f.start + f.len as usize).unwrap_or(&[])
    }
}

/// What a floating shard is given, in order: batches from the reader, then the end of input.
enum Job {
    Batch(Batch),
    End,
}

impl Job {
    fn first_seq(&self) -> u64 {
        match self {
            Job::Batch(b) => b.first_seq,
            Job::End => u64::MAX,
        }
    }
}

/// Formatting chunks waiting for a worker. Any worker takes them, not a fixed one: shards are
/// loaded unevenly (a long transfer between two hosts is all one shard's), and a chunk handed to
/// the busy shard waited behind its batches while the other worker idled.
#[derive(Clone, Default)]
struct FormatQueue(Arc<Mutex<Waiting>>);

#[derive(Default)]
struct Waiting {
    chunks: VecDeque<Chunk>,
    /// Formatting panicked (a bug): chunks are no longer taken, and the merger is told that
    /// they came out empty instead of waiting for them (the join reports the panic).
    failed: bool,
}

impl FormatQueue {
    /// Queues `c`; gives it back if formatting has failed.
    fn push(&self, c: Chunk) -> Result<(), Chunk> {
        let mut w = lock(&self.0);
        if w.failed {
            return Err(c);
        }
        w.chunks.push_back(c);
        Ok(())
    }
    fn pop(&self) -> Option<Chunk> {
        lock(&self.0).chunks.pop_front()
    }
    /// The next chunk if more than `keep` are waiting.
    fn pop_beyond(&self, keep: usize) -> Option<Chunk> {
        let mut w = lock(&self.0);
        if w.chunks.len() > keep {
            w.chunks.pop_front()
        } else {
            None
        }
    }
    /// After a panic while formatting: the chunks still waiting, none to come.
    fn fail(&self) -> VecDeque<Chunk> {
        let mut w = lock(&self.0);
        w.failed = true;
        std::mem::take(&mut w.chunks)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Ended by the clock reaching the packet's time (before the packet is accounted).
    Expire,
    /// Ended while the packet itself was accounted (active timeout, eviction).
    Packet,
}

/// A conversation as it travels from a shard to the output. Boxed once and recycled: once
/// formatted, the box goes back to the shard that filled it ([`ConvPools`]).
struct Conv {
    /// The shard whose pool the box returns to.
    shard: usize,
    how: Ending,
    a: FlowRecord,
    /// Holds a record only with `has_b`: kept in a recycled box so that its storage is reused.
    b: FlowRecord,
    has_b: bool,
    /// The observer's answers for the A and B rows.
    views: [PairView; 2],
}

/// The whole conversation box: the rows' columns are read from all of it. (Not only the A
/// record when there is no B: reading `has_b` to know would wait for that line.)
fn prefetch_conv(c: &Conv) {
    prefetch((c as *const Conv).cast(), std::mem::size_of::<Conv>());
}

impl Default for Conv {
    fn default() -> Conv {
        let how = Ending { reason: EndReason::Flushed, deadline_ns: 0, class: 0, link_seq: 0, end_seq: 0 };
        Conv {
            shard: 0,
            how,
            a: FlowRecord::default(),
            b: FlowRecord::default(),
            has_b: false,
            views: Default::default(),
        }
    }
}

impl Conv {
    fn b(&self) -> Option<&FlowRecord> {
        self.has_b.then_some(&self.b)
    }
    fn parts(&mut self) -> (&mut FlowRecord, Option<&mut FlowRecord>) {
        (&mut self.a, self.has_b.then_some(&mut self.b))
    }
}

/// Recycled conversations a shard keeps at most (about 1.6 KB each); the conversations in
/// flight between a shard and the output are far fewer.
const POOL: usize = 16384;

/// Each shard's spare conversation boxes, given back by whichever worker formatted them. Kept in
/// the formatting worker's own pool instead, boxes piled up (and were dropped) on the side that
/// formatted more than it ended while the other shard kept allocating new ones.
#[derive(Clone)]
struct ConvPools(std::sync::Arc<Vec<std::sync::Mutex<Vec<Box<Conv>>>>>);

impl ConvPools {
    fn new(shards: usize) -> ConvPools {
        ConvPools(std::sync::Arc::new((0..shards).map(|_| Default::default()).collect()))
    }

    /// Moves shard `shard`'s returned boxes into `local` (which is empty).
    #[allow(clippy::vec_box)]
    fn refill(&self, shard: usize, local: &mut Vec<Box<Conv>>) {
        if let Some(p) = self.0.get(shard) {
            std::mem::swap(&mut *p.lock().unwrap_or_else(|e| e.into_inner()), local);
        }
    }

    #[allow(clippy::vec_box)]
    fn give_back(&self, convs: Vec<Box<Conv>>) {
        let mut convs = convs.into_iter().peekable();
        while let Some(first) = convs.peek() {
            let shard = first.shard;
            let Some(p) = self.0.get(shard) else { return };
            let mut pool = p.lock().unwrap_or_else(|e| e.into_inner());
            while let Some(c) = convs.next_if(|c| c.shard == shard) {
                if pool.len() < POOL {
                    pool.push(c);
                }
            }
        }
    }
}

struct Ended {
    seq: u64,
    /// Position in the single-threaded output, worked out in the shard: sorting on it does not
    /// touch the boxes, which the merger's core does not have in its cache.
    order: (u64, Phase, u64),
    /// Boxed once in the shard: from there on only the pointer moves.
    conv: Box<Conv>,
}

impl Ended {
    fn new(seq: u64, phase: Phase, conv: Box<Conv>) -> Ended {
        let order = match (phase, conv.how.reason) {
            (_, EndReason::Flushed) => (u64::MAX, Phase::Expire, conv.how.link_seq),
            // Timed-out flows end in order of their last packet (one packet per sequence number).
            (Phase::Expire, _) => (seq, phase, conv.how.link_seq),
            // Only the shard that owns the packet ends flows in this phase: keep its order.
            (Phase::Packet, _) => (seq, phase, 0),
        };
        Ended { seq, order, conv }
    }
}

/// What the connStat stage needs to see in input order besides the ends: record creations and
/// packets, each at the sequence number of its packet (a creation goes before its packet).
#[derive(Debug, Clone, Copy)]
enum ConnEvent {
    Created(ConnKey),
    Packet(IpKey, u32),
}

/// What a shard sends back for one batch (or, last, for the end of input).
struct ShardResult {
    /// Provisional numbers of the conversations created, in order.
    created: Vec<u64>,
    ended: Vec<Ended>,
    /// In order of sequence number.
    events: Vec<(u64, ConnEvent)>,
    /// A part of the end-of-input flush: its conversations are in flush order, after those of
    /// the shard's earlier parts.
    flush: bool,
    /// Only in the last result: the table's counters and the frames flagged as snapped.
    counters: Option<(MeterCounters, u64)>,
}

/// Per shard, the parts of its end-of-input flush sent and not yet taken by the merger.
#[derive(Clone)]
struct FlushParts(Arc<Vec<AtomicUsize>>);

impl FlushParts {
    fn new(shards: usize) -> FlushParts {
        FlushParts(Arc::new((0..shards).map(|_| AtomicUsize::new(0)).collect()))
    }

    /// Whether `shard` may make its next part.
    fn room(&self, shard: usize) -> bool {
        self.0.get(shard).is_none_or(|n| n.load(Ordering::Acquire) < FLUSH_PARTS_AHEAD)
    }

    fn sent(&self, shard: usize) {
        if let Some(n) = self.0.get(shard) {
            n.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn taken(&self, shard: usize) {
        if let Some(n) = self.0.get(shard) {
            n.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A run of conversations for a worker to format, numbered in output order.
struct Chunk {
    no: u64,
    #[allow(clippy::vec_box)] // boxed in the shard so that only pointers move from there on
    convs: Vec<Box<Conv>>,
}

struct ShardSink {
    seq: u64,
    phase: Phase,
    ended: Vec<Ended>,
    events: Vec<(u64, ConnEvent)>,
    /// This shard's connection attempts, when rows are labelled.
    observer: Option<Observer>,
    seen: Vec<u16>,
    shard: usize,
    /// Spare conversation boxes, refilled from `pools`.
    #[allow(clippy::vec_box)]
    pool: Vec<Box<Conv>>,
    pools: ConvPools,
}

impl FlowSink for ShardSink {
    fn flow(&mut self, _first: &FlowRecord, _second: Option<&FlowRecord>) {
        unreachable!("the meter reports ends through flow_ended_mut")
    }
    fn flow_ended_mut(&mut self, first: &mut FlowRecord, second: Option<&mut FlowRecord>, how: &Ending) {
        let mut views = [PairView::default(); 2];
        if let Some(o) = self.observer.as_mut() {
            views[0] = o.row_view(first, how.deadline_ns, how.end_seq, &mut self.seen);
            if let Some(b) = second.as_deref() {
                views[1] = o.row_view(b, how.deadline_ns, how.end_seq, &mut self.seen);
            }
        }
        if self.pool.is_empty() {
            self.pools.refill(self.shard, &mut self.pool);
        }
        let mut conv = self.pool.pop().unwrap_or_default();
        conv.shard = self.shard;
        conv.how = *how;
        conv.views = views;
        first.move_out(&mut conv.a);
        conv.has_b = second.is_some();
        if let Some(b) = second {
            b.move_out(&mut conv.b);
        }
        self.ended.push(Ended::new(self.seq, self.phase, conv));
    }
    fn flow_created(&mut self, rec: &FlowRecord) {
        if let Some(k) = ConnKey::of(rec) {
            self.events.push((self.seq, ConnEvent::Created(k)));
        }
    }
}

/// Locks a mutex whose holder may have panicked (the data stays usable: the panic is reported
/// when the thread is joined).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A shard that is not the reader's own: any thread may run it, one batch at a time, in order.
struct Floating {
    jobs: Mutex<VecDeque<Job>>,
    /// Held while one of its jobs runs.
    state: Mutex<FloatingState>,
}

struct FloatingState {
    worker: Worker,
    /// None once the shard is given up (a thread panicked while running it): the merger then
    /// sees the end of its results.
    results: Option<Sender<ShardResult>>,
}

/// The shards that whichever thread is free runs: the worker threads, and the reader when they
/// fall behind (and for the last batches, once the input is read). When each of them was
/// pinned to its own thread, that thread was still busy with its backlog well after the reader
/// had read everything, and the reader could only wait. (Two shards per worker thread, so that
/// two threads could each run one at the end, measured 1.67× with two threads where one gave
/// 1.72×: every shard also follows every packet's timestamp.)
struct Floats {
    shards: Vec<Floating>,
    /// Emptied batches go back to the reader.
    spare: SyncSender<Batch>,
    /// Batches run (or given up).
    done: AtomicU64,
    flush_parts: FlushParts,
}

impl Floats {
    fn push(&self, i: usize, job: Job) {
        if let Some(f) = self.shards.get(i) {
            lock(&f.jobs).push_back(job);
        }
    }

    /// Runs the oldest waiting job among the shards that no other thread is running; false when
    /// there is none. Oldest first: the merger needs every shard's result for a batch before it
    /// can use the next batch's.
    fn run_one(&self, heads: &mut Vec<(u64, usize)>) -> bool {
        heads.clear();
        for (i, f) in self.shards.iter().enumerate() {
            if let Some(j) = lock(&f.jobs).front() {
                // A flush part waits until the merger has taken the shard's earlier ones.
                if matches!(j, Job::End) && !self.flush_parts.room(i + 1) {
                    continue;
                }
                heads.push((j.first_seq(), i));
            }
        }
        heads.sort_unstable();
        for &(_, i) in heads.iter() {
            let f = &self.shards[i];
            let mut st = match f.state.try_lock() {
                Ok(st) => st,
                Err(TryLockError::WouldBlock) => continue,
                Err(TryLockError::Poisoned(e)) => {
                    self.give_up(f, e.into_inner());
                    continue;
                }
            };
            // Taken under the state's lock, so that a shard's jobs run in order.
            let Some(job) = lock(&f.jobs).pop_front() else { continue };
            let (r, batch) = match job {
                Job::Batch(mut b) => (st.worker.batch(&mut b), Some(b)),
                Job::End => {
                    let part = st.worker.flush_part();
                    if part.counters.is_none() {
                        lock(&f.jobs).push_front(Job::End);
                    }
                    self.flush_parts.sent(i + 1);
                    (part, None)
                }
            };
            if let Some(tx) = &st.results {
                let _ = tx.send(r);
            }
            drop(st);
            if let Some(mut b) = batch {
                // After the result and outside the lock: the batch may hold the last reference
                // to a capture's mapping, and unmapping a large capture takes milliseconds
                // (with the result held back, everybody waited for it at the end of the input).
                b.clear();
                self.done.fetch_add(1, Ordering::Relaxed);
                let _ = self.spare.try_send(b);
            }
            return true;
        }
        false
    }

    /// A thread panicked while running this shard: its results end there (the join reports the
    /// panic), and its batches go back to the reader, which would otherwise wait for them.
    fn give_up(&self, f: &Floating, mut st: MutexGuard<'_, FloatingState>) {
        st.results = None;
        for job in lock(&f.jobs).drain(..) {
            if let Job::Batch(mut b) = job {
                b.clear();
                self.done.fetch_add(1, Ordering::Relaxed);
                let _ = self.spare.try_send(b);
            }
        }
    }
}

/// What a thread needs to format chunks of conversations.
struct Formatting {
    formatter: Option<Box<dyn RowFormatter>>,
    buffers: Buffers,
    pools: ConvPools,
    queue: FormatQueue,
    formatted: Sender<(u64, Vec<u8>)>,
}

impl Formatting {
    fn format(&mut self, chunk: Chunk) {
        // Should formatting panic (a bug), the merger still gets the chunk, empty, rather than
        // waiting for it forever: the run ends and the join reports the panic.
        let mut pending = PendingChunk { no: Some(chunk.no), to: &self.formatted, queue: &self.queue };
        let mut out = self.buffers.take(chunk.convs.len() * 2048);
        if let Some(f) = self.formatter.as_mut() {
            for (i, c) in chunk.convs.iter().enumerate() {
                if let Some(next) = chunk.convs.get(i + 1) {
                    prefetch_conv(next);
                }
                f.conversation(&c.a, c.b(), &c.how, c.views, &mut out);
            }
        }
        self.pools.give_back(chunk.convs);
        pending.send(out);
    }

    /// Formats the next waiting chunk; false when none is waiting.
    fn next(&mut self) -> bool {
        self.queue.pop().map(|c| self.format(c)).is_some()
    }
}

/// A chunk being formatted, owed to the merger.
struct PendingChunk<'a> {
    /// None once sent.
    no: Option<u64>,
    to: &'a Sender<(u64, Vec<u8>)>,
    queue: &'a FormatQueue,
}

impl PendingChunk<'_> {
    fn send(&mut self, rows: Vec<u8>) {
        if let Some(no) = self.no.take() {
            let _ = self.to.send((no, rows));
        }
    }
}

impl Drop for PendingChunk<'_> {
    /// Unsent: formatting panicked (a bug; the join reports it). The merger would wait for
    /// this chunk forever, and for the waiting ones too if every formatting thread met the same
    /// bug: they all go out empty, and no more are queued.
    fn drop(&mut self) {
        if self.no.is_some() {
            self.send(Vec::new());
            for c in self.queue.fail() {
                let _ = self.to.send((c.no, Vec::new()));
            }
        }
    }
}

/// The reader's side: runs shard 0 itself, fills the other shards' batches and queues them;
/// `push` is the per-packet call.
pub(crate) struct Dispatcher {
    /// Shard 0, run on the reading thread: its frames are dissected right after they are read,
    /// while still in this core's cache, and never travel.
    local: Worker,
    local_results: SyncSender<ShardResult>,
    /// Shards 1.. (index `i` is shard `i + 1`).
    floats: Arc<Floats>,
    /// Wake the worker threads: new batches, or a shard this thread ran is free again.
    workers: Vec<Sender<()>>,
    /// Emptied batches come back here; waiting for one bounds the batches in flight.
    spare: Receiver<Batch>,
    open: Vec<Batch>,
    fmt: Formatting,
    /// The merger's nudges for chunks, like the workers': ignored while reading, followed once
    /// the input is read (the rows of the last batches).
    nudges: Receiver<()>,
    heads: Vec<(u64, usize)>,
    map: ShardMap,
    /// Batches queued for the floating shards (the floats count those done).
    sent: u64,
    next_seq: u64,
    in_batch: usize,
    /// The floating shards were given their end of input.
    ended: bool,
    release: PageRelease,
}

/// Releases a mapped capture's pages behind the reader (see [`MappedInput::release_pages`]):
/// unmapping a whole 640 MiB capture at the end took 15-25 ms, on the thread that dropped the
/// last batch, while the other one formatted the last rows alone. Spread over the run, the
/// same work is shared by both.
struct PageRelease {
    map: Option<MappedInput>,
    /// Where the reader was in `map` at the last flushes, oldest first: only the frames of the
    /// oldest of them have surely been run (see [`PageRelease::new`]).
    marks: VecDeque<usize>,
    released: usize,
    flushes_in_flight: usize,
    /// [`RELEASE_STEP`], smaller in tests.
    step: usize,
}

impl PageRelease {
    /// Every flush takes a spare batch per floating shard, and there are `IN_FLIGHT` of them per
    /// floating shard besides the open ones: one shard can be that many flushes behind.
    fn new(floating: usize) -> PageRelease {
        PageRelease {
            map: None,
            marks: VecDeque::new(),
            released: 0,
            flushes_in_flight: floating * IN_FLIGHT + 1,
            step: RELEASE_STEP,
        }
    }

    /// The reader flushed its batches at `at` in `map`.
    fn flushed(&mut self, map: &MappedInput, at: usize) {
        if !self.map.as_ref().is_some_and(|m| m.same(map)) {
            self.map = Some(map.clone());
            self.marks.clear();
            self.released = 0;
        }
        self.marks.push_back(at);
        if self.marks.len() <= self.flushes_in_flight {
            return;
        }
        let Some(done) = self.marks.pop_front() else { return };
        if done >= self.released + self.step {
            map.release_pages(self.released..done);
            self.released = done;
        }
    }
}

impl Dispatcher {
    pub(crate) fn shard_map(&self) -> ShardMap {
        self.map
    }

    /// Accounts one frame: its timestamp goes to every other shard; a frame of shard 0 is run
    /// here, another shard's goes into that shard's batch (its place in `source` when it lies
    /// there, else a copy).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        ts_ns: u64,
        linktype: u32,
        data: &[u8],
        orig_len: u32,
        shard: usize,
        conflict: bool,
        source: Option<&MappedInput>,
    ) {
        let idx = self.in_batch as u32;
        let seq = self.next_seq + idx as u64;
        for b in &mut self.open {
            b.ts.push(ts_ns);
        }
        if let Some(b) = shard.checked_sub(1).and_then(|i| self.open.get_mut(i)) {
            self.local.other_packet(seq, ts_ns);
            let placed = source.and_then(|m| Some((m, m.offset_of(data)?)));
            let (start, map) = match placed {
                Some((m, at)) => {
                    if !b.maps.last().is_some_and(|l| l.same(m)) {
                        b.maps.push(m.clone());
                    }
                    (at, (b.maps.len() - 1) as u16)
                }
                None => {
                    let start = b.bytes.len();
                    b.bytes.extend_from_slice(data);
                    (start, COPIED)
                }
            };
            b.mine.push(Frame { idx, linktype, orig_len, len: data.len() as u32, start, map, conflict });
        } else {
            self.local.own_packet(seq, ts_ns, linktype, data, orig_len, conflict);
        }
        self.in_batch += 1;
        if self.in_batch == BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.in_batch == 0 {
            return;
        }
        // Where the reader is: the last frame of a floating shard's batch that lies in a map.
        let at = self.open.iter().filter_map(|b| {
            let f = b.mine.last()?;
            Some((b.maps.get(f.map as usize)?, f.start))
        });
        if let Some((map, at)) = at.max_by_key(|&(_, at)| at) {
            let map = map.clone();
            self.release.flushed(&map, at);
        }
        for i in 0..self.open.len() {
            let fresh = self.spare_batch();
            let mut b = std::mem::replace(&mut self.open[i], fresh);
            b.first_seq = self.next_seq;
            self.floats.push(i, Job::Batch(b));
            self.sent += 1;
        }
        self.wake_workers();
        let _ = self.local_results.send(self.local.result());
        self.next_seq += self.in_batch as u64;
        self.in_batch = 0;
        while self.nudges.try_recv().is_ok() {}
        self.help();
    }

    fn wake_workers(&self) {
        for w in &self.workers {
            // A worker that went away has failed; the join reports it.
            let _ = w.send(());
        }
    }

    /// Runs a floating shard's batch here; false when none could be run.
    fn run_floating(&mut self) -> bool {
        let ran = self.floats.run_one(&mut self.heads);
        if ran {
            // A worker may have found that shard busy and gone to sleep.
            self.wake_workers();
        }
        ran
    }

    /// This thread reads and runs shard 0, the worker threads run the other shards and format
    /// the rows: whoever is behind decides who does what. Workers far behind (a burst of
    /// packets in their shards): one of their batches is run here and every waiting chunk
    /// formatted; close behind: chunks are taken only when they pile up (about as many are made
    /// per batch, so one per batch can take them all); not behind: this thread is the one
    /// everybody waits for, it takes nothing.
    fn help(&mut self) {
        let shards = self.floats.shards.len().max(1) as u64;
        let behind = self.sent.saturating_sub(self.floats.done.load(Ordering::Relaxed)) / shards;
        if behind >= RUN_BEHIND {
            self.run_floating();
            while self.fmt.next() {}
        } else if behind > 1 {
            if let Some(chunk) = self.fmt.queue.pop_beyond(KEEP_FOR_WORKERS) {
                self.fmt.format(chunk);
            }
        }
    }

    /// An emptied batch. While none is back (the other shards are behind the reader), runs
    /// their batches or formats rows instead of waiting.
    fn spare_batch(&mut self) -> Batch {
        loop {
            match self.spare.try_recv() {
                Ok(b) => return b,
                Err(TryRecvError::Disconnected) => return Batch::new(),
                Err(TryRecvError::Empty) => {}
            }
            if !self.run_floating() && !self.fmt.next() {
                // Every batch out is queued for a shard another thread is running, or running.
                return self.spare.recv().unwrap_or_else(|_| Batch::new());
            }
        }
    }

    fn end_floating(&mut self) {
        if !self.ended {
            self.ended = true;
            for i in 0..self.floats.shards.len() {
                self.floats.push(i, Job::End);
            }
            self.wake_workers();
        }
    }

    /// Queues what is left and the end of input, then runs the floating shards' last batches and
    /// formats rows like the worker threads until the merger is done; returns this thread's
    /// formatter.
    pub(crate) fn finish(mut self) -> Option<Box<dyn RowFormatter>> {
        self.flush();
        self.end_floating();
        let mut flushed = false;
        loop {
            if !flushed && self.floats.flush_parts.room(0) {
                let part = self.local.flush_part();
                flushed = part.counters.is_some();
                self.floats.flush_parts.sent(0);
                let _ = self.local_results.send(part);
                continue;
            }
            if self.run_floating() || self.fmt.next() {
                continue;
            }
            // Ends when the merger drops its senders.
            if self.nudges.recv().is_err() {
                break;
            }
        }
        self.fmt.formatter.take()
    }
}

impl Drop for Dispatcher {
    /// A reader that panicked still ends the floating shards, so that the merger and the
    /// workers finish and the panic reaches the caller.
    fn drop(&mut self) {
        self.end_floating();
    }
}

struct Worker {
    meter: FlowMeter,
    sink: ShardSink,
    info: PacketInfo,
    snapped: u64,
    /// Provisional numbers of the conversations created since the last result.
    created: Vec<u64>,
}

impl Worker {
    fn new(shard: usize, cfg: &MeterConfig, observer: Option<Observer>, pools: ConvPools) -> Worker {
        Worker {
            meter: FlowMeter::new_shard(cfg.clone()),
            sink: ShardSink {
                seq: 0,
                phase: Phase::Expire,
                ended: Vec::new(),
                events: Vec::new(),
                observer,
                seen: Vec::with_capacity(64),
                shard,
                pool: Vec::new(),
                pools,
            },
            info: PacketInfo::default(),
            snapped: 0,
            created: Vec::new(),
        }
    }

    fn batch(&mut self, batch: &mut Batch) -> ShardResult {
        let frames = batch.sources();
        let mut mine = batch.mine.iter().peekable();
        let mut ahead = batch.mine.iter();
        for f in ahead.by_ref().take(FRAMES_AHEAD) {
            prefetch_frame(frames.bytes(f));
        }
        for (j, &ts) in batch.ts.iter().enumerate() {
            let seq = batch.first_seq + j as u64;
            let Some(f) = mine.next_if(|f| f.idx as usize == j) else {
                self.other_packet(seq, ts);
                continue;
            };
            if let Some(next) = ahead.next() {
                prefetch_frame(frames.bytes(next));
            }
            self.own_packet(seq, ts, f.linktype, frames.bytes(f), f.orig_len, f.conflict);
        }
        self.result()
    }

    /// Another shard's packet `seq`: here it usually only moves the clock.
    #[inline]
    fn other_packet(&mut self, seq: u64, ts: u64) {
        self.sink.seq = seq;
        if self.meter.would_expire(ts) {
            self.sink.phase = Phase::Expire;
            self.meter.expire_seq(seq, ts, &mut self.sink);
        } else {
            self.meter.advance_clock(ts);
        }
    }

    /// This shard's packet `seq`; `conflict`: the reader's observer found it contradicts an
    /// address owner.
    #[inline]
    fn own_packet(&mut self, seq: u64, ts: u64, linktype: u32, data: &[u8], orig_len: u32, conflict: bool) {
        self.sink.seq = seq;
        let p = &mut self.info;
        // The reader dissected or checked this frame already: it is a flow's.
        if dissect(linktype, data, orig_len, p).is_err() {
            self.sink.phase = Phase::Expire;
            self.meter.expire_seq(seq, ts, &mut self.sink);
            return;
        }
        p.mac_ip_conflict |= conflict;
        if p.flow_stat & SNAPPED != 0 {
            self.snapped += 1;
        }
        // What one thread's observer had seen when this packet's flows ended: this packet too.
        if let Some(o) = self.sink.observer.as_mut() {
            o.attempts_packet(seq, ts, p);
        }
        self.sink.phase = Phase::Expire;
        self.meter.expire_seq(seq, ts, &mut self.sink);
        self.sink.phase = Phase::Packet;
        if self.meter.packet_seq(seq, ts, p, &mut self.sink) {
            self.created.push(seq + 1);
        }
        if let Some(src) = packet_source(p) {
            self.sink.events.push((seq, ConnEvent::Packet(src, p.l7_len)));
        }
    }

    /// What the packets since the last result did.
    fn result(&mut self) -> ShardResult {
        // The next batch's vectors start at this one's size rather than growing again.
        let (n_created, n_ended, n_events) = (self.created.len(), self.sink.ended.len(), self.sink.events.len());
        ShardResult {
            created: std::mem::replace(&mut self.created, Vec::with_capacity(n_created)),
            ended: std::mem::replace(&mut self.sink.ended, Vec::with_capacity(n_ended)),
            events: std::mem::replace(&mut self.sink.events, Vec::with_capacity(n_events)),
            flush: false,
            counters: None,
        }
    }

    /// The next part of the end-of-input flush; the last one carries the table's counters.
    fn flush_part(&mut self) -> ShardResult {
        self.sink.seq = u64::MAX;
        self.sink.phase = Phase::Expire;
        let done = self.meter.finish_some(FLUSH_PART, &mut self.sink);
        ShardResult {
            created: Vec::new(),
            ended: std::mem::take(&mut self.sink.ended),
            events: Vec::new(),
            flush: true,
            counters: done.then(|| (self.meter.counters().clone(), self.snapped)),
        }
    }
}

/// A worker thread: runs the floating shards' batches (oldest first) and formats chunks,
/// whichever is waiting, batches first; sleeps until nudged. Returns its formatter (with its
/// label counts).
fn worker_main(floats: Arc<Floats>, mut fmt: Formatting, nudges: Receiver<()>) -> Option<Box<dyn RowFormatter>> {
    let mut heads = Vec::new();
    loop {
        if floats.run_one(&mut heads) || fmt.next() {
            continue;
        }
        // Ends once the reader and the merger are done.
        if nudges.recv().is_err() {
            break;
        }
    }
    fmt.formatter
}

/// Formatted chunks' buffers, handed back by the merger once written: a fresh half-megabyte
/// buffer per chunk cost a page fault per 4 KiB (the output is ~750 bytes per row).
#[derive(Clone, Default)]
struct Buffers(std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

impl Buffers {
    /// Chunks formatted or written at a time are few; more buffers than this are dropped.
    const KEEP: usize = 64;

    fn take(&self, capacity: usize) -> Vec<u8> {
        let spare = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        spare.unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    fn give_back(&self, buf: &mut Vec<u8>) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < Self::KEEP {
            buf.clear();
            kept.push(std::mem::take(buf));
        }
    }
}

/// Where the merger sends ordered conversations: out to the workers in chunks, or to the sink.
struct Output<'s> {
    sink: &'s mut dyn RowSink,
    /// Nudges for the worker threads and the reader.
    workers: Vec<Sender<()>>,
    formats: FormatQueue,
    /// Formatting in chunks (every thread has a formatter).
    parallel: bool,
    #[allow(clippy::vec_box)]
    chunk: Vec<Box<Conv>>,
    next_chunk: u64,
    formatted: Receiver<(u64, Vec<u8>)>,
    /// Formatted chunks that came before their turn.
    waiting: HashMap<u64, Vec<u8>>,
    buffers: Buffers,
    next_write: u64,
    closed: &'s AtomicBool,
    observer: Option<SharedObserver>,
    conversations: u64,
    rows: u64,
}

impl Output<'_> {
    fn conversation(&mut self, mut c: Box<Conv>) {
        self.conversations += 1;
        self.rows += 1 + c.has_b as u64;
        if self.parallel {
            self.chunk.push(c);
            if self.chunk.len() >= CHUNK {
                self.send_chunk();
            }
            return;
        }
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        if let Some(o) = &self.observer {
            let a = (preset_key(&c.a, c.how.end_seq), c.views[0]);
            let answers = match c.b() {
                Some(b) => [a, (preset_key(b, c.how.end_seq), c.views[1])],
                None => [a, a],
            };
            let n = 1 + c.has_b as usize;
            o.lock().unwrap_or_else(|e| e.into_inner()).preset(&answers[..n]);
        }
        let how = c.how;
        let (a, b) = c.parts();
        self.sink.flow_ended_mut(a, b, &how);
        if self.sink.is_closed() {
            self.closed.store(true, Ordering::Relaxed);
        }
    }

    fn send_chunk(&mut self) {
        if self.chunk.is_empty() {
            return;
        }
        let convs = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        let no = self.next_chunk;
        self.next_chunk += 1;
        if self.formats.push(Chunk { no, convs }).is_err() {
            self.waiting.insert(no, Vec::new());
            return;
        }
        self.nudge();
    }

    fn nudge(&self) {
        for w in &self.workers {
            // A worker that went away has failed; the join reports it.
            let _ = w.send(());
        }
    }

    /// Writes formatted chunks, waiting for them until at most `ahead` sent ones are not
    /// written.
    fn write_until(&mut self, ahead: u64) {
        self.write_ready(false);
        while self.next_chunk.saturating_sub(self.next_write) > ahead {
            let Ok((no, bytes)) = self.formatted.recv() else { return };
            self.waiting.insert(no, bytes);
            self.write_ready(false);
        }
    }

    /// Writes the formatted chunks that are due; with `all`, waits for every chunk sent.
    fn write_ready(&mut self, all: bool) {
        loop {
            // Chunks can be waiting before anything is received (see `send_chunk`).
            while let Some(mut bytes) = self.waiting.remove(&self.next_write) {
                self.next_write += 1;
                if !self.closed.load(Ordering::Relaxed) && !self.sink.write_rows(&bytes) {
                    self.closed.store(true, Ordering::Relaxed);
                }
                self.buffers.give_back(&mut bytes);
            }
            let got = if all && self.next_write < self.next_chunk {
                match self.formatted.recv() {
                    Ok(g) => g,
                    Err(_) => return,
                }
            } else {
                match self.formatted.try_recv() {
                    Ok(g) => g,
                    Err(_) => return,
                }
            };
            self.waiting.insert(got.0, got.1);
        }
    }
}

/// Puts the shards' results back in single-threaded order; returns the shards' counters added
/// up and the frames flagged as snapped.
fn merge_main(results: Vec<Receiver<ShardResult>>, flush_parts: &FlushParts, out: &mut Output) -> (MeterCounters, u64) {
    let mut dense: HashMap<u64, u64> = HashMap::new();
    let mut next_ind = 0u64;
    let mut total = MeterCounters::default();
    let mut snapped = 0;
    let mut done = vec![false; results.len()];
    let mut created = Vec::new();
    let mut ended: Vec<Option<Ended>> = Vec::new();
    let mut order: Vec<((u64, Phase, u64), usize)> = Vec::new();
    // This round's events, one run per shard, each in order of sequence number.
    let mut events: Vec<Vec<(u64, ConnEvent)>> = (0..results.len()).map(|_| Vec::new()).collect();
    let mut at = vec![0usize; results.len()];
    // The stages that need the global order of creations, packets and ends run here (connStat,
    // tcpWS).
    let mut conn = ConnStat::new();
    let mut ws = WsState::default();
    // Each shard's end-of-input flush, a part at a time, once every shard has begun it.
    let mut flushing: Vec<Option<VecDeque<Ended>>> = (0..results.len()).map(|_| None).collect();
    while (0..results.len()).any(|i| !done[i] && flushing[i].is_none()) {
        created.clear();
        ended.clear();
        events.iter_mut().for_each(Vec::clear);
        at.iter_mut().for_each(|a| *a = 0);
        for (i, rx) in results.iter().enumerate() {
            if done[i] || flushing[i].is_some() {
                continue;
            }
            // Every shard sends one result per batch, in batch order, then its last one.
            let Ok(r) = rx.recv() else {
                done[i] = true;
                continue;
            };
            if r.flush {
                flush_parts.taken(i);
                out.nudge();
                flushing[i] = Some(VecDeque::from(r.ended));
                if let Some((c, s)) = r.counters {
                    add(&mut total, &c);
                    snapped += s;
                    done[i] = true;
                }
                continue;
            }
            created.extend_from_slice(&r.created);
            ended.extend(r.ended.into_iter().map(Some));
            // A packet's events come from its own shard only: the runs merge without a sort (and
            // without copying them into one vector, which was most of the merger's time).
            events[i] = r.events;
            if let Some((c, s)) = r.counters {
                add(&mut total, &c);
                snapped += s;
                done[i] = true;
            }
        }
        created.sort_unstable();
        for &prov in &created {
            next_ind += 1;
            dense.insert(prov, next_ind);
        }
        order.clear();
        order.extend(ended.iter().enumerate().filter_map(|(i, e)| e.as_ref().map(|e| (e.order, i))));
        // Ties keep the shard's own order (the index breaks them).
        order.sort_unstable();
        // Applies the events before packet `before`, taking the earliest of the runs' heads.
        let mut apply = |conn: &mut ConnStat, before: u64| loop {
            let mut next: Option<(u64, usize)> = None;
            for (s, run) in events.iter().enumerate() {
                if let Some(&(seq, _)) = run.get(at[s]) {
                    if seq < before && next.is_none_or(|(n, _)| seq < n) {
                        next = Some((seq, s));
                    }
                }
            }
            let Some((_, s)) = next else { break };
            match &events[s][at[s]].1 {
                ConnEvent::Created(k) => conn.created(k),
                ConnEvent::Packet(src, len) => conn.packet(*src, *len),
            }
            at[s] += 1;
        };
        for (k, &(_, i)) in order.iter().enumerate() {
            if let Some(Some(next)) = order.get(k + 1).and_then(|&(_, j)| ended.get(j)) {
                prefetch_conv(&next.conv);
            }
            let Some(e) = ended[i].take() else { continue };
            // Flows that end at a packet end before it is accounted.
            apply(&mut conn, e.seq);
            settle(e.conv, &mut conn, &mut ws, &mut dense, out);
        }
        apply(&mut conn, u64::MAX);
        if out.parallel {
            // Whatever ended in this batch goes out now, so that workers keep busy.
            out.send_chunk();
            out.write_ready(false);
        }
    }
    // The end-of-input flushes: each shard's parts come in flush order, merged here; a shard's
    // next part is taken once its last one is used up.
    loop {
        for (i, q) in flushing.iter_mut().enumerate() {
            let Some(q) = q else { continue };
            while q.is_empty() && !done[i] {
                if out.parallel {
                    // Boxes waiting to be formatted would pile up: the merger outruns formatting.
                    out.write_until(FLUSH_CHUNKS_AHEAD);
                }
                let Ok(r) = results[i].recv() else {
                    done[i] = true;
                    break;
                };
                flush_parts.taken(i);
                out.nudge();
                q.extend(r.ended);
                if let Some((c, s)) = r.counters {
                    add(&mut total, &c);
                    snapped += s;
                    done[i] = true;
                }
            }
        }
        let next = flushing.iter().enumerate().filter_map(|(i, q)| Some((q.as_ref()?.front()?.order, i))).min();
        let Some(e) = next.and_then(|(_, i)| flushing[i].as_mut()?.pop_front()) else { break };
        settle(e.conv, &mut conn, &mut ws, &mut dense, out);
    }
    if out.parallel {
        out.send_chunk();
        out.write_ready(true);
    }
    (total, snapped)
}

/// What the merger does with each ended conversation, in output order: connStat and tcpWS read
/// and update their live state, the conversation takes its flowInd and goes out.
fn settle(mut c: Box<Conv>, conn: &mut ConnStat, ws: &mut WsState, dense: &mut HashMap<u64, u64>, out: &mut Output) {
    let (a, mut b) = c.parts();
    conn.ended(a);
    if let Some(b) = b.as_deref_mut() {
        conn.ended(b);
    }
    ws.ended(a, b.as_deref_mut());
    let ind = dense.remove(&a.flow_ind).unwrap_or(a.flow_ind);
    a.flow_ind = ind;
    if let Some(b) = b {
        b.flow_ind = ind;
    }
    out.conversation(c);
}

fn add(t: &mut MeterCounters, c: &MeterCounters) {
    t.packets += c.packets;
    t.flows_a += c.flows_a;
    t.flows_b += c.flows_b;
    t.ended_by_timeout += c.ended_by_timeout;
    t.evicted += c.evicted;
    t.ended_by_active_timeout += c.ended_by_active_timeout;
    t.flushed_at_end += c.flushed_at_end;
    t.orphan_fragments += c.orphan_fragments;
    t.peak_flows += c.peak_flows;
}

/// What the sharded run hands back besides what `read` returned.
pub(crate) struct ShardTotals {
    pub counters: MeterCounters,
    pub snapped: u64,
    pub conversations: u64,
    pub rows: u64,
}

/// Runs `read` (which feeds the dispatcher) on this thread with `threads - 1` worker threads and
/// a merging thread that feeds `sink`; returns what `read` returned and the totals.
pub(crate) fn with_shards<R>(
    cfg: &MeterConfig,
    threads: usize,
    observer: Option<SharedObserver>,
    sink: &mut dyn RowSink,
    read: impl FnOnce(&mut Dispatcher, &AtomicBool) -> R,
) -> (R, ShardTotals) {
    let closed = AtomicBool::new(false);
    let threads = threads.max(2);
    let floating = threads - 1;
    let shards = 1 + floating;
    let shard_cfg = MeterConfig { max_flows: (cfg.max_flows / shards).max(2), ..cfg.clone() };
    let mut formatters: Vec<Box<dyn RowFormatter>> = (0..threads).map_while(|_| sink.formatter()).collect();
    let parallel = formatters.len() == threads;
    if !parallel {
        formatters.clear();
    }
    let buffers = Buffers::default();
    std::thread::scope(|s| {
        let (spare_tx, spare_rx) = sync_channel(floating * (IN_FLIGHT + 2));
        for _ in 0..floating * IN_FLIGHT {
            let _ = spare_tx.try_send(Batch::new());
        }
        let (fmt_tx, fmt_rx) = channel();
        let pools = ConvPools::new(shards);
        let formats = FormatQueue::default();
        let shard_observer = || observer.as_ref().map(|_| Observer::for_shard(shards));
        let (local_results, local_rx) = sync_channel::<ShardResult>(IN_FLIGHT);
        let mut results = vec![local_rx];
        let mut float_shards = Vec::new();
        for shard in 1..shards {
            let (rtx, rrx) = channel::<ShardResult>();
            results.push(rrx);
            let worker = Worker::new(shard, &shard_cfg, shard_observer(), pools.clone());
            float_shards.push(Floating {
                jobs: Mutex::new(VecDeque::new()),
                state: Mutex::new(FloatingState { worker, results: Some(rtx) }),
            });
        }
        let flush_parts = FlushParts::new(shards);
        let floats = Arc::new(Floats {
            shards: float_shards,
            spare: spare_tx,
            done: AtomicU64::new(0),
            flush_parts: flush_parts.clone(),
        });
        let formatting = |formatter| Formatting {
            formatter,
            buffers: buffers.clone(),
            pools: pools.clone(),
            queue: formats.clone(),
            formatted: fmt_tx.clone(),
        };
        let mut handles = Vec::new();
        let mut workers = Vec::new();
        for _ in 1..threads {
            let (tx, rx) = channel::<()>();
            let (floats, fmt) = (floats.clone(), formatting(formatters.pop()));
            handles.push(s.spawn(move || worker_main(floats, fmt, rx)));
            workers.push(tx);
        }
        let (nudge_tx, nudges) = channel::<()>();
        let mut d = Dispatcher {
            local: Worker::new(0, &shard_cfg, shard_observer(), pools.clone()),
            local_results,
            floats,
            workers: workers.clone(),
            spare: spare_rx,
            open: (1..shards).map(|_| Batch::new()).collect(),
            fmt: formatting(formatters.pop()),
            nudges,
            heads: Vec::with_capacity(floating),
            map: ShardMap::new(shards),
            sent: 0,
            next_seq: 0,
            in_batch: 0,
            ended: false,
            release: PageRelease::new(floating),
        };
        // The dispatcher and the merger hold the only senders to the workers: they stop once
        // both are gone.
        workers.push(nudge_tx);
        drop(fmt_tx);
        let closed_ref = &closed;
        let merger = s.spawn(move || {
            let mut out = Output {
                sink,
                workers,
                formats,
                parallel,
                chunk: Vec::with_capacity(CHUNK),
                next_chunk: 0,
                formatted: fmt_rx,
                waiting: HashMap::new(),
                buffers: buffers.clone(),
                next_write: 0,
                closed: closed_ref,
                observer,
                conversations: 0,
                rows: 0,
            };
            let (counters, snapped) = merge_main(results, &flush_parts, &mut out);
            let totals = ShardTotals { counters, snapped, conversations: out.conversations, rows: out.rows };
            // The workers stop once nobody can send them work.
            drop(out.workers);
            (totals, out.sink)
        });
        let r = read(&mut d, &closed);
        let local_formatter = d.finish();
        let (totals, sink) = match merger.join() {
            Ok(t) => t,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if let Some(f) = local_formatter {
            sink.formatter_done(f);
        }
        for h in handles {
            match h.join() {
                Ok(Some(f)) => sink.formatter_done(f),
                Ok(None) => {}
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (r, totals)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dispatcher with one floating shard and no worker thread, and the merger's ends of the
    /// result channels.
    fn lone_dispatcher() -> (Dispatcher, Vec<Receiver<ShardResult>>) {
        let (spare_tx, spare_rx) = sync_channel(IN_FLIGHT + 2);
        for _ in 0..2 {
            let _ = spare_tx.try_send(Batch::new());
        }
        let pools = ConvPools::new(2);
        let (local_results, local_rx) = sync_channel(1 << 20);
        let (rtx, rrx) = channel();
        let worker = Worker::new(1, &MeterConfig::default(), None, pools.clone());
        let floating = Floating {
            jobs: Mutex::new(VecDeque::new()),
            state: Mutex::new(FloatingState { worker, results: Some(rtx) }),
        };
        let floats = Arc::new(Floats {
            shards: vec![floating],
            spare: spare_tx,
            done: AtomicU64::new(0),
            flush_parts: FlushParts::new(2),
        });
        let (formatted, _) = channel();
        let (_, nudges) = channel();
        let d = Dispatcher {
            local: Worker::new(0, &MeterConfig::default(), None, pools.clone()),
            local_results,
            floats,
            workers: Vec::new(),
            spare: spare_rx,
            open: vec![Batch::new()],
            fmt: Formatting {
                formatter: None,
                buffers: Buffers::default(),
                pools,
                queue: FormatQueue::default(),
                formatted,
            },
            nudges,
            heads: Vec::new(),
            map: ShardMap::new(2),
            sent: 0,
            next_seq: 0,
            in_batch: 0,
            ended: false,
            release: PageRelease::new(1),
        };
        (d, vec![local_rx, rrx])
    }

    /// Feeds `n` frames to shard 1 on another thread; what it fed, or None if it hung.
    fn feed_shard_1(mut d: Dispatcher, n: u64) -> Option<u64> {
        let (done_tx, done_rx) = channel();
        std::thread::spawn(move || {
            let frame = [0u8; 60];
            for i in 0..n {
                d.push(i * 1000, 1, &frame, 60, 1, false, None);
            }
            let _ = done_tx.send(d.next_seq);
            std::mem::forget(d);
        });
        done_rx.recv_timeout(std::time::Duration::from_secs(20)).ok()
    }

    /// With the workers behind (here: none), the reader runs the floating shards' batches
    /// itself, in order, and each gives one result per batch.
    #[test]
    fn reader_runs_floating_shards_when_no_worker_does() {
        let (d, results) = lone_dispatcher();
        let fed = feed_shard_1(d, (10 * BATCH) as u64).expect("the reader hung");
        assert_eq!(fed, (10 * BATCH) as u64);
        let from_shard_1: Vec<_> = results[1].try_iter().collect();
        // Two batches were spare: the reader ran at least the eight others.
        assert!(from_shard_1.len() >= 8, "{} results", from_shard_1.len());
        assert_eq!(results[0].try_iter().count(), 10);
    }

    /// A thread that panicked while running a shard must not leave the reader waiting forever
    /// for that shard's batches to come back, nor the merger for its results.
    #[test]
    fn reader_goes_on_when_a_shard_is_poisoned() {
        let (d, results) = lone_dispatcher();
        let floats = d.floats.clone();
        let _ = std::thread::spawn(move || {
            let _held = floats.shards[0].state.lock();
            panic!("poisons the shard");
        })
        .join();
        let fed = feed_shard_1(d, (10 * BATCH) as u64).expect("the reader hung");
        assert_eq!(fed, (10 * BATCH) as u64);
        // The shard's results ended (its sender was dropped) without any.
        assert!(matches!(results[1].try_recv(), Err(TryRecvError::Disconnected)));
    }

    /// A reading thread that panics (a bug) must not leave the workers and the merger waiting for
    /// the end of input: the run ends and the panic reaches the caller.
    #[test]
    fn a_panicking_reader_reaches_the_caller() {
        struct Count;
        impl FlowSink for Count {
            fn flow(&mut self, _: &FlowRecord, _: Option<&FlowRecord>) {}
        }
        impl RowSink for Count {}
        let (done_tx, done_rx) = channel();
        std::thread::spawn(move || {
            let run = std::panic::AssertUnwindSafe(|| {
                with_shards(&MeterConfig::default(), 3, None, &mut Count, |d, _| {
                    let frame = [0u8; 60];
                    for i in 0..(3 * BATCH) as u64 {
                        d.push(i * 1000, 1, &frame, 60, (i % 3) as usize, false, None);
                    }
                    panic!("a bug in the reader");
                })
            });
            let _ = done_tx.send(std::panic::catch_unwind(run).is_err());
        });
        let panicked = done_rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the run hung");
        assert!(panicked);
    }

    #[test]
    fn pages_are_released_behind_the_batches_in_flight() {
        use netanom_capture::CaptureReader;
        let dir = std::env::temp_dir().join(format!("netanom-page-release-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Large enough to be mapped.
        let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];
        for i in 0..1200u32 {
            for v in [i, 0, 1000, 1000] {
                pcap.extend(v.to_le_bytes());
            }
            pcap.extend([(i % 251) as u8; 1000]);
        }
        let (a, b) = (dir.join("a.pcap"), dir.join("b.pcap"));
        std::fs::write(&a, &pcap).unwrap();
        std::fs::write(&b, &pcap).unwrap();
        let map = |p| CaptureReader::open(p).unwrap().mapped_input().expect("a large file is mapped");
        let (a, b) = (map(&a), map(&b));
        let mut r = PageRelease { step: 4096, ..PageRelease::new(1) };
        // Nothing while every flush so far may still have batches in flight.
        for i in 0..r.flushes_in_flight {
            r.flushed(&a, i * 10_000);
            assert_eq!(r.released, 0);
        }
        // The oldest mark (0) is done, but less than a step lies behind it.
        r.flushed(&a, 400_000);
        assert_eq!(r.released, 0);
        r.flushed(&a, 410_000);
        assert_eq!(r.released, 10_000);
        r.flushed(&a, 420_000);
        assert_eq!(r.released, 20_000);
        // The released bytes read the same.
        assert_eq!(&a[..], &pcap[..]);
        // The next input starts over.
        r.flushed(&b, 5_000);
        assert!(r.map.as_ref().is_some_and(|m| m.same(&b)));
        assert_eq!((r.released, r.marks.len()), (0, 1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An Ethernet/IPv4/UDP frame from 10.0.0.1:`sport` to 10.0.0.2:53.
    fn udp_frame(sport: u16) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 8];
        f[..12].copy_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut f[14..34];
        ip.copy_from_slice(&[0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        let sum: u32 = ip.chunks(2).map(|w| u16::from_be_bytes([w[0], w[1]]) as u32).sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        ip[10..12].copy_from_slice(&(!(folded as u16)).to_be_bytes());
        f[34..36].copy_from_slice(&sport.to_be_bytes());
        f[36..38].copy_from_slice(&53u16.to_be_bytes());
        f[38..40].copy_from_slice(&8u16.to_be_bytes());
        f
    }

    /// A table that holds more than a part's worth of flows at the end of the input flushes
    /// them in parts, and the parts of all shards come out in one table's flush order, whether
    /// the merger hands the conversations to the sink or the threads format them in chunks.
    #[test]
    fn the_end_of_input_flush_goes_out_in_parts_in_one_tables_order() {
        /// Each conversation as "port flowInd\n", in the sink or by formatters.
        struct Ports {
            text: Vec<u8>,
            formatters: bool,
        }
        fn row(a: &FlowRecord, out: &mut Vec<u8>) {
            out.extend(format!("{} {}\n", a.key.src_port, a.flow_ind).bytes());
        }
        impl FlowSink for Ports {
            fn flow(&mut self, a: &FlowRecord, _: Option<&FlowRecord>) {
                row(a, &mut self.text);
            }
        }
        struct Format;
        impl RowFormatter for Format {
            fn conversation(
                &mut self,
                a: &FlowRecord,
                _: Option<&FlowRecord>,
                _: &Ending,
                _: [PairView; 2],
                out: &mut Vec<u8>,
            ) {
                row(a, out);
            }
        }
        impl RowSink for Ports {
            fn formatter(&mut self) -> Option<Box<dyn RowFormatter>> {
                self.formatters.then(|| Box::new(Format) as Box<dyn RowFormatter>)
            }
            fn write_rows(&mut self, bytes: &[u8]) -> bool {
                self.text.extend_from_slice(bytes);
                true
            }
        }
        let n = 3 * FLUSH_PART as u16 + 100;
        // A flush ends flows by their last packet: the order they were pushed in.
        let expected: String = (0..n).map(|i| format!("{} {}\n", 1024 + i, i as u64 + 1)).collect();
        for formatters in [false, true] {
            let mut rows = Ports { text: Vec::new(), formatters };
            let (_, totals) = with_shards(&MeterConfig::default(), 3, None, &mut rows, |d, _| {
                for i in 0..n {
                    let f = udp_frame(1024 + i);
                    // Within the idle timeout: every flow is still live at the end.
                    d.push(i as u64 * 1000, 1, &f, f.len() as u32, (i % 3) as usize, false, None);
                }
            });
            assert_eq!(totals.counters.flushed_at_end, n as u64);
            assert!(String::from_utf8_lossy(&rows.text) == expected, "formatters: {formatters}");
        }
    }

    /// Formatting that panics (a bug) on one thread must not leave the merger waiting for the
    /// chunk it was formatting while the others wait for the merger: the run ends and the panic
    /// reaches the caller.
    #[test]
    fn a_panicking_formatter_ends_the_run() {
        static ONCE: AtomicBool = AtomicBool::new(false);
        struct Bomb;
        impl RowFormatter for Bomb {
            fn conversation(
                &mut self,
                _: &FlowRecord,
                _: Option<&FlowRecord>,
                _: &Ending,
                _: [PairView; 2],
                _: &mut Vec<u8>,
            ) {
                if !ONCE.swap(true, Ordering::Relaxed) {
                    panic!("a bug in formatting");
                }
            }
        }
        struct Rows(u64);
        impl FlowSink for Rows {
            fn flow(&mut self, _: &FlowRecord, _: Option<&FlowRecord>) {}
        }
        impl RowSink for Rows {
            fn formatter(&mut self) -> Option<Box<dyn RowFormatter>> {
                Some(Box::new(Bomb))
            }
            fn write_rows(&mut self, bytes: &[u8]) -> bool {
                self.0 += bytes.len() as u64;
                true
            }
        }
        let (done_tx, done_rx) = channel();
        std::thread::spawn(move || {
            let run = std::panic::AssertUnwindSafe(|| {
                with_shards(&MeterConfig::default(), 2, None, &mut Rows(0), |d, _| {
                    for port in 0..3000u16 {
                        let f = udp_frame(1024 + port);
                        d.push(port as u64 * 1000, 1, &f, f.len() as u32, (port % 2) as usize, false, None);
                    }
                })
            });
            let _ = done_tx.send(std::panic::catch_unwind(run).is_err());
        });
        let panicked = done_rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the run hung");
        assert!(panicked);
    }
}
