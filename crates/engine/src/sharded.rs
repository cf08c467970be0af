//! `--threads N`: the flow table split into N shards by a hash of each packet's address pair,
//! with output identical to the single-threaded table.
//!
//! Three kinds of thread:
//!
//! * The **reader** (the caller's thread) frames capture records, finds each frame's address
//!   pair (without dissecting the common frames, see the `route` module) and runs the part of
//!   the observer that needs every packet in input order (who owns an address on the link, a
//!   hash lookup for on-link IPv4; the owners are taken out of the shared observer's lock for
//!   the run). It runs **shard 0** itself: its frames are dissected right after they are read,
//!   while still in this core's cache, and never travel (that cut the CPU time that splitting
//!   adds by about a third). The other shards' frames go into their batches, and every shard
//!   gets the timestamps of *every* packet, so that each shard's clock (which drives the
//!   timeouts) follows the whole input and its flows end at exactly the packet where they
//!   would end in one table. Since the reader also frames and routes everything, shard 0 gets
//!   a smaller part of the hash range (`route::ShardMap`).
//! * **N − 1 workers**, one per other shard: each dissects its frames (checksums included),
//!   keeps the observer's connection attempts of its address pairs (a pair's packets all land
//!   in one shard), runs its flow table and, when a conversation ends, answers the labeller's
//!   question about its pair right away (what one thread would answer at that packet); shard 0
//!   does the same on the reader. Between batches, workers also format rows (labels included)
//!   for the output, in chunks the merger queues: whichever worker is free takes the next one,
//!   and the reader takes some when the workers fall behind (shards are loaded unevenly over
//!   time, a long transfer between two hosts being all one shard's) and helps with the last
//!   ones once the input is read.
//! * The **merger** puts the shards' ended conversations back into single-threaded order (by the
//!   packet at which they ended, then by [`Ending`]), renumbers them in creation order, runs
//!   connStat (which needs the global order of creations, packets and ends), then queues the
//!   conversations in chunks for formatting and writes the formatted chunks in order. With an
//!   output that cannot be formatted in pieces (Parquet) or a plain [`FlowSink`], the merger
//!   gives the conversations to the sink itself.
//!
//! With two cores, `netanom flows bench-2m.pcap -o /dev/null --threads 2` runs about 1.6× as
//! fast as one thread (`benches/flows/threads.py`; README, "Speed and memory"). It spends 10–17%
//! more CPU than one thread (mostly the reader's cache misses on record headers: where the
//! next record starts depends on this one's length, hence the buffer's prefetching; then the
//! merge and moving ended conversations between threads), and the two cores are not both busy
//! all the time: at the start the reader is the bottleneck, at the end the workers finish the
//! batches they are behind with. Lines that were last written on another core (batches,
//! frames, conversation boxes) are prefetched a few items ahead. Frames of memory-mapped
//! captures are not copied (they travel as places in the mapping), ended conversations are
//! moved out of the table into recycled boxes rather than cloned, and their order keys are
//! worked out in the shards so that the merger sorts without touching the boxes.
//!
//! Shards hash the address pair, not the ports, so that an IP fragment (which has no ports)
//! meets its first fragment. Two things differ from one table, by design: a full table evicts
//! the oldest flow of its own shard (each shard holds `max_flows / N`; likewise each shard's
//! observer holds `MAX_PAIRS / N` address pairs), and the peak table size in the report is the
//! sum of the shards' peaks.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, SendError, Sender, SyncSender, TryRecvError};

use hashbrown::HashMap;
use netanom_capture::MappedInput;
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
/// Batches in flight per shard (bounds memory, about 5 MB per worker; a slow merger slows the
/// reader down). Deep enough that a shard with a burst of packets (one large transfer) can fall
/// behind the others for a while without the reader waiting for it (in alternating runs, 8 gave
/// 1.52–1.57× with two threads where 32 gave 1.58–1.69×).
const IN_FLIGHT: usize = 32;
/// Chunks left waiting for the worker threads before the reading thread (which also runs
/// shard 0) takes one, when the workers are a little behind (see [`Dispatcher::help_format`]).
const KEEP_FOR_WORKERS: usize = 2;
/// Conversations per formatting chunk.
const CHUNK: usize = 256;

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

/// Frames ahead of the one being dissected whose first bytes are prefetched.
const FRAMES_AHEAD: usize = 4;

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

    fn frame_bytes(&self, f: &Frame) -> &[u8] {
        let from: &[u8] = match self.maps.get(f.map as usize) {
            Some(m) => m,
            None => &self.bytes,
        };
        from.get(f.start..f.start + f.len as usize).unwrap_or(&[])
    }
}

/// A worker's input, in order: batches from the reader, then the end of input; at any time, a
/// nudge that a formatting chunk is waiting in [`FormatQueue`].
enum Work {
    Batch(Batch),
    End,
    Format,
}

/// Formatting chunks waiting for a worker. Any worker takes them, not a fixed one: shards are
/// loaded unevenly (a long transfer between two hosts is all one shard's), and a chunk handed to
/// the busy shard waited behind its batches while the other worker idled.
#[derive(Clone, Default)]
struct FormatQueue(std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Chunk>>>);

impl FormatQueue {
    fn push(&self, c: Chunk) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push_back(c);
    }
    fn pop(&self) -> Option<Chunk> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
    }
    /// The next chunk if more than `keep` are waiting.
    fn pop_beyond(&self, keep: usize) -> Option<Chunk> {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() > keep {
            q.pop_front()
        } else {
            None
        }
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
    /// Only in the last result: the table's counters and the frames flagged as snapped.
    counters: Option<(MeterCounters, u64)>,
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

/// The reader's side: runs shard 0 itself, fills the other shards' batches and sends them;
/// `push` is the per-packet call.
pub(crate) struct Dispatcher {
    /// Shard 0, run on the reading thread: its frames are dissected right after they are read,
    /// while still in this core's cache, and never travel.
    local: Worker,
    local_results: SyncSender<ShardResult>,
    /// Shards 1.. (index `i` is shard `i + 1`).
    to_shards: Vec<Sender<Work>>,
    /// Emptied batches come back here; waiting for one bounds the batches in flight.
    spare: Receiver<Batch>,
    /// Batches whose worker was gone (it panicked; the join reports it): without them back,
    /// the spare batches would run out and the reader would wait forever.
    unsent: Vec<Batch>,
    open: Vec<Batch>,
    /// Chunks to format, for when the other shards are behind (see [`Dispatcher::spare_batch`]).
    formats: FormatQueue,
    formatted: Sender<(u64, Vec<u8>)>,
    /// The merger's nudges for chunks, like the workers': ignored while reading, followed once
    /// the input is read (the rows of the last batches).
    nudges: Receiver<Work>,
    map: ShardMap,
    /// Batches sent to the worker threads, and (counted by them) done.
    sent: u64,
    done: std::sync::Arc<AtomicU64>,
    next_seq: u64,
    in_batch: usize,
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
        for i in 0..self.open.len() {
            let fresh = self.spare_batch();
            let mut b = std::mem::replace(&mut self.open[i], fresh);
            b.first_seq = self.next_seq;
            match self.to_shards[i].send(Work::Batch(b)) {
                Ok(()) => self.sent += 1,
                Err(SendError(work)) => {
                    if let Work::Batch(mut b) = work {
                        b.clear();
                        self.unsent.push(b);
                    }
                }
            }
        }
        let _ = self.local_results.send(self.local.result());
        self.next_seq += self.in_batch as u64;
        self.in_batch = 0;
        while self.nudges.try_recv().is_ok() {}
        self.help_format();
    }

    /// This thread reads and runs shard 0, the worker threads run the other shards and format
    /// the rows: whoever is behind decides who formats. Workers far behind (a burst of packets
    /// in their shards): every waiting chunk is taken here; close behind: chunks are taken only
    /// when they pile up (about as many are made per batch, so one per batch can take them
    /// all); not behind: this thread is the one everybody waits for, it takes none.
    fn help_format(&mut self) {
        let workers = self.to_shards.len().max(1) as u64;
        let behind = self.sent.saturating_sub(self.done.load(Ordering::Relaxed)) / workers;
        if behind >= (IN_FLIGHT / 4) as u64 {
            while let Some(chunk) = self.formats.pop() {
                self.format(chunk);
            }
        } else if behind > 1 {
            if let Some(chunk) = self.formats.pop_beyond(KEEP_FOR_WORKERS) {
                self.format(chunk);
            }
        }
    }

    fn format(&mut self, chunk: Chunk) {
        let no = chunk.no;
        let bytes = self.local.format(chunk);
        let _ = self.formatted.send((no, bytes));
    }

    /// An emptied batch. While none is back (the other shards are behind the reader), formats
    /// rows instead of waiting: this thread has the reading on top of its shard, and the other
    /// workers the rows of every shard, so it is the one with time to spare only when they lag.
    fn spare_batch(&mut self) -> Batch {
        if let Some(b) = self.unsent.pop() {
            return b;
        }
        loop {
            match self.spare.try_recv() {
                Ok(b) => return b,
                Err(TryRecvError::Disconnected) => return Batch::new(),
                Err(TryRecvError::Empty) => {}
            }
            let Some(chunk) = self.formats.pop() else {
                return self.spare.recv().unwrap_or_else(|_| Batch::new());
            };
            self.format(chunk);
        }
    }

    /// Sends what is left and the end of input, then formats rows like the other workers until
    /// the merger is done; returns shard 0's formatter.
    pub(crate) fn finish(mut self) -> Option<Box<dyn RowFormatter>> {
        self.flush();
        for tx in std::mem::take(&mut self.to_shards) {
            let _ = tx.send(Work::End);
        }
        let _ = self.local_results.send(self.local.finish());
        // The chunks waiting now had their nudges dropped while reading.
        while let Some(chunk) = self.formats.pop() {
            self.format(chunk);
        }
        // Ends when the merger drops its senders.
        while self.nudges.recv().is_ok() {
            if let Some(chunk) = self.formats.pop() {
                self.format(chunk);
            }
        }
        self.local.formatter
    }
}

struct Worker {
    meter: FlowMeter,
    sink: ShardSink,
    info: PacketInfo,
    snapped: u64,
    /// Provisional numbers of the conversations created since the last result.
    created: Vec<u64>,
    formatter: Option<Box<dyn RowFormatter>>,
    buffers: Buffers,
}

impl Worker {
    fn new(
        shard: usize,
        cfg: &MeterConfig,
        observer: Option<Observer>,
        pools: ConvPools,
        formatter: Option<Box<dyn RowFormatter>>,
        buffers: Buffers,
    ) -> Worker {
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
            formatter,
            buffers,
        }
    }

    fn batch(&mut self, batch: &mut Batch) -> ShardResult {
        let mut mine = batch.mine.iter().peekable();
        let mut ahead = batch.mine.iter();
        for f in ahead.by_ref().take(FRAMES_AHEAD) {
            prefetch(batch.frame_bytes(f).as_ptr(), 128);
        }
        for (j, &ts) in batch.ts.iter().enumerate() {
            let seq = batch.first_seq + j as u64;
            let Some(f) = mine.next_if(|f| f.idx as usize == j) else {
                self.other_packet(seq, ts);
                continue;
            };
            if let Some(next) = ahead.next() {
                prefetch(batch.frame_bytes(next).as_ptr(), 128);
            }
            self.own_packet(seq, ts, f.linktype, batch.frame_bytes(f), f.orig_len, f.conflict);
        }
        batch.clear();
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
            counters: None,
        }
    }

    fn finish(&mut self) -> ShardResult {
        self.sink.seq = u64::MAX;
        self.sink.phase = Phase::Expire;
        self.meter.finish(&mut self.sink);
        ShardResult {
            created: Vec::new(),
            ended: std::mem::take(&mut self.sink.ended),
            events: Vec::new(),
            counters: Some((self.meter.counters().clone(), self.snapped)),
        }
    }

    fn format(&mut self, chunk: Chunk) -> Vec<u8> {
        let mut out = self.buffers.take(chunk.convs.len() * 2048);
        if let Some(f) = self.formatter.as_mut() {
            for (i, c) in chunk.convs.iter().enumerate() {
                if let Some(next) = chunk.convs.get(i + 1) {
                    prefetch_conv(next);
                }
                f.conversation(&c.a, c.b(), &c.how, c.views, &mut out);
            }
        }
        self.sink.pools.give_back(chunk.convs);
        out
    }
}

/// A worker thread: its batches in order, then the end of input; chunks to format whenever they
/// come. Returns its formatter (with its label counts).
fn worker_main(
    mut w: Worker,
    input: Receiver<Work>,
    results: SyncSender<ShardResult>,
    spare: SyncSender<Batch>,
    formats: FormatQueue,
    formatted: Sender<(u64, Vec<u8>)>,
    done: std::sync::Arc<AtomicU64>,
) -> Option<Box<dyn RowFormatter>> {
    for work in input {
        match work {
            Work::Batch(mut b) => {
                let r = w.batch(&mut b);
                done.fetch_add(1, Ordering::Relaxed);
                // Back to the reader before the result goes out: the reader never waits on the merger.
                let _ = spare.try_send(b);
                if results.send(r).is_err() {
                    break;
                }
            }
            Work::End => {
                if results.send(w.finish()).is_err() {
                    break;
                }
            }
            Work::Format => {
                // Every worker is nudged for each chunk; the first one free takes it.
                let Some(chunk) = formats.pop() else { continue };
                let no = chunk.no;
                let bytes = w.format(chunk);
                if formatted.send((no, bytes)).is_err() {
                    break;
                }
            }
        }
    }
    w.formatter
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
    workers: Vec<Sender<Work>>,
    formats: FormatQueue,
    /// Formatting in chunks (every worker has a formatter).
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
        self.formats.push(Chunk { no, convs });
        for w in &self.workers {
            // A worker that went away has failed; the join reports it.
            let _ = w.send(Work::Format);
        }
    }

    /// Writes the formatted chunks that are due; with `all`, waits for every chunk sent.
    fn write_ready(&mut self, all: bool) {
        loop {
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
            while let Some(mut bytes) = self.waiting.remove(&self.next_write) {
                self.next_write += 1;
                if !self.closed.load(Ordering::Relaxed) && !self.sink.write_rows(&bytes) {
                    self.closed.store(true, Ordering::Relaxed);
                }
                self.buffers.give_back(&mut bytes);
            }
        }
    }
}

/// Puts the shards' results back in single-threaded order; returns the shards' counters added
/// up and the frames flagged as snapped.
fn merge_main(results: Vec<Receiver<ShardResult>>, out: &mut Output) -> (MeterCounters, u64) {
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
    while done.iter().any(|d| !d) {
        created.clear();
        ended.clear();
        events.iter_mut().for_each(Vec::clear);
        at.iter_mut().for_each(|a| *a = 0);
        for (i, rx) in results.iter().enumerate() {
            if done[i] {
                continue;
            }
            // Every shard sends one result per batch, in batch order, then its last one.
            let Ok(r) = rx.recv() else {
                done[i] = true;
                continue;
            };
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
            let mut c = e.conv;
            // Flows that end at a packet end before it is accounted.
            apply(&mut conn, e.seq);
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
        apply(&mut conn, u64::MAX);
        if out.parallel {
            // Whatever ended in this batch goes out now, so that workers keep busy.
            out.send_chunk();
            out.write_ready(false);
        }
    }
    if out.parallel {
        out.send_chunk();
        out.write_ready(true);
    }
    (total, snapped)
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

/// Runs `read` (which feeds the dispatcher) with `shards` worker threads and a merging thread
/// that feeds `sink`; returns what `read` returned and the totals.
pub(crate) fn with_shards<R>(
    cfg: &MeterConfig,
    shards: usize,
    observer: Option<SharedObserver>,
    sink: &mut dyn RowSink,
    read: impl FnOnce(&mut Dispatcher, &AtomicBool) -> R,
) -> (R, ShardTotals) {
    let closed = AtomicBool::new(false);
    let shard_cfg = MeterConfig { max_flows: (cfg.max_flows / shards).max(2), ..cfg.clone() };
    let mut formatters: Vec<Box<dyn RowFormatter>> = (0..shards).map_while(|_| sink.formatter()).collect();
    let parallel = formatters.len() == shards;
    if !parallel {
        formatters.clear();
    }
    let buffers = Buffers::default();
    std::thread::scope(|s| {
        let batches = shards * (IN_FLIGHT + 1);
        let (spare_tx, spare_rx) = sync_channel(batches + shards);
        for _ in 0..shards * IN_FLIGHT {
            let _ = spare_tx.try_send(Batch::new());
        }
        let (fmt_tx, fmt_rx) = channel();
        let mut to_shards = Vec::new();
        let mut results = Vec::new();
        let mut handles = Vec::new();
        let pools = ConvPools::new(shards);
        let formats = FormatQueue::default();
        let mut local = None;
        let done = std::sync::Arc::new(AtomicU64::new(0));
        for shard in 0..shards {
            let (rtx, rrx) = sync_channel::<ShardResult>(IN_FLIGHT);
            results.push(rrx);
            let shard_observer = observer.as_ref().map(|_| Observer::for_shard(shards));
            let w = Worker::new(shard, &shard_cfg, shard_observer, pools.clone(), formatters.pop(), buffers.clone());
            if shard == 0 {
                local = Some((w, rtx));
                continue;
            }
            let (tx, rx) = channel::<Work>();
            let (spare, queue, formatted, done) = (spare_tx.clone(), formats.clone(), fmt_tx.clone(), done.clone());
            handles.push(s.spawn(move || worker_main(w, rx, rtx, spare, queue, formatted, done)));
            to_shards.push(tx);
        }
        let Some((local, local_results)) = local else { unreachable!("shard 0 is always made") };
        let (nudge_tx, nudges) = channel::<Work>();
        let mut workers = to_shards.clone();
        workers.push(nudge_tx);
        // The dispatcher holds the only other senders to the workers: they stop once it and the
        // merger's copy are gone.
        let mut d = Dispatcher {
            local,
            local_results,
            to_shards,
            spare: spare_rx,
            unsent: Vec::new(),
            open: (1..shards).map(|_| Batch::new()).collect(),
            formats: formats.clone(),
            formatted: fmt_tx.clone(),
            nudges,
            map: ShardMap::new(shards),
            sent: 0,
            done,
            next_seq: 0,
            in_batch: 0,
        };
        drop((spare_tx, fmt_tx));
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
            let (counters, snapped) = merge_main(results, &mut out);
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

    /// A worker that died (a panic, which the join reports) must not leave the reader waiting
    /// forever for its batches to come back while another worker keeps the spare channel open.
    #[test]
    fn reader_goes_on_when_a_worker_is_gone() {
        let (done_tx, done_rx) = channel();
        std::thread::spawn(move || {
            let (spare_tx, spare_rx) = sync_channel(4);
            for _ in 0..2 {
                let _ = spare_tx.try_send(Batch::new());
            }
            let (dead_tx, dead_rx) = channel::<Work>();
            drop(dead_rx);
            let (results_tx, results_rx) = sync_channel(1);
            drop(results_rx);
            let (formatted, _formatted_rx) = channel();
            let (_nudge_tx, nudges) = channel();
            let local = Worker::new(0, &MeterConfig::default(), None, ConvPools::new(2), None, Buffers::default());
            let mut d = Dispatcher {
                local,
                local_results: results_tx,
                to_shards: vec![dead_tx],
                spare: spare_rx,
                unsent: Vec::new(),
                open: vec![Batch::new()],
                formats: FormatQueue::default(),
                formatted,
                nudges,
                map: ShardMap::new(2),
                sent: 0,
                done: std::sync::Arc::new(AtomicU64::new(0)),
                next_seq: 0,
                in_batch: 0,
            };
            let frame = [0u8; 60];
            for i in 0..(10 * BATCH) as u64 {
                d.push(i * 1000, 1, &frame, 60, 1, false, None);
            }
            // The live worker's end of the spare channel, held to the end.
            drop(spare_tx);
            let _ = done_tx.send(d.next_seq);
        });
        let fed = done_rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the reader hung");
        assert_eq!(fed, (10 * BATCH) as u64);
    }
}
