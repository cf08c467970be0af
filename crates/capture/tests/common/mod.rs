//! Shared helpers for the tests over `../shared` (the read-only test data beside the project).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netanom_capture::{CaptureError, CaptureReader, DamageKind, ReadEvent};

/// `../shared` beside the project root, if it is there; otherwise prints why the caller skips.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.join("data").is_dir() {
        Some(dir.canonicalize().unwrap_or(dir))
    } else {
        println!("SKIP {test}: shared test data not found at {}", dir.display());
        None
    }
}

/// Every file under `dir`, recursively, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// What reading one file gave.
#[derive(Debug)]
pub enum Outcome {
    Read(Summary),
    NotACapture(String),
    Failed(String),
}

#[derive(Debug, Default)]
pub struct Summary {
    pub format: String,
    pub packets: u64,
    pub damage: BTreeMap<DamageKind, u64>,
    pub first_damage: Option<String>,
    pub interfaces: u32,
    pub elapsed: Duration,
    /// Sum over packets of a cheap digest of timestamp, link type, lengths and bytes, so that two
    /// readings of the same capture (e.g. plain and gzip) can be compared.
    pub digest: u64,
}

impl Summary {
    pub fn damaged(&self) -> u64 {
        self.damage.values().sum()
    }
}

pub fn read(path: &Path) -> Outcome {
    let start = Instant::now();
    let mut r = match CaptureReader::open(path) {
        Ok(r) => r,
        Err(e @ CaptureError::NotACapture { .. }) => return Outcome::NotACapture(e.to_string()),
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let mut s = Summary { format: r.format_description(), ..Summary::default() };
    loop {
        match r.next_event() {
            Ok(Some(ReadEvent::Packet(p))) => {
                s.packets += 1;
                s.interfaces = s.interfaces.max(p.interface + 1);
                let mut h = p.ts_ns ^ (p.linktype as u64) << 7 ^ (p.orig_len as u64) << 23;
                for &b in p.data {
                    h = h.rotate_left(5) ^ b as u64;
                }
                s.digest = s.digest.wrapping_add(h.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            }
            Ok(Some(ReadEvent::Damaged(d))) => {
                *s.damage.entry(d.kind).or_default() += 1;
                s.first_damage.get_or_insert_with(|| d.to_string());
            }
            Ok(None) => break,
            Err(e) => return Outcome::Failed(e.to_string()),
        }
    }
    let stats = r.stats();
    assert_eq!(stats.packets, s.packets, "{}", path.display());
    assert_eq!(stats.damaged.total(), s.damaged(), "{}", path.display());
    s.elapsed = start.elapsed();
    Outcome::Read(s)
}

/// Reads `path` and insists it is a capture.
pub fn read_ok(path: &Path) -> Summary {
    match read(path) {
        Outcome::Read(s) => s,
        other => panic!("{}: {other:?}", path.display()),
    }
}
