//! `t2compare ndpi`: nDPI's per-flow packet counts as an oracle for flow building, applied to
//! golden T2 and to our tool alike, so that our agreement can be held against T2's.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::index::{Capture, Shared};
use crate::ndpi::{read_out, ConvKey, NdpiFlow};
use crate::run::{RunOptions, DEFAULT_TIMEOUT};
use crate::runner::{parallel_map, run_flows, Outcome};
use crate::summary::pct;
use crate::table::Table;

/// flowStat bits 36–39: IPv4 fragmentation seen / errors / first fragment missing / pending.
const FRAGMENT_BITS: u64 = 0x0000_00F0_0000_0000;
/// flowStat bits for decapsulated tunnels: L2TP, GRE, PPP, IPvX-in-IPvX, EoIP, Teredo, AYIYA,
/// GTP, VXLAN, CAPWAP, ERSPAN, GENEVE.
const TUNNEL_BITS: u64 = 0x0000_0000_2400_0000 | 0x00FE_0000 | 0x3800;

/// One bidirectional flow of a T2-style table (its A and B rows merged by `flowInd`).
#[derive(Debug, Clone)]
pub struct Conversation {
    pub packets: u64,
    pub flow_stat: u64,
}

/// Merges A/B rows by `flowInd` and files the flows under their undirected 5-tuple. Layer-2
/// rows (srcIP `-`) have no 5-tuple and are left out, as nDPI lists only IP flows.
pub fn conversations(t: &Table) -> Result<HashMap<ConvKey, Vec<Conversation>>> {
    let cols = ["flowInd", "srcIP", "srcPort", "dstIP", "dstPort", "l4Proto", "pktsSnt"];
    for c in cols {
        t.require(c)?;
    }
    let mut by_flow: BTreeMap<&str, (ConvKey, Conversation)> = BTreeMap::new();
    for row in &t.rows {
        let get = |n: &str| -> &str { t.get(row, n) };
        if get("srcIP") == "-" {
            continue;
        }
        let num = |n: &str| {
            get(n)
                .parse::<u64>()
                .map_err(|_| crate::err!("{}:{}: {n} `{}` is not a number", t.origin, row.line, get(n)))
        };
        let (Ok(sp), Ok(dp), Ok(proto)) = (num("srcPort"), num("dstPort"), num("l4Proto")) else {
            continue; // bogus header in a fuzzed capture: not a conversation nDPI could list
        };
        let pkts = num("pktsSnt")?;
        let stat = u64::from_str_radix(get("flowStat").trim_start_matches("0x"), 16).unwrap_or(0);
        let key = ConvKey::new(proto as u8, (get("srcIP"), sp as u16), (get("dstIP"), dp as u16));
        let e = by_flow.entry(get("flowInd")).or_insert((key, Conversation { packets: 0, flow_stat: 0 }));
        e.1.packets += pkts;
        e.1.flow_stat |= stat;
    }
    let mut out: HashMap<ConvKey, Vec<Conversation>> = HashMap::new();
    for (_, (k, c)) in by_flow {
        out.entry(k).or_default().push(c);
    }
    Ok(out)
}

/// Why a tool's packet count differs from nDPI's for a conversation (probable, not proven).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Agree,
    /// The tool could not be run or its table not read.
    ToolFailed,
    /// No flow with this 5-tuple, and the capture has decapsulated tunnels: nDPI saw the outer
    /// flow, the tool the inner one (or the reverse).
    NoFlowTunnel,
    NoFlow,
    /// Several flows share the 5-tuple (idle timeouts, TCP close and reuse) and add up to nDPI's count.
    SplitSameTotal,
    SplitOtherTotal,
    /// More packets, and the flow saw IPv4 fragments: T2 counts every fragment, nDPI the datagram.
    Fragments,
    /// Different count in a flow carried in a decapsulated tunnel.
    Tunnel,
    MorePackets,
    FewerPackets,
}

pub fn verdict(n_flows: &[&NdpiFlow], tool: Option<&Vec<Conversation>>, capture_has_tunnels: bool) -> Verdict {
    let ndpi_total: u64 = n_flows.iter().map(|f| f.packets).sum();
    let Some(flows) = tool else {
        return if capture_has_tunnels { Verdict::NoFlowTunnel } else { Verdict::NoFlow };
    };
    let total: u64 = flows.iter().map(|c| c.packets).sum();
    if flows.len() != n_flows.len() {
        return if total == ndpi_total { Verdict::SplitSameTotal } else { Verdict::SplitOtherTotal };
    }
    if total == ndpi_total {
        return Verdict::Agree;
    }
    let stat = flows.iter().fold(0, |a, c| a | c.flow_stat);
    if total > ndpi_total && stat & FRAGMENT_BITS != 0 {
        Verdict::Fragments
    } else if stat & TUNNEL_BITS != 0 {
        Verdict::Tunnel
    } else if total > ndpi_total {
        Verdict::MorePackets
    } else {
        Verdict::FewerPackets
    }
}

/// Verdicts for every nDPI conversation of one capture (one per nDPI flow line).
pub fn judge(ndpi: &[NdpiFlow], tool: &HashMap<ConvKey, Vec<Conversation>>) -> Vec<(Verdict, String)> {
    let has_tunnels = tool.values().flatten().any(|c| c.flow_stat & TUNNEL_BITS != 0);
    let mut groups: BTreeMap<&ConvKey, Vec<&NdpiFlow>> = BTreeMap::new();
    for f in ndpi {
        groups.entry(&f.key).or_default().push(f);
    }
    let mut out = Vec::new();
    for (key, flows) in groups {
        let t = tool.get(key);
        let v = verdict(&flows, t, has_tunnels);
        let ours: Vec<String> = t.map(|c| c.iter().map(|c| c.packets.to_string()).collect()).unwrap_or_default();
        let ndpi_pk: Vec<String> = flows.iter().map(|f| f.packets.to_string()).collect();
        let what = format!("{key}: nDPI {} pkts, tool [{}]", ndpi_pk.join("+"), ours.join(", "));
        out.extend(flows.iter().map(|_| (v, what.clone())));
    }
    out
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Side {
    pub agree: u64,
    pub agree_pct: f64,
    pub causes: BTreeMap<Verdict, u64>,
    pub examples: BTreeMap<Verdict, Vec<String>>,
    /// Captures with the most disagreeing conversations.
    pub worst_captures: Vec<(String, u64)>,
    #[serde(skip)]
    per_capture: BTreeMap<String, u64>,
}

impl Side {
    fn add(&mut self, capture: &str, verdicts: &[(Verdict, String)], examples: usize) {
        for (v, what) in verdicts {
            if *v == Verdict::Agree {
                self.agree += 1;
                continue;
            }
            *self.causes.entry(*v).or_default() += 1;
            *self.per_capture.entry(capture.to_owned()).or_default() += 1;
            let ex = self.examples.entry(*v).or_default();
            if ex.len() < examples {
                ex.push(format!("{capture}: {what}"));
            }
        }
    }

    fn finish(&mut self, total: u64) {
        self.agree_pct = pct(self.agree, total);
        let mut w: Vec<(String, u64)> = self.per_capture.iter().map(|(k, v)| (k.clone(), *v)).collect();
        w.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        w.truncate(10);
        self.worst_captures = w;
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OracleSummary {
    pub captures: u64,
    /// Captures without a .out file.
    pub no_result_file: Vec<String>,
    pub unreadable_lines: Vec<String>,
    pub conversations: u64,
    pub t2: Side,
    /// Absent when no tool was given (golden-only check of the parser).
    pub ours: Option<Side>,
    /// Conversations T2 counts as nDPI does and we do not, and the other way round: where to look
    /// when the two agreement rates differ.
    pub only_t2_agrees: Vec<String>,
    pub only_ours_agrees: Vec<String>,
}

/// nDPI's result file for a capture of ndpi-tests.
pub fn ndpi_result(shared: &Shared, c: &Capture) -> std::path::PathBuf {
    shared.root.join("data/ndpi-tests/result").join(format!("{}.out", c.capture))
}

/// Runs the oracle over ndpi-tests; `opt.netanom` empty means golden T2 only.
pub fn run_oracle(opt: &RunOptions, with_tool: bool) -> Result<OracleSummary> {
    let opt = RunOptions { sets: vec!["ndpi-tests".into()], ..opt.clone() };
    let captures = crate::run::select_captures(&opt)?;
    let tmp = std::env::temp_dir().join(format!("t2compare-ndpi-{}", std::process::id()));
    fs::create_dir_all(&tmp).map_err(|e| crate::err!("{}: cannot create: {e}", tmp.display()))?;
    let per = parallel_map(&captures, opt.jobs, |c| one_capture(&opt, c, with_tool, &tmp));
    let _ = fs::remove_dir_all(&tmp);
    let mut s = OracleSummary { captures: captures.len() as u64, ..Default::default() };
    let mut ours = Side::default();
    let ex = opt.diff.examples;
    for (c, r) in captures.iter().zip(per) {
        let r = r?;
        let Some((skipped, t2, us)) = r else {
            s.no_result_file.push(c.name());
            continue;
        };
        s.unreadable_lines.extend(skipped);
        s.conversations += t2.len() as u64;
        s.t2.add(&c.capture, &t2, ex);
        if let Some(us) = us {
            ours.add(&c.capture, &us, ex);
            for ((tv, tw), (ov, ow)) in t2.iter().zip(&us) {
                match (*tv == Verdict::Agree, *ov == Verdict::Agree) {
                    (true, false) => s.only_t2_agrees.push(format!("{}: {ow} ({ov:?})", c.capture)),
                    (false, true) => s.only_ours_agrees.push(format!("{}: {tw} ({tv:?})", c.capture)),
                    _ => {}
                }
            }
        }
    }
    s.t2.finish(s.conversations);
    if with_tool {
        ours.finish(s.conversations);
        s.ours = Some(ours);
    }
    Ok(s)
}

type Judged = Vec<(Verdict, String)>;
/// nDPI lines that could not be read, T2's verdicts, and ours when a tool was run.
type CaptureVerdicts = (Vec<String>, Judged, Option<Judged>);

fn one_capture(opt: &RunOptions, c: &Capture, with_tool: bool, tmp: &Path) -> Result<Option<CaptureVerdicts>> {
    let out_file = ndpi_result(&opt.shared, c);
    if !out_file.is_file() {
        return Ok(None);
    }
    let ndpi = read_out(&out_file)?;
    let golden = Table::read(&opt.shared.golden_flows(c))?;
    let t2 = judge(&ndpi.flows, &conversations(&golden)?);
    let ours = with_tool.then(|| {
        let out = tmp.join(format!("{}.tsv", c.capture.replace('/', "__")));
        let timeout = if opt.timeout.is_zero() { DEFAULT_TIMEOUT } else { opt.timeout };
        let outcome = run_flows(&opt.netanom, &opt.shared.capture_path(c)?, &out, timeout);
        let judged = match outcome {
            Outcome::Ok => Table::read(&out).and_then(|t| conversations(&t)).map(|conv| judge(&ndpi.flows, &conv)),
            other => Err(crate::err!("{other:?}")),
        };
        let _ = fs::remove_file(&out);
        Ok::<_, crate::error::Error>(judged.unwrap_or_else(|e| {
            let why = format!("tool: {e}");
            ndpi.flows.iter().map(|_| (Verdict::ToolFailed, why.clone())).collect()
        }))
    });
    Ok(Some((ndpi.skipped, t2, ours.transpose()?)))
}

impl OracleSummary {
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "nDPI oracle: {} captures ({} without a result file), {} nDPI conversations, {} unreadable flow lines",
            self.captures,
            self.no_result_file.len(),
            self.conversations,
            self.unreadable_lines.len()
        );
        for l in self.unreadable_lines.iter().take(5) {
            let _ = writeln!(s, "  unreadable: {l}");
        }
        let mut side = |name: &str, d: &Side| {
            let _ = writeln!(
                s,
                "{name}: total packets agree on {} of {} ({:.2}%)",
                d.agree, self.conversations, d.agree_pct
            );
            for (v, n) in &d.causes {
                let _ = writeln!(s, "  {:<18} {n}", format!("{v:?}"));
                for e in d.examples.get(v).into_iter().flatten() {
                    let _ = writeln!(s, "      {e}");
                }
            }
            let worst: Vec<String> = d.worst_captures.iter().map(|(c, n)| format!("{c} ({n})")).collect();
            let _ = writeln!(s, "  most disagreements: {}", worst.join(", "));
        };
        side("T2 (golden)", &self.t2);
        if let Some(o) = &self.ours {
            side("ours", o);
        }
        s
    }
}
