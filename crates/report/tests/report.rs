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

const ALL: [&str; 10] = [
    "error_rate_vs_k",
    "clusters_by_cluster",
    "clusters_by_label",
    "rules",
    "timeline",
    "top_talkers",
    "top_offenders",
    "baseline_1",
    "baseline_2",
    "baseline_3",
];

#[test]
fn fixture_report_has_every_chart_as_svg_png_and_inline() {
    let (_keep, dir) = out_dir("fixture");
    let files = write_report(&dir, &fixture()).expect("the report is written");
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

#[test]
fn fixture_report_opens_in_chromium() {
    let (_keep, dir) = out_dir("browser");
    let files = write_report(&dir, &fixture()).expect("the report is written");
    let shot = dir.join("screenshot.png");
    match browser::check(&files.html, &shot) {
        Ok(check) => {
            assert_eq!(check.charts, ALL.len(), "{check:?}");
            assert!(check.empty.is_empty(), "empty charts: {:?}", check.empty);
            assert!(check.console_errors.is_empty(), "console errors: {:?}", check.console_errors);
            let png = std::fs::read(&check.screenshot).expect("the screenshot is written");
            assert!(png.len() > 10_000, "the screenshot is suspiciously small");
        }
        Err(browser::BrowserError::NotInstalled(why)) if std::env::var("CI_REQUIRE_BROWSER").as_deref() != Ok("1") => {
            eprintln!("skipping the browser check: {why}");
        }
        Err(e) => panic!("browser check failed: {e}"),
    }
}
