//! A deterministic stand-in for the fuzzer that runs on the stable toolchain and in CI: mutated
//! copies of the fuzz seed corpus (and, when present, of small real captures from
//! `shared/data`) go through `fuzz_support::read_checked`, which panics on any broken invariant.
//! Set NETANOM_STRESS_ROUNDS to run more mutations per input.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use netanom_capture::fuzz_support::read_checked;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: fixed seed, so every run mutates the same way
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut d = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(d.len());
        match rng.below(8) {
            0 => {
                if let Some(b) = d.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            // length fields are where damage hurts: write typical bad lengths over 4 bytes
            1 => {
                let v = [0u32, 1, 0xffff_ffff, 0x7fff_ffff, 0x1000_0000, 65535, 65536, 262_145][rng.below(8)];
                let bytes = if rng.below(2) == 0 { v.to_le_bytes() } else { v.to_be_bytes() };
                for (i, b) in bytes.iter().enumerate() {
                    if let Some(x) = d.get_mut(at + i) {
                        *x = *b;
                    }
                }
            }
            2 => d.truncate(at),
            3 => {
                let end = (at + 1 + rng.below(64)).min(d.len());
                d.drain(at..end);
            }
            4 => {
                let end = (at + 1 + rng.below(128)).min(d.len());
                let chunk = d[at..end].to_vec();
                d.splice(at..at, chunk);
            }
            5 => {
                let garbage: Vec<u8> = (0..1 + rng.below(100)).map(|_| rng.next() as u8).collect();
                d.splice(at..at, garbage);
            }
            6 => {
                let end = (at + 1 + rng.below(256)).min(d.len());
                d[at..end].fill(0);
            }
            _ => {
                if let Some(b) = d.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
        }
    }
    d
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/capture_reader");
    for p in common::walk(&corpus) {
        if let Ok(d) = std::fs::read(&p) {
            out.push((p.display().to_string(), d));
        }
    }
    if let Some(shared) = common::shared_dir("mutation_stress (real captures part)") {
        let data = shared.join("data");
        let picks = ["pcap-parser-assets/assets", "pcapng-test-suite/output_be/difficult", "scapy-test-pcaps/pcaps"];
        for dir in picks {
            for p in common::walk(&data.join(dir)) {
                let Ok(d) = std::fs::read(&p) else { continue };
                if d.len() <= 16 << 10 {
                    out.push((p.display().to_string(), d));
                }
            }
        }
    }
    out
}

#[test]
fn mutated_captures_never_break_the_reader() {
    let rounds: usize = std::env::var("NETANOM_STRESS_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    let inputs = inputs();
    if inputs.is_empty() {
        println!("SKIP mutated_captures_never_break_the_reader: no seed corpus and no shared data");
        return;
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut runs, mut slowest) = (0, (Duration::ZERO, String::new()));
    for (name, input) in &inputs {
        read_checked(input);
        for round in 0..rounds {
            let m = mutate(input, &mut rng);
            let start = Instant::now();
            let result = std::panic::catch_unwind(|| read_checked(&m));
            if result.is_err() {
                let dump = std::env::temp_dir().join(format!("netanom-stress-crash-{round}"));
                let _ = std::fs::write(&dump, &m);
                panic!("{name}, mutation {round}: reader panicked; input saved to {}", dump.display());
            }
            let t = start.elapsed();
            if t > slowest.0 {
                slowest = (t, format!("{name} #{round}"));
            }
            runs += 1;
        }
    }
    println!("{runs} mutated inputs from {} originals; slowest {:?} ({})", inputs.len(), slowest.0, slowest.1);
    assert!(slowest.0 < Duration::from_secs(5), "slowest input took {:?}: {}", slowest.0, slowest.1);
}
