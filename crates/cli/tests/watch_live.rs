//! `netanom watch -i` on a real interface: two network namespaces made here, joined by a veth
//! pair; netanom captures on the server's side while the other side sends normal traffic (ping, a
//! TCP exchange) and a real SYN scan (nmap). The scan's alert must name the scanner within a few
//! seconds; SIGINT must flush the flows and exit 0. Everything stays inside the namespaces, which
//! are removed at the end even when the test fails.
//!
//! Needs root (or CAP_NET_ADMIN + CAP_NET_RAW), `ip`, `nmap` and `python3`; without them the test
//! says why and passes, unless CI_REQUIRE_LIVE=1 (as in .ci/run), where it fails.
#![cfg(feature = "live")]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, scratch};

fn skip(why: &str) {
    if std::env::var("CI_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("live test required (CI_REQUIRE_LIVE=1) but: {why}");
    }
    eprintln!("SKIPPED watch_live: {why}");
}

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool).arg(arg).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0]).args(&args[1..]).output().map_err(|e| format!("{}: {e}", args[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Two namespaces and the veth between them; removed on drop.
struct Lab {
    ns: [String; 2],
    veth: [String; 2],
}

impl Lab {
    fn new() -> Result<Lab, String> {
        let id = std::process::id() % 100_000;
        let lab = Lab {
            ns: [format!("nawatch-s-{id}"), format!("nawatch-c-{id}")],
            veth: [format!("nws{id}"), format!("nwc{id}")],
        };
        let [s, c] = &lab.ns;
        let [vs, vc] = &lab.veth;
        sh(&["ip", "netns", "add", s])?;
        sh(&["ip", "netns", "add", c])?;
        sh(&["ip", "link", "add", vs, "netns", s, "type", "veth", "peer", "name", vc, "netns", c])?;
        sh(&["ip", "-n", s, "addr", "add", "10.199.0.2/24", "dev", vs])?;
        sh(&["ip", "-n", c, "addr", "add", "10.199.0.1/24", "dev", vc])?;
        for (n, v) in [(s, vs), (c, vc)] {
            sh(&["ip", "-n", n, "link", "set", v, "up"])?;
            sh(&["ip", "-n", n, "link", "set", "lo", "up"])?;
        }
        Ok(lab)
    }

    fn exec(&self, side: usize) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns[side]]);
        c
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth, and so the pair.
        for n in &self.ns {
            let _ = Command::new("ip").args(["netns", "del", n]).stderr(Stdio::null()).status();
        }
    }
}

/// A child process killed on drop (a failing test must not leave it running).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < until, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

const SERVER: &str = r#"
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.199.0.2", 8080))
s.listen(8)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.sendall(b"x" * 2000)
    c.close()
"#;
const CLIENT: &str = r#"
import socket, time
for i in range(3):
    for attempt in range(50):
        try:
            c = socket.create_connection(("10.199.0.2", 8080), timeout=5)
            break
        except ConnectionRefusedError:
            time.sleep(0.1)
    c.sendall(b"hello")
    n = 0
    while True:
        d = c.recv(4096)
        if not d:
            break
        n += len(d)
    assert n == 2000, n
    c.close()
"#;

#[test]
fn a_real_scan_raises_an_alert_naming_the_scanner_and_sigint_flushes() {
    if !is_root() {
        return skip("not root (namespaces and capture need it)");
    }
    for (tool, arg) in [("ip", "-V"), ("nmap", "--version"), ("python3", "--version")] {
        if !have(tool, arg) {
            return skip(&format!("`{tool}` is not installed (apt-get install iproute2 nmap python3)"));
        }
    }
    let lab = match Lab::new() {
        Ok(l) => l,
        Err(e) => return skip(&format!("cannot make network namespaces: {e}")),
    };
    let dir = scratch("watch_live");
    let (alerts, flows, err) = (dir.join("alerts.jsonl"), dir.join("flows"), dir.join("stderr.txt"));
    let _server = Guard(lab.exec(0).args(["python3", "-c", SERVER]).spawn().unwrap());
    let mut watch = Guard(
        lab.exec(0)
            .args([bin(), "watch", "-i", &lab.veth[0], "--status", "1", "--rotate", "0", "--format", "t2"])
            .args(["--alerts", alerts.to_str().unwrap(), "--flows-out", flows.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_for("netanom to start capturing", Duration::from_secs(15), || read(&err).contains("reading "));
    assert!(watch.0.try_wait().unwrap().is_none(), "netanom watch exited: {}", read(&err));

    // Normal traffic first: ping and three complete TCP exchanges.
    let ping = lab.exec(1).args(["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.199.0.2"]).output().unwrap();
    assert!(ping.status.success(), "ping: {}", String::from_utf8_lossy(&ping.stdout));
    std::thread::sleep(Duration::from_millis(300));
    let client = lab.exec(1).args(["python3", "-c", CLIENT]).output().unwrap();
    assert!(client.status.success(), "client: {}", String::from_utf8_lossy(&client.stderr));

    // The scan: 200 ports, SYN only.
    let nmap = lab
        .exec(1)
        .args(["timeout", "60", "nmap", "-sS", "-n", "-Pn", "-T4", "-p", "1-200", "10.199.0.2"])
        .output()
        .unwrap();
    let scan_end = Instant::now();
    assert!(nmap.status.success(), "nmap: {}", String::from_utf8_lossy(&nmap.stderr));
    let scanner_alert = |text: &str| {
        text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).any(|v| {
            v["kind"] == "flow"
                && v["src"] == "10.199.0.1"
                && v["rules"].as_array().is_some_and(|r| r.iter().any(|n| n == "port-scan-vertical"))
        })
    };
    wait_for("an alert naming the scanner", Duration::from_secs(5), || scanner_alert(&read(&alerts)));
    eprintln!("scan alert within {:?} of the scan's end", scan_end.elapsed());

    // Stop: every live flow is flushed, exit 0.
    let pid = watch.0.id().to_string();
    // `ip netns exec` runs netanom in place (exec), so the pid is netanom's.
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let mut status = None;
    wait_for("netanom to exit after SIGINT", Duration::from_secs(20), || {
        status = watch.0.try_wait().unwrap();
        status.is_some()
    });
    let e = read(&err);
    assert!(status.unwrap().success(), "exit {status:?}: {e}");
    assert!(e.contains("stopped           by a signal"), "{e}");
    assert!(e.contains("netanom watch: ") && e.contains("drops "), "no status line: {e}");
    assert!(e.contains("dropped           "), "no kernel drop counters: {e}");
    let files: Vec<_> = std::fs::read_dir(&flows).unwrap().flatten().map(|f| f.path()).collect();
    assert_eq!(files.len(), 1);
    let text = read(&files[0]);
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or_default().trim_start_matches('%').split('\t').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    let line = e.lines().find(|l| l.trim_start().starts_with("flows ")).unwrap();
    let reported: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(rows.len(), reported, "{e}");
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap_or_else(|| panic!("no column {n}"));
    let (src, dport, proto) = (col("srcIP"), col("dstPort"), col("l4Proto"));
    // The TCP exchanges and the pings are in the flows, next to the scan.
    let exchanges = rows.iter().filter(|r| r[src] == "10.199.0.1" && r[dport] == "8080" && r[proto] == "6").count();
    assert!(exchanges >= 3, "{exchanges} flows to port 8080: {text}");
    assert!(rows.iter().any(|r| r[src] == "10.199.0.1" && r[proto] == "1"), "no ICMP flow: {text}");
    for l in read(&alerts).lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("bad alert line {l}: {e}"));
    }
}
