//! `--threads N` must write exactly the table one thread writes: same rows, same order, same
//! flowInd numbering, on every capture of the shared data (including captures whose timestamps
//! jump backwards) and on the bundled sample.

mod common;

use std::path::{Path, PathBuf};

use common::{bin, scratch, shared};

fn table(capture: &Path, threads: &str, out: &Path) -> Option<Vec<u8>> {
    tables(&[capture], threads, out)
}

fn tables(captures: &[&Path], threads: &str, out: &Path) -> Option<Vec<u8>> {
    let o = std::process::Command::new(bin())
        .arg("flows")
        .args(captures)
        .args(["-q", "--no-headers-file", "--threads", threads, "-o"])
        .arg(out)
        .output()
        .expect("run netanom");
    // non-captures are somebody else's test
    o.status.success().then(|| std::fs::read(out).expect("read table"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn threads_write_the_single_threaded_table() {
    let dir = scratch("threads");
    let (one, many) = (dir.join("one.txt"), dir.join("many.txt"));
    let sample = dir.join("sample.pcap");
    std::fs::write(&sample, include_bytes!("../../../samples/lab.pcap")).unwrap();
    let mut captures = vec![sample];
    if let Some(shared) = shared("threads_write_the_single_threaded_table (shared part)") {
        for set in ["ndpi-tests/pcap", "zeek-traces", "pcapplusplus-examples"] {
            walk(&shared.join("data").join(set), &mut captures);
        }
    }
    captures.sort();
    let mut compared = 0;
    let mut differ = Vec::new();
    for c in &captures {
        let Some(a) = table(c, "1", &one) else { continue };
        for threads in ["2", "3"] {
            let b = table(c, threads, &many).expect("the multi-threaded run failed where one thread did not");
            if a != b {
                differ.push(format!("{} (--threads {threads})", c.display()));
            }
        }
        compared += 1;
    }
    println!("{compared} captures compared");
    assert!(differ.is_empty(), "{} captures differ:\n{}", differ.len(), differ.join("\n"));
}

/// Several inputs in one run: frames of memory-mapped files travel to the shards as places in
/// their file's mapping, the others (compressed, small) as copies, and a batch can hold both.
#[test]
fn threads_write_the_single_threaded_table_of_several_inputs() {
    let dir = scratch("threads-several");
    let (one, many) = (dir.join("one.txt"), dir.join("many.txt"));
    let sample = dir.join("sample.pcap");
    let lab = include_bytes!("../../../samples/lab.pcap");
    std::fs::write(&sample, lab).unwrap();
    // Large enough to be mapped: the sample's records twice over, shifted in time.
    let big = dir.join("big.pcap");
    std::fs::write(&big, doubled(lab)).unwrap();
    let small = dir.join("small.pcap");
    std::fs::write(&small, &lab[..lab.len().min(60_000)]).unwrap();
    let mut inputs: Vec<PathBuf> = vec![big.clone(), small, sample, big];
    if let Some(shared) = shared("threads_write_the_single_threaded_table_of_several_inputs (shared part)") {
        let mut files = Vec::new();
        walk(&shared.join("data").join("ndpi-tests/pcap"), &mut files);
        files.retain(|f| f.metadata().is_ok_and(|m| (1 << 20..8 << 20).contains(&m.len())));
        files.sort();
        inputs.extend(files.into_iter().take(4));
    }
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let a = tables(&inputs, "1", &one).expect("one thread");
    assert!(a.len() > 10_000, "a table of {} bytes", a.len());
    for threads in ["2", "3"] {
        let b = tables(&inputs, threads, &many).expect("several threads");
        assert!(a == b, "--threads {threads} wrote another table for {inputs:?}");
    }
}

/// A folder of captures from different times in one run: each file that starts before the
/// previous one ended takes the input back in time, and the clock stands still until it catches
/// up, so that many flows share a clock at their last packet. A direction moved to a new TCP
/// state by its peer's packet went into its new list ahead of more recent flows with that same
/// clock, and ended later in one table than in the shards (the rows came in another order).
#[test]
fn threads_write_the_single_threaded_table_of_a_folder_going_back_in_time() {
    let Some(shared) = shared("threads_write_the_single_threaded_table_of_a_folder_going_back_in_time") else {
        return;
    };
    let dir = scratch("threads-folder");
    let (one, many) = (dir.join("one.txt"), dir.join("many.txt"));
    let folder = shared.join("data").join("zeek-traces");
    let a = tables(&[&folder], "1", &one).expect("one thread");
    assert!(a.len() > 100_000, "a table of {} bytes", a.len());
    for threads in ["2", "3"] {
        let b = tables(&[&folder], threads, &many).expect("several threads");
        assert!(a == b, "--threads {threads} wrote another table for {}", folder.display());
    }
}

/// A pcap file holding `pcap`'s records twice, the second copy an hour later.
fn doubled(pcap: &[u8]) -> Vec<u8> {
    let mut out = pcap.to_vec();
    let (le, mut at) = (pcap[0] == 0xd4, 24);
    while at + 16 <= pcap.len() {
        let field = |i: usize| {
            let b = [pcap[at + i], pcap[at + i + 1], pcap[at + i + 2], pcap[at + i + 3]];
            if le {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        };
        let (secs, caplen) = (field(0) + 3600, field(8) as usize);
        if at + 16 + caplen > pcap.len() {
            break;
        }
        out.extend(if le { secs.to_le_bytes() } else { secs.to_be_bytes() });
        out.extend_from_slice(&pcap[at + 4..at + 16 + caplen]);
        at += 16 + caplen;
    }
    out
}
