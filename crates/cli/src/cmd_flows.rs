//! `netanom flows`: captures in, a Tranalyzer2-compatible flow table out.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use netanom_engine::labels::{Labeller, LABEL_COLUMNS};
use netanom_engine::observe::PairView;
use netanom_engine::{run_flows_rows, FlowJob, Input, Progress, RowFormatter, RowSink, RunReport};
use netanom_flow::features::{self, COLUMN_GROUPS};
use netanom_flow::schema::Column;
use netanom_flow::{Ending, FlowRecord, FlowSink, MeterConfig};
use netanom_output::{Destination, Format, TableMeta, TableWriter};

use crate::progress::ProgressBar;
use crate::sample;

#[derive(clap::Args)]
pub struct FlowsArgs {
    /// Capture files or folders (read recursively), `-` for stdin. Several are read in order as
    /// one stream, so a flow can span files. Without any: the bundled sample capture.
    pub inputs: Vec<PathBuf>,

    /// Where to write the flow table; `-` for stdout.
    /// [default: <first input's name>_flows.<ext> in the current folder]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<String>,

    /// Output format: t2 (Tranalyzer2's tab-separated _flows.txt), csv, jsonl or parquet.
    #[arg(short, long, default_value = "t2", value_parser = parse_format)]
    pub format: Format,

    /// Also write the end report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,

    /// Idle timeout in seconds: a direction ends this long after its last packet.
    #[arg(long, value_name = "SECS", default_value_t = 182.0)]
    pub idle_timeout: f64,

    /// End conversations this long after their first packet even if still active (default: never).
    #[arg(long, value_name = "SECS")]
    pub active_timeout: Option<f64>,

    /// Most flow directions held at once; when full, the least recently active conversation is
    /// ended early (flowStat bit 42) and counted in the report.
    #[arg(long, value_name = "N", default_value_t = MeterConfig::default().max_flows)]
    pub max_flows: usize,

    /// Label addresses with country and organisation from this file (one `CIDR<TAB>country<TAB>
    /// organisation` line per subnet); without it public addresses are labelled `-`.
    #[arg(long, value_name = "FILE")]
    pub subnets: Option<PathBuf>,

    /// Do not write the `_headers.txt` sidecar next to a t2/csv table.
    #[arg(long)]
    pub no_headers_file: bool,

    /// Flow-table threads: the table is split into N shards by address pair. The reading thread
    /// runs one shard itself, N - 1 worker threads run the others (dissecting the packets, then
    /// formatting the rows), the reading thread helping when they fall behind, and a merging
    /// thread (connStat, output order) goes beside them. The output is the same as
    /// with one thread (except that a full table evicts per shard). Use as many as the machine
    /// has cores.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,

    /// Read files through a buffer instead of memory-mapping them (use for captures that another
    /// program may truncate while netanom reads them).
    #[arg(long)]
    pub no_mmap: bool,

    /// Load anomaly rules from this TOML file, merged over the built-in set: a rule with a default
    /// rule's name replaces it (`enabled = false` switches it off), others are added.
    #[arg(long, value_name = "FILE", conflicts_with = "no_labels")]
    pub rules: Option<PathBuf>,

    /// Do not add the `anomaly` and `anomalyRules` label columns.
    #[arg(long)]
    pub no_labels: bool,

    /// No end report and no progress bar on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

pub(crate) fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("unknown format `{s}` (use t2, csv, jsonl or parquet)"))
}

pub(crate) fn seconds(name: &str, v: f64) -> Result<u64, String> {
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok((v * 1e9).round() as u64)
    } else {
        Err(format!("--{name} must be a positive number of seconds, not {v}"))
    }
}

fn extension(f: Format) -> &'static str {
    match f {
        Format::T2 => "txt",
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
        Format::Parquet => "parquet",
    }
}

/// Tranalyzer2 names its output after the capture: `trace.pcap` → `trace_flows.txt`.
fn default_output(inputs: &[Input], format: Format) -> String {
    let stem = match inputs.first() {
        Some(Input::Path(p)) if p.as_os_str() != "-" => {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "netanom".into());
            let name = name.trim_end_matches(".gz").trim_end_matches(".zst");
            Path::new(name).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| name.to_string())
        }
        Some(Input::Bytes { name, .. }) => {
            Path::new(name).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
        }
        _ => "stdin".into(),
    };
    format!("{stem}_flows.{}", extension(format))
}

/// Writes each ended conversation as its A row, then its B row. Output errors are kept and end
/// the run early rather than being lost.
struct RowWriter {
    table: Option<Box<dyn TableWriter>>,
    labeller: Option<Labeller>,
    error: Option<io::Error>,
    /// With `--threads` (and a text format): the output stream, which rows formatted by the
    /// worker threads are appended to, and how to make their formatters.
    shared: Option<(SharedOut, Format, Vec<Column>, TableMeta)>,
}

/// The output stream, shared by the table writer (header, flush) and the rows formatted on the
/// worker threads (written by one thread, in order).
#[derive(Clone)]
struct SharedOut(Arc<Mutex<Box<dyn Write + Send>>>);

impl Write for SharedOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

/// Where a worker's table writer puts its rows until they are handed over.
#[derive(Clone, Default)]
struct RowBuf(Arc<Mutex<Vec<u8>>>);

impl Write for RowBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A worker thread's formatter: its own table writer (into memory) and labeller.
struct Formatter {
    table: Box<dyn TableWriter>,
    buf: RowBuf,
    labeller: Option<Labeller>,
}

impl Formatter {
    fn row(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>, view: PairView) {
        let res = match self.labeller.as_mut() {
            Some(l) => {
                l.label_with(rec, opp, view);
                self.table.row(&mut |w| {
                    features::write_row(rec, opp, w);
                    l.write(w);
                })
            }
            None => self.table.row(&mut |w| features::write_row(rec, opp, w)),
        };
        // Writing into memory does not fail.
        debug_assert!(res.is_ok());
    }
}

impl RowFormatter for Formatter {
    fn conversation(
        &mut self,
        first: &FlowRecord,
        second: Option<&FlowRecord>,
        _how: &Ending,
        views: [PairView; 2],
        out: &mut Vec<u8>,
    ) {
        self.row(first, second, views[0]);
        if let Some(b) = second {
            self.row(b, Some(first), views[1]);
        }
        let mut buf = self.buf.0.lock().unwrap_or_else(|e| e.into_inner());
        out.extend_from_slice(&buf);
        buf.clear();
    }

    fn into_labeller(self: Box<Self>) -> Option<Labeller> {
        self.labeller
    }
}

impl RowSink for RowWriter {
    fn formatter(&mut self) -> Option<Box<dyn RowFormatter>> {
        let (_, format, columns, meta) = self.shared.as_ref()?;
        let buf = RowBuf::default();
        let table = netanom_output::open_to(*format, Box::new(buf.clone()), columns.clone(), meta).ok()?;
        // The header went in at opening: the shared output has it already.
        buf.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Some(Box::new(Formatter { table, buf, labeller: self.labeller.as_ref().map(Labeller::fork) }))
    }

    fn write_rows(&mut self, bytes: &[u8]) -> bool {
        let Some((out, ..)) = self.shared.as_mut() else { return false };
        if self.error.is_some() {
            return false;
        }
        if let Err(e) = out.write_all(bytes) {
            self.error = Some(e);
            self.table = None;
            return false;
        }
        true
    }

    fn formatter_done(&mut self, f: Box<dyn RowFormatter>) {
        if let (Some(mine), Some(theirs)) = (self.labeller.as_mut(), f.into_labeller()) {
            mine.absorb(&theirs);
        }
    }
}

impl RowWriter {
    /// `end`: when the conversation was due to end and the packet at which it ended
    /// (`u64::MAX` for both when unknown).
    fn row(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>, (due_ns, end_seq): (u64, u64)) -> io::Result<()> {
        let Some(t) = self.table.as_mut() else { return Ok(()) };
        match self.labeller.as_mut() {
            Some(l) => {
                l.label_at(rec, opp, due_ns, end_seq);
                t.row(&mut |w| {
                    features::write_row(rec, opp, w);
                    l.write(w);
                })
            }
            None => t.row(&mut |w| features::write_row(rec, opp, w)),
        }
    }
}

impl FlowSink for RowWriter {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self.write_pair(first, second, (u64::MAX, u64::MAX));
    }

    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.write_pair(first, second, (how.deadline_ns, how.end_seq));
    }

    fn is_closed(&self) -> bool {
        self.error.is_some()
    }
}

impl RowWriter {
    fn write_pair(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, end: (u64, u64)) {
        let mut res = self.row(first, second, end);
        if let (Ok(()), Some(b)) = (&res, second) {
            res = self.row(b, Some(first), end);
        }
        if let Err(e) = res {
            self.error = Some(e);
            self.table = None;
        }
    }
}

pub fn run(a: FlowsArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let inputs: Vec<Input> = if a.inputs.is_empty() {
        vec![sample::input()]
    } else {
        a.inputs.iter().map(|p| Input::Path(p.clone())).collect()
    };
    let meter = MeterConfig {
        idle_timeout_ns: seconds("idle-timeout", a.idle_timeout)?,
        active_timeout_ns: a.active_timeout.map(|v| seconds("active-timeout", v)).transpose()?,
        max_flows: a.max_flows,
        ..MeterConfig::default()
    };
    if let Some(f) = &a.subnets {
        netanom_flow::labels::geo::load_subnet_file(f)?;
    }
    let out = a.output.clone().unwrap_or_else(|| default_output(&inputs, a.format));
    let dest = Destination::from_arg(&out);
    let meta = TableMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        t2_version: netanom_flow::T2_VERSION.to_string(),
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let mut columns: Vec<_> = features::columns().copied().collect();
    let observer = netanom_engine::observe::Observer::shared();
    let labeller = if a.no_labels {
        None
    } else {
        let user = a.rules.as_ref().map(netanom_rules::RuleSet::from_file).transpose()?;
        Some(Labeller::defaults_with(user, &columns)?.with_observer(observer.clone()))
    };
    let mut groups: Vec<(&str, usize)> = COLUMN_GROUPS.iter().map(|(n, c)| (*n, c.len())).collect();
    if labeller.is_some() {
        columns.extend_from_slice(LABEL_COLUMNS);
        groups.push(("anomalyLabels", LABEL_COLUMNS.len()));
    }
    if let (Destination::File(p), false, Format::T2 | Format::Csv) = (&dest, a.no_headers_file, a.format) {
        let hp = netanom_output::headers_path(p);
        netanom_output::write_headers(&hp, &columns, &groups, &meta)?;
    }
    // With threads, text rows are formatted on the worker threads and appended to one stream.
    let (table, shared) = if a.threads > 1 && a.format != Format::Parquet {
        let out = SharedOut(Arc::new(Mutex::new(dest.open()?)));
        let table = netanom_output::open_to(a.format, Box::new(out.clone()), columns.clone(), &meta)?;
        (table, Some((out, a.format, columns, meta)))
    } else {
        (netanom_output::open(a.format, &dest, columns, &meta)?, None)
    };
    let mut sink = RowWriter { table: Some(table), labeller, error: None, shared };

    let show_progress = !a.quiet && io::stderr().is_terminal();
    let mut bar = ProgressBar::new(show_progress);
    let observer = sink.labeller.is_some().then_some(observer);
    let job = FlowJob { inputs, meter, mmap: !a.no_mmap, threads: a.threads as usize, observer };
    let mut report = run_flows_rows(&job, &mut sink, &mut |p: &Progress| bar.update(p))?;
    report.labels = sink.labeller.as_ref().map(Labeller::report);
    bar.finish();

    let write_result = match (sink.error.take(), sink.table.take()) {
        (Some(e), _) => Err(e),
        (None, Some(t)) => t.finish(),
        (None, None) => Ok(()),
    };
    finish_report(&a, &report, &out)?;
    if let Err(e) = write_result {
        // A reader that went away (`| head`) is not a failure of ours.
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(format!("{out}: cannot write the flow table: {e}").into());
    }
    Ok(exit_code(&report))
}

fn finish_report(a: &FlowsArgs, report: &RunReport, out: &str) -> Result<(), Box<dyn std::error::Error>> {
    for f in report.failed_files() {
        eprintln!("netanom: error: {}", f.error.as_deref().unwrap_or("unreadable"));
    }
    if !a.quiet {
        eprint!("{}", report.to_text());
        if out != "-" {
            eprintln!("  flow table        {out}");
        }
    }
    if let Some(p) = &a.report_json {
        std::fs::write(p, report.to_json()).map_err(|e| format!("{}: cannot write the report: {e}", p.display()))?;
    }
    Ok(())
}

/// 0: every input read (damaged parts are reported, not failures); 1: an input named on the
/// command line could not be read at all, the others were processed.
pub fn exit_code(report: &RunReport) -> ExitCode {
    if report.failed_files().next().is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
