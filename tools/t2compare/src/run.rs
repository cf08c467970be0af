//! `t2compare run`: our tool over the golden captures, diffed and added up.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use regex::Regex;
use serde::Serialize;

use crate::diff::{diff_tables, DiffOptions, DiffReport, Totals};
use crate::err;
use crate::error::Result;
use crate::index::{Capture, Shared, SETS};
use crate::runner::{parallel_map, run_flows, Outcome};
use crate::summary::Aggregate;
use crate::table::Table;

/// Per-capture time limit for the tool (T2 itself was given 60 s and needed far less).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub netanom: PathBuf,
    pub shared: Shared,
    pub sets: Vec<String>,
    pub only: Option<Regex>,
    pub jobs: usize,
    pub timeout: Duration,
    pub diff: DiffOptions,
}

/// One capture's result.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureResult {
    pub name: String,
    pub loose: bool,
    pub outcome: Outcome,
    /// Reading or joining a table failed (after the tool itself succeeded).
    pub error: Option<String>,
    #[serde(skip)]
    pub diff: Option<DiffReport>,
    pub golden_rows: u64,
}

/// A capture whose per-capture totals differ from golden's.
#[derive(Debug, Clone, Serialize)]
pub struct TotalsMismatch {
    pub capture: String,
    /// T2's "Number of processed packets" (INDEX.tsv); in 5 captures it exceeds the flow table's
    /// packet sum (packets T2 processed but put in no flow), so it is shown, not compared.
    pub index_packets: Option<u64>,
    pub golden: Totals,
    pub ours: Totals,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub captures: u64,
    pub tool_ok: u64,
    pub timeouts: Vec<String>,
    pub crashes: Vec<(String, String)>,
    pub failures: Vec<(String, String)>,
    pub errors: Vec<(String, String)>,
    /// Captures T2 read completely.
    pub strict: Aggregate,
    /// Captures T2 read only partly (libpcap `note` in INDEX.tsv): shown apart.
    pub loose: Aggregate,
    pub totals_checked: u64,
    pub totals_mismatches: Vec<TotalsMismatch>,
}

/// The captures of the chosen sets that T2 processed (status `ok`), filtered by `only`.
pub fn select_captures(opt: &RunOptions) -> Result<Vec<Capture>> {
    for s in &opt.sets {
        if !SETS.iter().any(|(name, _)| name == s) {
            let known: Vec<&str> = SETS.iter().map(|(n, _)| *n).collect();
            return Err(err!("unknown set `{s}` (known: {})", known.join(", ")));
        }
    }
    let all = opt.shared.read_index()?;
    Ok(all
        .into_iter()
        .filter(|c| c.ok && opt.sets.contains(&c.set))
        .filter(|c| opt.only.as_ref().map_or(true, |re| re.is_match(&c.name())))
        .collect())
}

pub fn run(opt: &RunOptions) -> Result<Summary> {
    let captures = select_captures(opt)?;
    let tmp = scratch_dir()?;
    let results = parallel_map(&captures, opt.jobs, |c| run_one(opt, c, &tmp));
    let _ = fs::remove_dir_all(&tmp);
    Ok(summarise(&captures, &results, opt.diff.examples))
}

fn run_one(opt: &RunOptions, c: &Capture, tmp: &std::path::Path) -> CaptureResult {
    let mut res = CaptureResult {
        name: c.name(),
        loose: c.loose(),
        outcome: Outcome::Ok,
        error: None,
        diff: None,
        golden_rows: c.a_rows + c.b_rows,
    };
    let golden = match Table::read(&opt.shared.golden_flows(c)) {
        Ok(t) => t,
        Err(e) => {
            res.error = Some(e.0);
            return res;
        }
    };
    res.golden_rows = golden.rows.len() as u64;
    let pcap = match opt.shared.capture_path(c) {
        Ok(p) => p,
        Err(e) => {
            res.error = Some(e.0);
            return res;
        }
    };
    let out = tmp.join(format!("{}.tsv", c.name().replace(['/', '\\'], "__")));
    res.outcome = run_flows(&opt.netanom, &pcap, &out, opt.timeout);
    if res.outcome == Outcome::Ok {
        match Table::read(&out).and_then(|ours| diff_tables(&golden, &ours, &opt.diff)) {
            Ok(d) => res.diff = Some(d),
            Err(e) => res.error = Some(e.0),
        }
    }
    let _ = fs::remove_file(&out);
    res
}

/// Adds the per-capture results up.
pub fn summarise(captures: &[Capture], results: &[CaptureResult], examples: usize) -> Summary {
    let mut s = Summary { captures: results.len() as u64, ..Default::default() };
    for (c, r) in captures.iter().zip(results) {
        match &r.outcome {
            Outcome::Ok => s.tool_ok += 1,
            Outcome::Timeout => s.timeouts.push(r.name.clone()),
            Outcome::Crashed(m) => s.crashes.push((r.name.clone(), m.clone())),
            Outcome::Failed(m) | Outcome::SpawnError(m) => s.failures.push((r.name.clone(), m.clone())),
        }
        if let Some(e) = &r.error {
            s.errors.push((r.name.clone(), e.clone()));
        }
        let agg = if r.loose { &mut s.loose } else { &mut s.strict };
        match &r.diff {
            Some(d) => {
                agg.add(&r.name, d, examples);
                if !r.loose {
                    s.totals_checked += 1;
                    if let Some(m) = totals_mismatch(c, d) {
                        s.totals_mismatches.push(m);
                    }
                }
            }
            None => agg.add_unrun(r.golden_rows),
        }
    }
    s.strict.finish();
    s.loose.finish();
    s
}

/// Compares packet sums and A/B row counts of the two tables.
fn totals_mismatch(c: &Capture, d: &DiffReport) -> Option<TotalsMismatch> {
    let (g, o) = (&d.golden_totals, &d.ours_totals);
    let same = g.packets == o.packets && g.a_rows == o.a_rows && g.b_rows == o.b_rows;
    (!same).then(|| TotalsMismatch { capture: c.name(), index_packets: c.packets, golden: g.clone(), ours: o.clone() })
}

fn scratch_dir() -> Result<PathBuf> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("t2compare-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).map_err(|e| err!("{}: cannot create: {e}", dir.display()))?;
    Ok(dir)
}

impl Summary {
    pub fn render(&self, examples: usize) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "captures {}: tool ok {}, timeouts {}, crashes {}, non-zero exits {}, table errors {}",
            self.captures,
            self.tool_ok,
            self.timeouts.len(),
            self.crashes.len(),
            self.failures.len(),
            self.errors.len()
        );
        let list = |s: &mut String, what: &str, v: &[(String, String)]| {
            for (c, m) in v.iter().take(examples) {
                let _ = writeln!(s, "  {what} {c}: {m}");
            }
        };
        for t in self.timeouts.iter().take(examples) {
            let _ = writeln!(s, "  timeout {t}");
        }
        list(&mut s, "crash", &self.crashes);
        list(&mut s, "exit", &self.failures);
        list(&mut s, "error", &self.errors);
        let _ = writeln!(
            s,
            "per-capture totals (sum of pktsSnt, A rows, B rows) equal in {} of {} captures",
            self.totals_checked - self.totals_mismatches.len() as u64,
            self.totals_checked
        );
        for m in self.totals_mismatches.iter().take(examples) {
            let _ = writeln!(
                s,
                "  {}: golden {} pkts (T2 processed {}) {}A/{}B, ours {} pkts {}A/{}B",
                m.capture,
                m.golden.packets,
                m.index_packets.unwrap_or(0),
                m.golden.a_rows,
                m.golden.b_rows,
                m.ours.packets,
                m.ours.a_rows,
                m.ours.b_rows
            );
        }
        s.push_str(&self.strict.render("captures read completely by T2"));
        if self.loose.captures > 0 {
            s.push_str(&self.loose.render("captures T2 read only partly (libpcap errors; compared loosely)"));
        }
        s
    }
}
