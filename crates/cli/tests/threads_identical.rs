//! `--threads N` must write exactly the table one thread writes: same rows, same order, same
//! flowInd numbering, on every capture of the shared data (including captures whose timestamps
//! jump backwards) and on the bundled sample.

mod common;

use std::path::{Path, PathBuf};

use common::{bin, scratch, shared};

fn table(capture: &Path, threads: &str, out: &Path) -> Option<Vec<u8>> {
    let o = std::process::Command::new(bin())
        .arg("flows")
        .arg(capture)
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
