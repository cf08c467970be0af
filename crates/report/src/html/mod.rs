//! report.html: one self-contained page (inline CSS, inline SVG charts, a small inline
//! self-check script; nothing fetched). Every string from the summary is escaped: host names,
//! rule names and inputs come from outside.

mod sections;

use std::fmt::Write;

pub(crate) use crate::charts::thousands;
use crate::charts::Charts;
use crate::data::Summary;

const CSS: &str = include_str!("page.css");
const SELF_CHECK: &str = include_str!("selfcheck.js");

pub(crate) fn page(s: &Summary, charts: &Charts) -> String {
    let mut p = Page {
        out: String::with_capacity(64 * 1024 + charts.drawn.iter().map(|c| c.svg.len()).sum::<usize>()),
        charts,
    };
    let title = if s.inputs.is_empty() {
        "netanom report".to_string()
    } else {
        format!("netanom report: {}", s.inputs.join(", "))
    };
    p.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    p.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    p.raw("<title>");
    p.text(&title);
    p.raw("</title>\n<style>\n");
    p.raw(CSS);
    p.raw("</style>\n</head>\n<body data-charts-ok=\"\" data-charts-bad=\"\" data-errors=\"\">\n<script>\n");
    p.raw(SELF_CHECK);
    p.raw("</script>\n<main>\n");
    sections::all(&mut p, s);
    p.raw("</main>\n</body>\n</html>\n");
    p.out
}

/// The page being written: escaped text by default, markup only through `raw`.
pub(crate) struct Page<'a> {
    out: String,
    charts: &'a Charts,
}

impl Page<'_> {
    pub fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    pub fn text(&mut self, text: &str) {
        escape_into(&mut self.out, text);
    }

    /// `<tag>escaped text</tag>`.
    pub fn el(&mut self, tag: &str, text: &str) {
        let _ = write!(self.out, "<{tag}>");
        self.text(text);
        let name = tag.split_whitespace().next().unwrap_or(tag);
        let _ = write!(self.out, "</{name}>");
    }

    /// A chart's figure with its inline SVG and caption, or a note saying why it is missing.
    pub fn figure(&mut self, name: &str) {
        if let Some(c) = self.charts.get(name) {
            let _ = writeln!(self.out, "<figure class=\"chart\" data-chart=\"{}\">", escape(name));
            // Inline SVG lives in the HTML namespace's <svg> element; the XML namespace URL is
            // dropped so the page holds no address at all.
            self.out.push_str(&c.svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1));
            self.raw("\n<figcaption>");
            self.text(&c.caption);
            let _ = write!(
                self.out,
                " <a href=\"charts/{0}.png\">PNG</a> · <a href=\"charts/{0}.svg\">SVG</a></figcaption>\n</figure>\n",
                escape(name)
            );
        } else if let Some(o) = self.charts.omitted(name) {
            let _ = write!(self.out, "<p class=\"skipped\" data-chart-skipped=\"{}\">No chart: ", escape(name));
            self.text(&o.reason);
            self.raw(".</p>\n");
        }
    }

    /// A table: header cells (a leading `#` marks a numeric column) and rows of escaped cells.
    pub fn table(&mut self, class: &str, head: &[&str], rows: &[Vec<String>]) {
        let numeric: Vec<bool> = head.iter().map(|h| h.starts_with('#')).collect();
        let _ = write!(self.out, "<div class=\"wide\"><table class=\"{class}\">\n<tr>");
        for h in head {
            let (cls, h) = if let Some(h) = h.strip_prefix('#') { (" class=\"n\"", h) } else { ("", *h) };
            let _ = write!(self.out, "<th{cls}>");
            self.text(h);
            self.raw("</th>");
        }
        self.raw("</tr>\n");
        for row in rows {
            self.raw("<tr>");
            for (i, cell) in row.iter().enumerate() {
                self.raw(if numeric.get(i).copied().unwrap_or(false) { "<td class=\"n\">" } else { "<td>" });
                self.text(cell);
                self.raw("</td>");
            }
            self.raw("</tr>\n");
        }
        self.raw("</table></div>\n");
    }
}

pub(crate) fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    escape_into(&mut s, text);
    s
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no business in a page; show that something was there.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// A share (0..1) as a percentage that never rounds a non-zero share to zero.
pub(crate) fn percent(share: f64) -> String {
    if !share.is_finite() {
        "–".into()
    } else if share > 0.0 && share < 0.001 {
        "< 0.1 %".into()
    } else if share < 1.0 && share > 0.999 {
        "> 99.9 %".into()
    } else {
        format!("{:.1} %", share * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_attributes() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("a\u{0}b"), "a\u{fffd}b");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(percent(0.0), "0.0 %");
        assert_eq!(percent(0.0004), "< 0.1 %");
        assert_eq!(percent(0.9996), "> 99.9 %");
        assert_eq!(percent(0.387), "38.7 %");
    }
}
