//! Running `netanom flows` on one capture with a time limit, and a tiny thread pool.

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How a run of the tool ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Timeout,
    /// Killed by a signal (a panic with `panic = abort`, a segfault, …).
    Crashed(String),
    /// Non-zero exit status, with the end of stderr.
    Failed(String),
    /// The executable could not be started.
    SpawnError(String),
}

/// Runs `exe flows CAPTURE -o OUT`; kills it after `timeout`. stderr goes to a file beside
/// `out` rather than a pipe, so that a chatty tool cannot block on a full pipe and look hung.
pub fn run_flows(exe: &Path, capture: &Path, out: &Path, timeout: Duration) -> Outcome {
    let err_path = out.with_extension("stderr");
    let stderr = match File::create(&err_path) {
        Ok(f) => f,
        Err(e) => return Outcome::SpawnError(format!("{}: {e}", err_path.display())),
    };
    let child = Command::new(exe)
        .arg("flows")
        .arg(capture)
        .arg("-o")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Outcome::SpawnError(format!("{}: {e}", exe.display())),
    };
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= timeout => {
                // Kill by the child's own id only; errors mean it already exited.
                let _ = child.kill();
                let _ = child.wait();
                let _ = fs::remove_file(&err_path);
                return Outcome::Timeout;
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Outcome::SpawnError(format!("waiting for {}: {e}", exe.display())),
        }
    };
    let tail = stderr_tail(&err_path);
    let _ = fs::remove_file(&err_path);
    if status.success() {
        return Outcome::Ok;
    }
    match status.code() {
        Some(code) => Outcome::Failed(format!("exit {code}: {tail}")),
        None => Outcome::Crashed(format!("{status}: {tail}")),
    }
}

/// The last few hundred bytes of stderr, on one line.
fn stderr_tail(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = bytes.len().saturating_sub(400);
    String::from_utf8_lossy(&bytes[start..]).trim().replace('\n', " | ")
}

/// Applies `f` to every item on `jobs` threads; results keep the items' order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    thread::scope(|s| {
        for _ in 0..jobs.max(1).min(items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                // A poisoned lock means another worker panicked; the scope re-raises that panic.
                if let Ok(mut v) = results.lock() {
                    v[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_keeps_order() {
        let v: Vec<u32> = (0..50).collect();
        assert_eq!(parallel_map(&v, 3, |x| x * 2), (0..50).map(|x| x * 2).collect::<Vec<_>>());
        assert!(parallel_map(&Vec::<u32>::new(), 2, |x| *x).is_empty());
    }
}
