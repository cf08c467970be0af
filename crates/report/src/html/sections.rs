//! The page's sections, in reading order: the headline, what fired and when, who, the models,
//! the baselines, the conversations, then the fine print.

use std::fmt::Write;

use super::{percent, thousands, Page};
use crate::charts::time;
use crate::data::{Stage, Summary};

pub(super) fn all(p: &mut Page, s: &Summary) {
    headline(p, s);
    p.raw(
        "<nav><a href=\"#activity\">Activity</a><a href=\"#hosts\">Hosts</a><a href=\"#knn\">KNN</a>\
           <a href=\"#kmeans\">KMeans</a><a href=\"#baseline\">Baselines</a>\
           <a href=\"#conversations\">Conversations</a><a href=\"#input\">Input</a>\
           <a href=\"#reproduce\">Reproduce</a></nav>\n",
    );
    activity(p, s);
    hosts(p, s);
    knn(p, s);
    kmeans(p, s);
    baseline(p, s);
    conversations(p, s);
    input(p, s);
    reproduce(p, s);
}

fn headline(p: &mut Page, s: &Summary) {
    p.raw("<header>\n<h1>Network anomaly report</h1>\n<p class=\"sub\">");
    p.text(&if s.inputs.is_empty() { "no input named".to_string() } else { s.inputs.join(", ") });
    if s.packets > 0 {
        p.text(&format!(
            " · {} to {} ({})",
            time::datetime(s.first_seen_s),
            time::datetime(s.last_seen_s),
            duration(s.last_seen_s - s.first_seen_s)
        ));
    }
    p.raw("</p>\n</header>\n<section class=\"headline\">\n<div class=\"tiles\">\n");
    // Without flow rows a share means nothing; a dash says so better than 0 % or 100 %.
    let share = |v: f64| if s.flows == 0 { "–".to_string() } else { percent(v) };
    let tiles = [
        ("normal", share(s.normal_share), "of flow rows normal"),
        ("bad", share(s.malicious_share), "of flow rows anomalous"),
        ("", thousands(s.packets), "packets"),
        ("", thousands(s.flows), "flow rows"),
        ("bad", thousands(s.anomalous_flows), "anomalous flow rows"),
    ];
    for (class, num, what) in tiles {
        let _ = write!(p.out, "<div class=\"tile {class}\"><span class=\"num\">");
        p.text(&num);
        p.raw("</span>");
        p.text(what);
        p.raw("</div>\n");
    }
    p.raw("</div>\n");
    let offenders: Vec<_> = s.top_offenders.iter().filter(|h| h.anomalous_flows > 0).take(5).collect();
    if offenders.is_empty() {
        p.raw("<p class=\"offenders\">No host offends: no rule fired on any flow row.</p>\n");
    } else {
        p.raw("<p class=\"offenders\">Offending hosts:</p>\n<ul class=\"offenders\">\n");
        for h in offenders {
            p.raw("<li>");
            p.el("strong", &h.host);
            p.text(&format!(": {} anomalous flow rows ", thousands(h.anomalous_flows)));
            rules(p, h.rules.iter().take(4).map(|r| format!("{} × {}", r.name, thousands(r.count))));
            p.raw("</li>\n");
        }
        p.raw("</ul>\n");
    }
    p.raw("</section>\n");
}

fn rules(p: &mut Page, names: impl Iterator<Item = String>) {
    for n in names {
        p.el("span class=\"rule\"", &n);
    }
}

fn activity(p: &mut Page, s: &Summary) {
    p.raw("<section id=\"activity\">\n<h2>What fired, and when</h2>\n");
    p.figure("timeline");
    p.figure("rules");
    let rows: Vec<Vec<String>> = s
        .rules
        .iter()
        .map(|r| vec![r.rule.clone(), r.description.clone(), thousands(r.flows), percent(r.share)])
        .collect();
    if !rows.is_empty() {
        p.el("h3", "Every enabled rule");
        p.table("rules", &["rule", "what it means", "#flow rows", "#share"], &rows);
    }
    p.raw("</section>\n");
}

fn hosts(p: &mut Page, s: &Summary) {
    p.raw("<section id=\"hosts\">\n<h2>Hosts</h2>\n");
    p.figure("top_offenders");
    p.figure("top_talkers");
    let host_rows = |hosts: &[crate::data::HostSummary]| -> Vec<Vec<String>> {
        hosts
            .iter()
            .map(|h| {
                let rules: Vec<String> = h.rules.iter().map(|r| format!("{} ({})", r.name, r.count)).collect();
                vec![
                    h.host.clone(),
                    thousands(h.flows),
                    thousands(h.anomalous_flows),
                    thousands(h.packets),
                    thousands(h.bytes),
                    thousands(h.peers),
                    rules.join(", "),
                ]
            })
            .collect()
    };
    let head = ["host", "#flow rows", "#anomalous", "#packets", "#bytes", "#peers", "rules fired"];
    if !s.top_offenders.is_empty() {
        p.el("h3", "Top offenders");
        p.table("hosts", &head, &host_rows(&s.top_offenders));
    }
    if !s.top_talkers.is_empty() {
        p.el("h3", "Top talkers");
        p.table("hosts", &head, &host_rows(&s.top_talkers));
    }
    p.raw("</section>\n");
}

fn skipped_stage(p: &mut Page, what: &str, reason: &str) {
    p.raw("<p class=\"skipped\">");
    p.text(&format!("{what} did not run: {reason}."));
    p.raw("</p>\n");
}

fn knn(p: &mut Page, s: &Summary) {
    p.raw("<section id=\"knn\">\n<h2>KNN trained on the rule labels</h2>\n");
    let k = match &s.knn {
        Stage::Skipped { reason } => {
            skipped_stage(p, "KNN", reason);
            return p.raw("</section>\n");
        }
        Stage::Done(k) => k,
    };
    p.raw("<p>");
    p.text(&format!(
        "{} of {} flow rows ({} features), split {} for training and {} for testing (test size {}, seed {}). \
         Best k = {}, test accuracy {}.",
        thousands(k.sampled),
        thousands(k.available),
        k.features,
        thousands(k.train_rows),
        thousands(k.test_rows),
        k.test_size,
        k.seed,
        k.best_k,
        percent(k.accuracy)
    ));
    p.raw("</p>\n");
    p.figure("error_rate_vs_k");
    p.el("h3", &format!("Classification report at k = {}", k.best_k));
    p.el("pre", &k.report_text);
    if !k.confusion.is_empty() {
        p.el("h3", "Confusion matrix (rows: rule label, columns: predicted)");
        let class = |i: usize| {
            let c = k.classes.get(i).map(String::as_str).unwrap_or("?");
            match c {
                "0" => "0 normal".to_string(),
                "1" => "1 anomalous".to_string(),
                c => c.to_string(),
            }
        };
        p.raw("<div class=\"wide\"><table class=\"confusion\">\n<tr><th></th>");
        for j in 0..k.confusion.len() {
            p.el("th class=\"n\"", &format!("predicted {}", class(j)));
        }
        p.raw("</tr>\n");
        for (i, row) in k.confusion.iter().enumerate() {
            p.raw("<tr>");
            p.el("th", &format!("true {}", class(i)));
            for (j, n) in row.iter().enumerate() {
                let cls = if i == j {
                    "n hit"
                } else if *n > 0 {
                    "n miss"
                } else {
                    "n"
                };
                p.el(&format!("td class=\"{cls}\""), &thousands(*n));
            }
            p.raw("</tr>\n");
        }
        p.raw("</table></div>\n");
    }
    p.raw("</section>\n");
}

fn kmeans(p: &mut Page, s: &Summary) {
    p.raw("<section id=\"kmeans\">\n<h2>KMeans clusters</h2>\n");
    let k = match &s.kmeans {
        Stage::Skipped { reason } => {
            skipped_stage(p, "KMeans", reason);
            return p.raw("</section>\n");
        }
        Stage::Done(k) => k,
    };
    p.raw("<p>");
    p.text(&format!(
        "k = {}, best of {} starts: inertia {}. Against the rule labels: purity {:.3}, adjusted Rand index {:.3}.",
        k.k,
        k.n_init,
        if k.inertia.is_finite() && k.inertia.abs() < 1e15 {
            format!("{:.1}", k.inertia)
        } else {
            format!("{:.4e}", k.inertia)
        },
        k.purity,
        k.adjusted_rand_index
    ));
    p.raw("</p>\n");
    let total: u64 = k.sizes.iter().sum();
    let rows: Vec<Vec<String>> = k
        .sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let name = k.names.get(i).cloned().unwrap_or_else(|| format!("cluster {i}"));
            let share = if total > 0 { n as f64 / total as f64 } else { 0.0 };
            vec![i.to_string(), name, thousands(n), percent(share)]
        })
        .collect();
    p.table("clusters", &["#cluster", "name", "#flow rows", "#share"], &rows);
    p.figure("clusters_by_cluster");
    p.figure("clusters_by_label");
    p.raw("</section>\n");
}

fn baseline(p: &mut Page, s: &Summary) {
    p.raw("<section id=\"baseline\">\n<h2>Traffic baselines</h2>\n");
    let b = match &s.baseline {
        Stage::Skipped { reason } => {
            skipped_stage(p, "The baseline stage", reason);
            return p.raw("</section>\n");
        }
        Stage::Done(b) => b,
    };
    p.raw("<p>");
    p.text(&format!(
        "{} series, {} s intervals: {} alerts (an interval alerts when |observed − forecast| / forecast exceeds {}; \
         the forecast counts as at least {}).",
        thousands(b.series),
        b.interval_s,
        thousands(b.alerts),
        b.threshold,
        b.min_forecast
    ));
    p.raw("</p>\n");
    p.figure("baseline");
    for i in 1..=b.top_series.len().min(3) {
        p.figure(&format!("baseline_{i}"));
    }
    if !b.top_series.is_empty() {
        let rows: Vec<Vec<String>> = b
            .top_series
            .iter()
            .map(|h| {
                let when: Vec<String> =
                    h.alerts.iter().take(6).map(|&a| time::datetime(h.start_s + f64::from(a) * b.interval_s)).collect();
                let more = if h.alerts.len() > 6 { format!(" and {} more", h.alerts.len() - 6) } else { String::new() };
                vec![
                    h.key.clone(),
                    h.measure.clone(),
                    h.alerts.len().to_string(),
                    format!("{:.1}", h.max_ratio),
                    when.join(", ") + &more,
                ]
            })
            .collect();
        p.el("h3", "Series with the most alerts");
        p.table("alerts", &["series", "measure", "#alerts", "#largest ratio", "alerting intervals (start)"], &rows);
    }
    p.raw("</section>\n");
}

fn conversations(p: &mut Page, s: &Summary) {
    p.raw("<section id=\"conversations\">\n<h2>The most anomalous conversations</h2>\n");
    if s.conversations.is_empty() {
        p.raw("<p class=\"note\">No anomalous conversation: no rule fired.</p>\n</section>\n");
        return;
    }
    // Within a day the header's date is enough; the time of day keeps the rows on one line.
    let one_day = s.last_seen_s - s.first_seen_s <= 86_400.0;
    let rows: Vec<Vec<String>> = s
        .conversations
        .iter()
        .map(|c| {
            vec![
                format!("{} {}", c.flow_ind, c.direction),
                format!("{}:{}", c.src, c.src_port),
                format!("{}:{}", c.dst, c.dst_port),
                c.proto.clone(),
                if one_day { time::clock(c.first_s) } else { time::datetime(c.first_s) },
                format!("{:.3}", c.duration_s),
                thousands(c.packets),
                thousands(c.bytes),
                c.rules.join(", "),
            ]
        })
        .collect();
    let head = [
        "flow",
        "source",
        "destination",
        "proto",
        if one_day { "first packet (UTC)" } else { "first packet" },
        "#seconds",
        "#packets",
        "#bytes",
        "rules fired",
    ];
    p.table("conversations", &head, &rows);
    p.raw("</section>\n");
}

fn input(p: &mut Page, s: &Summary) {
    p.raw("<section id=\"input\">\n<h2>Input and timings</h2>\n<p>");
    p.text(&format!("{} packets, {} bytes read.", thousands(s.packets), thousands(s.bytes)));
    p.raw("</p>\n");
    let skipped: Vec<Vec<String>> =
        s.skipped.iter().filter(|c| c.count > 0).map(|c| vec![c.name.clone(), thousands(c.count)]).collect();
    if skipped.is_empty() {
        p.raw("<p>No packet was skipped.</p>\n");
    } else {
        p.el("h3", "Packets not turned into flows");
        p.table("skipped-packets", &["reason", "#packets"], &skipped);
    }
    if !s.timings_s.is_empty() {
        let rows: Vec<Vec<String>> =
            s.timings_s.iter().map(|t| vec![t.stage.clone(), format!("{:.2}", t.seconds)]).collect();
        p.el("h3", "Time per stage");
        p.table("timings", &["stage", "#seconds"], &rows);
    }
    p.raw("</section>\n");
}

fn reproduce(p: &mut Page, s: &Summary) {
    let r = &s.reproduce;
    p.raw("<section id=\"reproduce\">\n<h2>How to reproduce</h2>\n");
    p.el("pre", if r.command_line.is_empty() { "(command line not recorded)" } else { &r.command_line });
    p.raw("<p class=\"note\">");
    p.text(&format!(
        "netanom {}, Tranalyzer2 {} columns; generated {}. The charts are also in charts/ as SVG and PNG; \
         summary.json beside this page holds every number shown.",
        or_unknown(&r.netanom_version),
        or_unknown(&r.tranalyzer2_version),
        or_unknown(&r.generated_at)
    ));
    p.raw("</p>\n</section>\n");
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() {
        "(unknown)"
    } else {
        s
    }
}

fn duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        "–".into()
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}
