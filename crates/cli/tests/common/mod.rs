//! Small captures built in memory for the CLI tests, and helpers to run the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

/// A classic little-endian microsecond pcap of Ethernet frames `(time in µs, frame)`.
pub fn pcap(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0xa1b2c3d4u32] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (us, f) in frames {
        out.extend_from_slice(&((us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}

fn eth(src: [u8; 6], dst: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    // Ethernet minimum frame (without FCS): short frames are padded, as on the wire
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

/// IPv4 header (no options) + `l4`; `frag` = (more fragments, offset in bytes).
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, id: u16, frag: (bool, u16), l4: &[u8]) -> Vec<u8> {
    let total = 20 + l4.len();
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&(total as u16).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    let ff = (if frag.0 { 0x2000 } else { 0 }) | (frag.1 / 8);
    h.extend_from_slice(&ff.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(l4);
    h
}

/// IP identifications for the frames built here: each frame gets a new one, as real stacks do
/// (a repeated one is flagged as a duplicate).
static IP_ID: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);

fn next_id() -> u16 {
    IP_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub fn tcp(src: ([u8; 4], u16), dst: ([u8; 4], u16), flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&src.1.to_be_bytes());
    t.extend_from_slice(&dst.1.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    let mac = if src.0[3] < dst.0[3] { (MAC_A, MAC_B) } else { (MAC_B, MAC_A) };
    eth(mac.0, mac.1, 0x0800, &ipv4(src.0, dst.0, 6, next_id(), (false, 0), &t))
}

pub fn udp(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
    eth(MAC_A, MAC_B, 0x0800, &ipv4(src.0, dst.0, 17, next_id(), (false, 0), &udp_bytes(src.1, dst.1, payload)))
}

fn udp_bytes(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// A UDP datagram of `payload` bytes sent as two IPv4 fragments (the second has no UDP header).
pub fn udp_fragments(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let whole = udp_bytes(src.1, dst.1, payload);
    let (first, rest) = whole.split_at(16);
    (
        eth(MAC_A, MAC_B, 0x0800, &ipv4(src.0, dst.0, 17, 99, (true, 0), first)),
        eth(MAC_A, MAC_B, 0x0800, &ipv4(src.0, dst.0, 17, 99, (false, 16), rest)),
    )
}

/// An ARP request from `MAC_A`/`sender` asking for `target`.
pub fn arp_request(sender: [u8; 4], target: [u8; 4]) -> Vec<u8> {
    let mut a = vec![0, 1, 0x08, 0, 6, 4, 0, 1];
    a.extend_from_slice(&MAC_A);
    a.extend_from_slice(&sender);
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&target);
    eth(MAC_A, [0xff; 6], 0x0806, &a)
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_netanom")
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("netanom-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write test file");
    p
}

pub fn run(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().expect("run netanom")
}

/// A t2 table as a header and rows of named fields.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn parse(text: &str) -> Table {
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default().trim_start_matches('%').split('\t').map(String::from).collect();
        let rows = lines.map(|l| l.split('\t').map(String::from).collect()).collect();
        Table { header, rows }
    }

    pub fn read(path: &Path) -> Table {
        Table::parse(&std::fs::read_to_string(path).expect("read flow table"))
    }

    pub fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    pub fn get<'a>(&'a self, row: &'a [String], name: &str) -> &'a str {
        &row[self.col(name)]
    }

    /// Rows whose column `name` equals `value`.
    pub fn rows_where(&self, name: &str, value: &str) -> Vec<&Vec<String>> {
        let c = self.col(name);
        self.rows.iter().filter(|r| r[c] == value).collect()
    }
}

/// Parses a flowStat value such as `0x0400000000004001`.
pub fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("not hex: {s}"))
}

/// `../shared` beside the repository, or a printed reason to skip.
pub fn shared(test: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.join("data").is_dir() {
        Some(p)
    } else {
        eprintln!("skipping {test}: {} is absent (it holds the shared test captures)", p.display());
        None
    }
}
