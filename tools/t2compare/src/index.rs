//! The golden folder's INDEX.tsv and where each set's captures live.

use std::fs;
use std::path::{Path, PathBuf};

use crate::err;
use crate::error::Result;

/// (set name, capture folder under `shared/data/`), as in golden/README.md's layout table.
pub const SETS: &[(&str, &str)] = &[
    ("ndpi-tests", "ndpi-tests/pcap"),
    ("zeek-traces", "zeek-traces/Traces"),
    ("pcapplusplus-examples", "pcapplusplus-examples"),
    ("esnet-curated-pcaps", "esnet-curated-pcaps"),
];

/// The golden output's folder name under `shared/golden/`.
pub const GOLDEN_VERSION: &str = "t2-0.9.3";

/// One INDEX.tsv row.
#[derive(Debug, Clone)]
pub struct Capture {
    pub set: String,
    /// Path relative to the set's capture folder.
    pub capture: String,
    pub ok: bool,
    /// T2's "Number of processed packets" (absent when 0).
    pub packets: Option<u64>,
    pub a_rows: u64,
    pub b_rows: u64,
    /// Relative to the golden folder; `-` when T2 failed.
    pub flows_file: String,
    /// libpcap read errors or T2's error; empty when none.
    pub note: String,
}

impl Capture {
    /// `set/capture`, the name used in reports and matched by `--only`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.set, self.capture)
    }

    /// A libpcap read error made T2 read only part of the file: compare loosely.
    pub fn loose(&self) -> bool {
        self.ok && !self.note.is_empty()
    }
}

/// The `shared/` folder beside the project.
#[derive(Debug, Clone)]
pub struct Shared {
    pub root: PathBuf,
}

impl Shared {
    pub fn new(root: impl Into<PathBuf>) -> Shared {
        Shared { root: root.into() }
    }

    /// `shared/` as seen from this crate's source tree (tools/t2compare → ../../../shared).
    pub fn beside_source() -> Shared {
        Shared::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
    }

    pub fn golden_dir(&self) -> PathBuf {
        self.root.join("golden").join(GOLDEN_VERSION)
    }

    pub fn exists(&self) -> bool {
        self.golden_dir().join("INDEX.tsv").is_file()
    }

    pub fn capture_path(&self, c: &Capture) -> Result<PathBuf> {
        let dir =
            SETS.iter().find(|(s, _)| *s == c.set).map(|(_, d)| *d).ok_or_else(|| err!("unknown set `{}`", c.set))?;
        Ok(self.root.join("data").join(dir).join(&c.capture))
    }

    pub fn golden_flows(&self, c: &Capture) -> PathBuf {
        self.golden_dir().join(&c.flows_file)
    }

    pub fn read_index(&self) -> Result<Vec<Capture>> {
        read_index(&self.golden_dir().join("INDEX.tsv"))
    }
}

/// Parses INDEX.tsv, by column name.
pub fn read_index(path: &Path) -> Result<Vec<Capture>> {
    let origin = path.display();
    let text = fs::read_to_string(path).map_err(|e| err!("{origin}: cannot read: {e}"))?;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines.next().map(|(_, l)| l.split('\t').collect()).unwrap_or_default();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or_else(|| err!("{origin}:1: no column `{name}`"));
    let (set, cap, status) = (col("set")?, col("capture")?, col("status")?);
    let (packets, a_rows, b_rows) = (col("packets")?, col("a_rows")?, col("b_rows")?);
    let (flows_file, note) = (col("flows_file")?, col("note")?);
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let at = |c: usize| f.get(c).copied().unwrap_or("");
        let num = |c: usize| -> Result<u64> {
            at(c).parse().map_err(|_| err!("{origin}:{}: `{}` is not a count", i + 1, at(c)))
        };
        if f.len() < header.len() - 1 {
            return Err(err!("{origin}:{}: {} fields, expected {}", i + 1, f.len(), header.len()));
        }
        out.push(Capture {
            set: at(set).to_owned(),
            capture: at(cap).to_owned(),
            ok: at(status) == "ok",
            packets: if at(packets).is_empty() { None } else { Some(num(packets)?) },
            a_rows: num(a_rows)?,
            b_rows: num(b_rows)?,
            flows_file: at(flows_file).to_owned(),
            note: at(note).to_owned(),
        });
    }
    Ok(out)
}
