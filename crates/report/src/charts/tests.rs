//! Charts from small hand-made summaries: empty and skipped stages, degenerate data, hostile
//! strings, and the speed of a large scatter.

use super::*;
use crate::data::*;

const HOSTILE: &str = "<script>alert(1)</script>";

fn names(c: &Charts) -> Vec<&str> {
    c.drawn.iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn an_empty_summary_draws_nothing_and_says_why() {
    let c = build(&Summary::default()).expect("no chart fails");
    assert!(c.drawn.is_empty(), "{:?}", names(&c));
    let omitted: Vec<&str> = c.omitted.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        omitted,
        [
            "error_rate_vs_k",
            "clusters_by_cluster",
            "clusters_by_label",
            "rules",
            "timeline",
            "top_talkers",
            "top_offenders",
            "baseline"
        ]
    );
    assert!(c.omitted.iter().all(|o| !o.reason.is_empty()));
    assert_eq!(c.omitted("error_rate_vs_k").map(|o| o.reason.as_str()), Some("KNN did not run: not run"));
}

#[test]
fn rules_that_never_fired_and_clean_hosts_get_no_bars() {
    let s = Summary {
        rules: vec![RuleCount { rule: "syn-flood".into(), flows: 0, ..Default::default() }],
        top_offenders: vec![HostSummary { host: "10.0.0.1".into(), flows: 5, ..Default::default() }],
        top_talkers: vec![HostSummary { host: "10.0.0.1".into(), bytes: 0, ..Default::default() }],
        timeline: Timeline { start_s: 0.0, bucket_s: 1.0, normal: vec![0, 0], anomalous: vec![0, 0] },
        ..Default::default()
    };
    let c = build(&s).expect("no chart fails");
    assert!(c.drawn.is_empty(), "{:?}", names(&c));
    assert_eq!(c.omitted("rules").map(|o| o.reason.as_str()), Some("no rule fired on any flow row"));
}

#[test]
fn single_values_and_odd_numbers_still_draw() {
    let s = Summary {
        flows: 1,
        rules: vec![RuleCount { rule: "one".into(), flows: 1, share: 1.0, ..Default::default() }],
        top_talkers: vec![HostSummary { host: "h".into(), bytes: 1, flows: 1, ..Default::default() }],
        top_offenders: vec![HostSummary { host: "h".into(), anomalous_flows: 1, ..Default::default() }],
        timeline: Timeline { start_s: 1e9, bucket_s: 0.001, normal: vec![], anomalous: vec![1] },
        knn: Stage::Done(KnnSummary { k: vec![3], error_rate: vec![0.0], best_k: 3, ..Default::default() }),
        kmeans: Stage::Done(KmeansSummary {
            k: 2,
            explained_variance: [f64::NAN, 0.0],
            points: vec![Point { x: 1.0, y: 1.0, cluster: 7, label: 1 }, Point { x: f32::NAN, ..Default::default() }],
            ..Default::default()
        }),
        baseline: Stage::Done(BaselineSummary {
            interval_s: 60.0,
            top_series: vec![SeriesHistory {
                key: "network".into(),
                measure: "bytes".into(),
                observed: vec![f64::INFINITY],
                forecast: vec![None],
                alerts: vec![0, 99],
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let c = build(&s).expect("degenerate data still draws");
    assert_eq!(
        names(&c),
        [
            "error_rate_vs_k",
            "clusters_by_cluster",
            "clusters_by_label",
            "rules",
            "timeline",
            "top_talkers",
            "top_offenders",
            "baseline_1"
        ]
    );
}

#[test]
fn skipped_stages_name_their_reason() {
    let s = Summary {
        knn: Stage::Skipped { reason: "only one class".into() },
        baseline: Stage::Done(BaselineSummary { interval_s: 60.0, ..Default::default() }),
        ..Default::default()
    };
    let c = build(&s).expect("no chart fails");
    assert_eq!(c.omitted("error_rate_vs_k").map(|o| o.reason.as_str()), Some("KNN did not run: only one class"));
    assert_eq!(c.omitted("baseline").map(|o| o.reason.as_str()), Some("no series alerted"));
}

#[test]
fn hostile_names_come_out_escaped_in_svg() {
    let h = HostSummary { host: HOSTILE.into(), bytes: 10, anomalous_flows: 2, ..Default::default() };
    let s = Summary {
        flows: 4,
        rules: vec![RuleCount { rule: HOSTILE.into(), flows: 2, ..Default::default() }],
        top_talkers: vec![h.clone()],
        top_offenders: vec![HostSummary { rules: vec![Count { name: HOSTILE.into(), count: 2 }], ..h }],
        ..Default::default()
    };
    let c = build(&s).expect("charts draw");
    assert_eq!(names(&c), ["rules", "top_talkers", "top_offenders"]);
    for chart in &c.drawn {
        assert!(!chart.svg.contains("<script"), "{} has a raw <script>", chart.name);
        assert!(chart.svg.contains("&lt;script&gt;"), "{} lost the name: {}", chart.name, chart.svg);
    }
}

#[test]
fn five_thousand_points_draw_within_a_second() {
    let points = (0..5000)
        .map(|i| {
            let t = i as f32 * 0.37;
            Point {
                x: t.sin() * (i % 97) as f32,
                y: t.cos() * (i % 89) as f32,
                cluster: i % 2,
                label: (i % 3 == 0) as u8,
            }
        })
        .collect();
    let s = Summary {
        kmeans: Stage::Done(KmeansSummary {
            k: 2,
            names: vec!["a".into(), "b".into()],
            sizes: vec![2500, 2500],
            points,
            ..Default::default()
        }),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let c = build(&s).expect("charts draw");
    let took = started.elapsed();
    eprintln!("two 5,000-point scatter charts, SVG + PNG: {took:?}");
    assert_eq!(names(&c), ["clusters_by_cluster", "clusters_by_label"]);
    // Debug builds are several times slower; the bound is for release builds.
    let limit = if cfg!(debug_assertions) { 10.0 } else { 1.0 };
    assert!(took.as_secs_f64() < limit, "two 5,000-point charts took {took:?}");
}

#[test]
fn every_bar_is_labelled_whatever_the_count() {
    for n in 1..=15u64 {
        let rules =
            (0..n).map(|i| RuleCount { rule: format!("rule-{i}"), flows: 100 - i * 3, ..Default::default() }).collect();
        let c = build(&Summary { flows: 200, rules, ..Default::default() }).expect("charts draw");
        let svg = &c.get("rules").expect("rules drawn").svg;
        for i in 0..n {
            assert!(svg.contains(&format!("\nrule-{i}\n")), "{n} bars: rule-{i} has no label");
        }
    }
}
