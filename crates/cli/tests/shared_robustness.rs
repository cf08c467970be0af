//! `netanom flows` on every file under `shared/data` (3,000+ files: captures of many link types,
//! ~210 malformed crash reproducers, truncated files, and plenty of files that are not captures):
//! no crash, no hang, exit 0 with a flow table for a capture, exit 1 with one line naming the
//! file for anything else.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, scratch, shared};

/// The limit per file; the slowest capture takes well under a second.
const LIMIT: Duration = Duration::from_secs(10);

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// Runs one file; `Err` describes what went wrong.
fn check(file: &Path, out: &Path) -> Result<bool, String> {
    let mut child = Command::new(bin())
        .arg("flows")
        .arg(file)
        .args(["-q", "--no-headers-file", "-o"])
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    match status.code() {
        Some(0) => {
            let table = std::fs::read_to_string(out).map_err(|e| format!("no flow table: {e}"))?;
            if !table.starts_with("%dir\t") {
                return Err("flow table without its header".into());
            }
            Ok(true)
        }
        Some(1) => {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if err.lines().count() != 1 || !err.contains(&name) {
                return Err(format!("exit 1 without a one-line error naming the file: {err:?}"));
            }
            Ok(false)
        }
        other => Err(format!("exit {other:?} (killed by a signal when None): {}", err.trim())),
    }
}

#[test]
fn every_shared_file_is_a_flow_table_or_a_clean_error() {
    let Some(shared) = shared("every_shared_file_is_a_flow_table_or_a_clean_error") else { return };
    let mut files = Vec::new();
    walk(&shared.join("data"), &mut files);
    files.sort();
    assert!(files.len() > 3000, "expected the whole data set, found {} files", files.len());
    let dir = scratch("robust");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for w in 0..2 {
            let (files, next, results, dir) = (&files, &next, &results, &dir);
            s.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let r = check(f, &dir.join(format!("out{w}.txt")));
                results.lock().unwrap_or_else(|p| p.into_inner()).push((f.clone(), r));
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let captures = results.iter().filter(|(_, r)| matches!(r, Ok(true))).count();
    let rejected = results.iter().filter(|(_, r)| matches!(r, Ok(false))).count();
    let problems: Vec<String> =
        results.iter().filter_map(|(f, r)| r.as_ref().err().map(|e| format!("{}: {e}", f.display()))).collect();
    println!("{} files: {captures} flow tables, {rejected} rejected as not captures", files.len());
    assert!(captures > 2000, "only {captures} files were read as captures");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
