//! The browser check: headless Chromium opens report.html from disk, once to dump the DOM after
//! the page's self-check script ran (charts present, drawn and visible; script errors) and once
//! to take a screenshot. Console errors on stderr count as failures. Every Chromium run has a
//! time limit, so a hung browser fails the check instead of hanging it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest one Chromium run may take.
const TIME_LIMIT: Duration = Duration::from_secs(60);
/// Screenshot width; the height is estimated from the page (Chromium's --screenshot shows only
/// the window, not the whole page).
const WIDTH: u32 = 1280;

/// What the browser saw.
#[derive(Clone, Debug)]
pub struct BrowserCheck {
    /// The Chromium binary used.
    pub browser: PathBuf,
    /// `figure.chart` elements holding an `<svg>`.
    pub charts: usize,
    /// Charts the page's self-check found empty or invisible (by `data-chart` name).
    pub empty: Vec<String>,
    /// Console errors and script errors the page recorded.
    pub console_errors: Vec<String>,
    pub screenshot: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error(
        "no Chromium found ({0}); install Debian's `chromium` package or set NETANOM_CHROMIUM to a Chromium binary"
    )]
    NotInstalled(String),
    #[error("cannot run {}: {reason}", browser.display())]
    Run { browser: PathBuf, reason: String },
    #[error("{} did not finish within {} s ({what}); killed it", browser.display(), TIME_LIMIT.as_secs())]
    Timeout { browser: PathBuf, what: &'static str },
    #[error("{what}: {reason}")]
    Page { what: String, reason: String },
}

/// Opens `html` in headless Chromium, checks its DOM and writes a screenshot to `screenshot`.
pub fn check(html: &Path, screenshot: &Path) -> Result<BrowserCheck, BrowserError> {
    let browser = find()?;
    let abs = std::fs::canonicalize(html)
        .map_err(|e| BrowserError::Page { what: format!("cannot open {}", html.display()), reason: e.to_string() })?;
    let url = file_url(&abs);

    let profile = tempfile_dir()?;
    let dom = run(&browser, profile.path(), &["--dump-dom", &url], "dumping the DOM")?;
    let profile = tempfile_dir()?;
    let shot_arg = format!("--screenshot={}", screenshot.display());
    let window = format!("--window-size={WIDTH},{}", page_height(&dom.stdout));
    let shot =
        run(&browser, profile.path(), &[&shot_arg, &window, "--hide-scrollbars", &url], "taking the screenshot")?;
    if !screenshot.is_file() {
        return Err(BrowserError::Page {
            what: format!("Chromium wrote no screenshot to {}", screenshot.display()),
            reason: last_lines(&shot.stderr),
        });
    }

    let body = body_tag(&dom.stdout).ok_or_else(|| BrowserError::Page {
        what: format!("Chromium's DOM of {} has no <body>", html.display()),
        reason: last_lines(&dom.stderr),
    })?;
    if attr(body, "data-checked").as_deref() != Some("1") {
        return Err(BrowserError::Page {
            what: format!("the page's self-check did not run in {}", html.display()),
            reason: "no data-checked=\"1\" on <body>: the script failed or never ran".into(),
        });
    }
    let empty: Vec<String> =
        attr(body, "data-charts-bad").unwrap_or_default().split_whitespace().map(String::from).collect();
    let mut errors = console_errors(&dom.stderr);
    for e in console_errors(&shot.stderr) {
        // Both runs load the page: the same message twice is one problem.
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
    if let Some(e) = attr(body, "data-errors").filter(|e| !e.is_empty()) {
        errors.push(format!("script error: {e}"));
    }
    Ok(BrowserCheck {
        browser,
        charts: count_chart_svgs(&dom.stdout),
        empty,
        console_errors: errors,
        screenshot: screenshot.to_path_buf(),
    })
}

/// The Chromium to use: NETANOM_CHROMIUM, else the usual names on PATH.
pub fn find() -> Result<PathBuf, BrowserError> {
    if let Some(p) = std::env::var_os("NETANOM_CHROMIUM") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(BrowserError::NotInstalled(format!("NETANOM_CHROMIUM={} is not a file", p.display())))
        };
    }
    let fixed = PathBuf::from("/usr/bin/chromium");
    if fixed.is_file() {
        return Ok(fixed);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(BrowserError::NotInstalled("not at /usr/bin/chromium, no chromium or chromium-browser on PATH".into()))
}

struct Output {
    stdout: String,
    stderr: String,
}

fn tempfile_dir() -> Result<TempDir, BrowserError> {
    TempDir::new()
        .map_err(|e| BrowserError::Page { what: "cannot make a Chromium profile folder".into(), reason: e.to_string() })
}

/// Runs Chromium headless with a fresh profile and the flags that keep it off the network (a
/// closed network makes it hang on background requests otherwise).
fn run(browser: &Path, profile: &Path, args: &[&str], what: &'static str) -> Result<Output, BrowserError> {
    let mut cmd = Command::new(browser);
    // Its own process group, so a timeout can end the renderer and helper processes too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BrowserError::Run { browser: browser.to_path_buf(), reason: e.to_string() })?;
    // Drain both pipes on threads so a chatty browser cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIME_LIMIT => {
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                return Err(BrowserError::Timeout { browser: browser.to_path_buf(), what });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(BrowserError::Run { browser: browser.to_path_buf(), reason: e.to_string() }),
        }
    };
    // A helper process left behind would hold the pipes open and keep the readers waiting.
    kill_group(child.id());
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        return Err(BrowserError::Run {
            browser: browser.to_path_buf(),
            reason: format!("{what} exited with {status}: {}", last_lines(&stderr)),
        });
    }
    Ok(Output { stdout, stderr })
}

/// Ends the process group Chromium was started in (its own, see `run`), if any is left.
fn kill_group(pid: u32) {
    #[cfg(unix)]
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    #[cfg(not(unix))]
    let _ = pid;
}

fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => url.push(b as char),
            b => url.push_str(&format!("%{b:02X}")),
        }
    }
    url
}

/// The page's console messages. Chromium logs every level alike (`[pid:tid:time:INFO:CONSOLE:1]
/// "message", source: …`; older builds `…:ERROR:CONSOLE(1)]`), so the level cannot be told
/// apart; the report writes nothing to the console, so any message at all is a failure.
fn console_errors(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(|l| l.split_once("] ").map_or(l, |(_, msg)| msg).trim().to_string())
        .collect()
}

fn body_tag(dom: &str) -> Option<&str> {
    let start = dom.find("<body")?;
    let end = dom[start..].find('>')?;
    Some(&dom[start..start + end + 1])
}

/// An attribute's value in a start tag as Chromium serialises it (always double-quoted).
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(tag[at..at + len].replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
}

/// `figure class="chart"` elements with an `<svg` before their `</figure>`.
fn count_chart_svgs(dom: &str) -> usize {
    dom.split("<figure class=\"chart\"")
        .skip(1)
        .filter(|rest| rest.split("</figure>").next().is_some_and(|f| f.contains("<svg")))
        .count()
}

/// A window height that holds the whole page: charts are about 600 px tall, table rows 30.
fn page_height(dom: &str) -> usize {
    // Count outside the charts' SVG, whose elements say nothing about the page's height.
    let mut text = String::with_capacity(dom.len());
    let mut rest = dom;
    while let Some(start) = rest.find("<svg") {
        text.push_str(&rest[..start]);
        rest = rest[start..].find("</svg>").map_or("", |end| &rest[start + end..]);
    }
    text.push_str(rest);
    let figures = text.matches("<figure").count();
    let rows = text.matches("<tr").count() + text.matches("<li").count();
    let blocks = text.matches("<p>").count() + text.matches("<h2").count() + text.matches("<h3").count();
    let pre_lines: usize =
        text.split("<pre>").skip(1).map(|p| p.split("</pre>").next().unwrap_or("").lines().count()).sum();
    // A little too tall is better than cut off: the fixture's page is 8,700 px, this says 9,500.
    (600 + figures * 620 + rows * 30 + blocks * 50 + pre_lines * 20).clamp(2000, 16_000)
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" / ")
}

/// A temporary folder removed on drop (Chromium's profile).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "netanom-chromium-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_attributes_and_figures_are_read_back() {
        let dom = "<html><head></head><body data-charts-ok=\"2\" data-charts-bad=\"rules\" data-errors=\"x &amp; y\" data-checked=\"1\">\
                   <figure class=\"chart\" data-chart=\"a\"><svg></svg></figure>\
                   <figure class=\"chart\" data-chart=\"rules\"><p></p></figure>\
                   <figure class=\"chart\" data-chart=\"b\"><svg></svg></figure></body></html>";
        let body = body_tag(dom).expect("body");
        assert_eq!(attr(body, "data-charts-bad").as_deref(), Some("rules"));
        assert_eq!(attr(body, "data-errors").as_deref(), Some("x & y"));
        assert_eq!(attr(body, "data-missing"), None);
        assert_eq!(count_chart_svgs(dom), 2);
    }

    #[test]
    fn console_errors_are_picked_from_stderr() {
        let err = "[1:2:1129/220000.1:INFO:CONSOLE:3] \"hello\", source: file:///r.html (3)\n\
                   [1:2:1129/220000.2:ERROR:CONSOLE(7)] \"Uncaught TypeError: x\", source: file:///r.html (7)\n\
                   [1:2:1129/220000.3:ERROR:gpu_init.cc(1)] no GPU\n\
                   /usr/bin/chromium: 9: [: 25276502016: unexpected operator\n";
        assert_eq!(
            console_errors(err),
            ["\"hello\", source: file:///r.html (3)", "\"Uncaught TypeError: x\", source: file:///r.html (7)"]
        );
    }

    #[test]
    fn a_missing_browser_is_reported_as_not_installed() {
        // The only test in this crate's unit tests that reads NETANOM_CHROMIUM.
        std::env::set_var("NETANOM_CHROMIUM", "/nonexistent/chromium");
        let r = check(Path::new("report.html"), Path::new("shot.png"));
        std::env::remove_var("NETANOM_CHROMIUM");
        match r {
            Err(BrowserError::NotInstalled(why)) => assert!(why.contains("/nonexistent/chromium"), "{why}"),
            other => panic!("expected NotInstalled, got {other:?}"),
        }
    }

    #[test]
    fn file_urls_are_percent_encoded() {
        assert_eq!(file_url(Path::new("/tmp/a b/r.html")), "file:///tmp/a%20b/r.html");
    }
}
