//! The read → dissect → flow table loop over every input, in the order given.

use std::io::Cursor;
use std::time::Instant;

use netanom_capture::{CaptureError, CaptureReader, ReadEvent, RELEASE_STEP};
use std::sync::atomic::Ordering;

use netanom_flow::features::conn_stat::ConnStage;
use netanom_flow::features::tcp_flags::ws::WsStage;
use netanom_flow::{Ending, FlowMeter, FlowRecord, FlowSink, MeterConfig};
use netanom_wire::PacketInfo;

use crate::feed::PacketFeed;
use crate::inputs::{expand_inputs, Expanded, Input};
use crate::report::{FileReport, RunReport, MAX_DAMAGE_EXAMPLES};
use crate::rows::{Plain, RowSink};
use crate::sharded::with_shards;

/// What to read and how to build flows.
#[derive(Debug, Clone)]
pub struct FlowJob {
    /// Files, folders (walked recursively, in name order), `-` for stdin, or in-memory captures.
    pub inputs: Vec<Input>,
    pub meter: MeterConfig,
    /// Memory-map large uncompressed files (default true; see `CaptureReader::open_with`).
    pub mmap: bool,
    /// Flow-table threads (default 1). More shard the table by address pair; the output is the
    /// same (see the `sharded` module for the two documented exceptions).
    pub threads: usize,
    /// Shown every packet before the flow table (netanom's per-source aggregation for rules).
    pub observer: Option<crate::observe::SharedObserver>,
}

impl FlowJob {
    pub fn new(inputs: Vec<Input>) -> FlowJob {
        FlowJob { inputs, meter: MeterConfig::default(), mmap: true, threads: 1, observer: None }
    }
}

/// Errors that stop a run before it reads anything useful.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot list inputs: {0}")]
    Inputs(#[from] std::io::Error),
    #[error("no input given")]
    NoInput,
}

/// Where the run is, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Index of the file being read (0-based) and how many there are.
    pub file: usize,
    pub files: usize,
    /// Bytes of the current file read so far and its size (0 when unknown: stdin).
    pub file_bytes: u64,
    pub file_size: u64,
    pub packets: u64,
}

/// How often (in packets) the progress callback and the sink's state are looked at.
const CHECK_EVERY: u64 = 1 << 16;

/// Reads every input of `job` into one flow table (flows continue across files, as with
/// Tranalyzer2's `-R`), hands ended flows to `sink` in termination order, and returns the report.
///
/// A file that cannot be read (missing, not a capture) does not stop the run: it is recorded in
/// [`RunReport::files`] with its error, and the caller decides the exit status.
pub fn run_flows(
    job: &FlowJob,
    sink: &mut (dyn FlowSink + Send),
    progress: &mut dyn FnMut(&Progress),
) -> Result<RunReport, EngineError> {
    run_flows_rows(job, &mut Plain(sink), progress)
}

/// [`run_flows`] into a [`RowSink`]: with `--threads`, its formatters format the rows on the
/// worker threads.
pub fn run_flows_rows(
    job: &FlowJob,
    sink: &mut dyn RowSink,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RunReport, EngineError> {
    if job.inputs.is_empty() {
        return Err(EngineError::NoInput);
    }
    let start = Instant::now();
    let inputs = expand_inputs(&job.inputs)?;
    let mut report = RunReport::default();
    let mut state = PacketFeed::new(job.observer.clone());
    let (conversations, rows, counters);
    if job.threads <= 1 {
        let mut meter = FlowMeter::new(job.meter.clone());
        let mut counting = CountingSink { inner: sink, conversations: 0, rows: 0 };
        let mut ws = WsStage::new(&mut counting);
        let mut stage = ConnStage::new(&mut ws);
        for (i, e) in inputs.iter().enumerate() {
            if stage.is_closed() {
                break;
            }
            let mut feed = |ts: u64, p: &PacketInfo| {
                meter.packet(ts, p, &mut stage);
                stage.packet(p);
                stage.is_closed()
            };
            let mut frame = |st: &mut PacketFeed, ts: u64, lt: u32, data: &[u8], orig: u32| {
                st.packet(ts, lt, data, orig, &mut feed)
            };
            let files = (i, inputs.len());
            report.files.push(read_one(e, job.mmap, files, &mut frame, &mut state, progress, true));
        }
        meter.finish(&mut stage);
        drop(stage);
        (conversations, rows, counters) = (counting.conversations, counting.rows, meter.counters().clone());
    } else {
        state.take_owners();
        let (files, t) = with_shards(&job.meter, job.threads, job.observer.clone(), sink, |d, closed| {
            let mut files = Vec::new();
            for (i, e) in inputs.iter().enumerate() {
                if closed.load(Ordering::Relaxed) {
                    break;
                }
                let mut frame = |st: &mut PacketFeed, ts: u64, lt: u32, data: &[u8], orig: u32| {
                    st.route(ts, lt, data, orig, d);
                    closed.load(Ordering::Relaxed)
                };
                // The shards' batches still read frames behind the reader: the dispatcher
                // releases the pages behind them.
                files.push(read_one(e, job.mmap, (i, inputs.len()), &mut frame, &mut state, progress, false));
            }
            files
        });
        state.put_owners();
        report.files = files;
        state.add_snapped(t.snapped);
        (conversations, rows, counters) = (t.conversations, t.rows, t.counters);
    }

    state.fill_report(&mut report);
    for f in &report.files {
        for (k, n) in &f.damaged {
            *report.damaged.entry(k.clone()).or_default() += n;
        }
    }
    report.flows = counters;
    report.conversations = conversations;
    report.rows = rows;
    report.elapsed_s = start.elapsed().as_secs_f64();
    report.packets_per_s = if report.elapsed_s > 0.0 { report.packets as f64 / report.elapsed_s } else { 0.0 };
    Ok(report)
}

struct CountingSink<'a> {
    inner: &'a mut dyn RowSink,
    conversations: u64,
    rows: u64,
}

impl FlowSink for CountingSink<'_> {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self.conversations += 1;
        self.rows += 1 + second.is_some() as u64;
        self.inner.flow(first, second);
    }
    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.conversations += 1;
        self.rows += 1 + second.is_some() as u64;
        self.inner.flow_ended(first, second, how);
    }
    fn flow_ended_mut(&mut self, first: &mut FlowRecord, second: Option<&mut FlowRecord>, how: &Ending) {
        self.conversations += 1;
        self.rows += 1 + second.is_some() as u64;
        self.inner.flow_ended_mut(first, second, how);
    }
    fn flow_created(&mut self, rec: &FlowRecord) {
        self.inner.flow_created(rec);
    }
    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

fn open(e: &Expanded, mmap: bool) -> Result<(CaptureReader, u64), CaptureError> {
    match &e.input {
        Input::Path(p) => {
            let size = if p.as_os_str() == "-" { 0 } else { std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) };
            Ok((CaptureReader::open_with(p, mmap)?, size))
        }
        Input::Bytes { name, data } => {
            Ok((CaptureReader::from_reader(name.as_str(), Cursor::new(*data))?, data.len() as u64))
        }
    }
}

/// What the read loop does with each frame (time, link type, bytes, length on the wire): returns
/// true to stop early (the output went away).
type OnFrame<'a> = dyn FnMut(&mut PacketFeed, u64, u32, &[u8], u32) -> bool + 'a;

/// Reads one input, handing every frame to `on_frame`. With `release_behind` (`on_frame` keeps
/// no frame), a mapped file's pages are released behind the reader as it goes (see
/// [`netanom_capture::MappedInput::release_pages`]): the capture never makes all its size resident.
fn read_one(
    e: &Expanded,
    mmap: bool,
    (file_index, files): (usize, usize),
    on_frame: &mut OnFrame,
    st: &mut PacketFeed,
    progress: &mut dyn FnMut(&Progress),
    release_behind: bool,
) -> FileReport {
    let mut fr = FileReport { name: e.input.name(), ..FileReport::default() };
    let (mut reader, size) = match open(e, mmap) {
        Ok(r) => r,
        Err(err) => {
            fr.skipped_not_capture = e.from_folder && matches!(err, CaptureError::NotACapture { .. });
            fr.error = Some(err.to_string());
            return fr;
        }
    };
    fr.format = reader.format_description();
    st.source = reader.mapped_input();
    let mut prog = Progress { file: file_index, files, file_bytes: 0, file_size: size, packets: st.packets };
    progress(&prog);
    let mut next_check = st.packets + CHECK_EVERY;
    let mut released = 0;
    let mut stopped = false;
    loop {
        let ev = match reader.next_event() {
            Ok(Some(ev)) => ev,
            Ok(None) => break,
            Err(err) => {
                // Keep what was read; the error is reported with the file.
                fr.error = Some(err.to_string());
                break;
            }
        };
        match ev {
            ReadEvent::Packet(p) => {
                if on_frame(st, p.ts_ns, p.linktype, p.data, p.orig_len) {
                    stopped = true;
                }
                if st.packets >= next_check {
                    next_check = st.packets + CHECK_EVERY;
                    prog.packets = st.packets;
                    prog.file_bytes = reader.stats().input_bytes;
                    progress(&prog);
                    // For a mapped file, the bytes read so far are the offset of the next frame.
                    if let (true, Some(map)) = (release_behind, &st.source) {
                        let at = prog.file_bytes as usize;
                        if at >= released + RELEASE_STEP {
                            map.release_pages(released..at);
                            released = at;
                        }
                    }
                }
                if stopped {
                    break;
                }
            }
            ReadEvent::Damaged(d) => {
                if fr.damage_examples.len() < MAX_DAMAGE_EXAMPLES {
                    fr.damage_examples.push(d.to_string());
                }
            }
        }
    }
    st.source = None;
    let stats = reader.stats();
    fr.packets = stats.packets;
    fr.capture_bytes = stats.bytes;
    fr.damaged = stats.damaged.iter().map(|(k, n)| (k.as_str().to_string(), n)).collect();
    prog.packets = st.packets;
    prog.file_bytes = stats.input_bytes;
    progress(&prog);
    fr
}
