//! Writes the report of a realistic fixture summary and checks the files; then opens the page in
//! headless Chromium when one is installed (required when CI_REQUIRE_BROWSER=1).

use std::path::{Path, PathBuf};

use netanom_report::{browser, write_report, Summary};

fn fixture() -> Summary {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/summary.json");
    let text = std::fs::read_to_string(&path).expect("the fixture summary.json is readable");
    serde_json::from_str(&text).expect("the fixture summary.json parses")
}

/// The output folder: a temp dir, or NETANOM_REPORT_KEEP to look at the result.
fn out_dir(name: &str) -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("NETANOM_REPORT_KEEP") {
        Some(dir) => {
            let d = PathBuf::from(dir).join(name);
            std::fs::create_dir_all(&d).expect("NETANOM_REPORT_KEEP is writable");
            (None, d)
        }
        None => {
            let t = tempfile::tempdir().expect("a temp dir");
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

const ALL: [&str; 10] = netanom_report::charts::NAMES;

#[test]
fn fixture_report_has_every_chart_as_svg_png_and_inline() {
    let (_keep, dir) = out_dir("fixture");
    let started = std::time::Instant::now();
    let files = write_report(&dir, &fixture()).expect("the report is written");
    eprintln!("fixture report written in {:?}", started.elapsed());
    let names: Vec<&str> = files.charts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ALL);
    assert!(files.omitted.is_empty(), "{:?}", files.omitted);
    for c in &files.charts {
        let svg = std::fs::read_to_string(&c.svg).expect("svg written");
        assert!(svg.starts_with("<svg") && svg.contains("<text"), "{} is not a drawn SVG", c.name);
        let png = std::fs::read(&c.png).expect("png written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", c.name);
    }
    let html = std::fs::read_to_string(&files.html).expect("report.html written");
    for name in ALL {
        assert!(html.contains(&format!("<figure class=\"chart\" data-chart=\"{name}\">")), "{name} figure missing");
    }
    assert!(!html.contains("http://") && !html.contains("https://"), "the page must not reach the network");
}

/// The browser test's report and screenshot stay in Cargo's target tmp folder (for CI to keep as an
/// artifact), unless NETANOM_REPORT_KEEP names another place.
#[test]
fn fixture_report_opens_in_chromium() {
    let dir = match std::env::var_os("NETANOM_REPORT_KEEP") {
        Some(d) => PathBuf::from(d).join("browser"),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("netanom-report-fixture"),
    };
    std::fs::create_dir_all(&dir).expect("the report folder can be made");
    let files = write_report(&dir, &fixture()).expect("the report is written");
    let shot = dir.join("screenshot.png");
    match browser::check(&files.html, &shot) {
        Ok(check) => {
            assert_eq!(check.charts, ALL.len(), "{check:?}");
            assert!(check.empty.is_empty(), "empty charts: {:?}", check.empty);
            assert!(check.console_errors.is_empty(), "console errors: {:?}", check.console_errors);
            let png = std::fs::read(&check.screenshot).expect("the screenshot is written");
            assert!(png.len() > 10_000, "the screenshot is suspiciously small");
            eprintln!("report and screenshot kept in {}", dir.display());
        }
        Err(browser::BrowserError::NotInstalled(why)) if std::env::var("CI_REQUIRE_BROWSER").as_deref() != Ok("1") => {
            eprintln!("skipping the browser check: {why}");
        }
        Err(e) => panic!("browser check failed: {e}"),
    }
}

const HOSTILE: &str = "<script>alert(1)</script>";

#[test]
fn hostile_strings_are_escaped_everywhere_on_the_page() {
    use netanom_report::*;
    let mut s = fixture();
    s.inputs = vec![HOSTILE.into()];
    s.reproduce.command_line = format!("netanom analyze '{HOSTILE}'");
    s.skipped = vec![Count { name: HOSTILE.into(), count: 1 }];
    s.top_talkers[0].host = HOSTILE.into();
    s.top_offenders[0].host = HOSTILE.into();
    s.top_offenders[0].rules[0].name = HOSTILE.into();
    s.rules[0].rule = HOSTILE.into();
    s.rules[0].description = HOSTILE.into();
    s.conversations[0].src = HOSTILE.into();
    s.conversations[0].rules = vec![HOSTILE.into()];
    s.timings_s[0].stage = HOSTILE.into();
    if let Stage::Done(k) = &mut s.knn {
        k.report_text = HOSTILE.into();
        k.classes = vec![HOSTILE.into(), "1".into()];
    }
    if let Stage::Done(k) = &mut s.kmeans {
        k.names[0] = HOSTILE.into();
    }
    if let Stage::Done(b) = &mut s.baseline {
        b.top_series[0].key = HOSTILE.into();
        b.top_series[0].measure = HOSTILE.into();
    }
    let (_keep, dir) = out_dir("hostile");
    let files = write_report(&dir, &s).expect("the report is written");
    let html = std::fs::read_to_string(&files.html).expect("report.html written");
    assert!(!html.contains("alert(1)</script>"), "a hostile string came out raw");
    assert_eq!(html.matches("<script").count(), 1, "only the page's own self-check script");
    assert!(html.matches("&lt;script&gt;alert(1)").count() >= 10, "the hostile strings are shown, escaped");
    for c in &files.charts {
        let svg = std::fs::read_to_string(&c.svg).expect("svg written");
        assert!(!svg.contains("<script"), "{} has a raw <script>", c.name);
    }
}

#[test]
fn a_summary_without_results_writes_a_page_that_says_why() {
    let (_keep, dir) = out_dir("empty");
    // Charts of an earlier report in the same folder go away.
    write_report(&dir, &fixture()).expect("the first report is written");
    let files = write_report(&dir, &Summary::default()).expect("the report is written");
    assert!(files.charts.is_empty());
    let left = std::fs::read_dir(dir.join("charts")).expect("charts/ exists").count();
    assert_eq!(left, 0, "stale charts are left in charts/");
    let html = std::fs::read_to_string(&files.html).expect("report.html written");
    assert!(!html.contains("<figure"));
    // Each missing chart's reason is on the page (as a chart note or as its stage's note).
    let page = html.to_lowercase();
    for o in &files.omitted {
        assert!(page.contains(&o.reason.to_lowercase()), "{} is not explained: {}", o.name, o.reason);
    }
    assert!(html.contains("KNN did not run: not run."));
    assert!(html.contains("No host offends"));
    match browser::check(&files.html, &dir.join("screenshot.png")) {
        Ok(check) => {
            assert_eq!(check.charts, 0);
            assert!(check.console_errors.is_empty(), "console errors: {:?}", check.console_errors);
        }
        Err(browser::BrowserError::NotInstalled(why)) if std::env::var("CI_REQUIRE_BROWSER").as_deref() != Ok("1") => {
            eprintln!("skipping the browser check: {why}");
        }
        Err(e) => panic!("browser check failed: {e}"),
    }
}

#[test]
fn the_browser_check_catches_script_errors_and_empty_charts() {
    let (_keep, dir) = out_dir("broken");
    let html = dir.join("broken.html");
    let page = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\
                <figure class=\"chart\" data-chart=\"empty\"><svg width=\"10\" height=\"10\"></svg></figure>\
                <script>console.error('deliberate console error'); undefinedFunction();</script>\
                <script>document.body.setAttribute('data-checked', '1');\
                document.body.setAttribute('data-charts-bad', 'empty');</script></body></html>";
    std::fs::write(&html, page).expect("the page is written");
    match browser::check(&html, &dir.join("broken.png")) {
        Ok(check) => {
            assert_eq!(check.charts, 1);
            assert_eq!(check.empty, ["empty"]);
            let errors = check.console_errors.join("\n");
            assert!(errors.contains("deliberate console error"), "console.error not caught: {errors}");
            assert!(errors.contains("undefinedFunction"), "the uncaught error not caught: {errors}");
        }
        Err(browser::BrowserError::NotInstalled(why)) if std::env::var("CI_REQUIRE_BROWSER").as_deref() != Ok("1") => {
            eprintln!("skipping the browser check: {why}");
        }
        Err(e) => panic!("browser check failed: {e}"),
    }
}
