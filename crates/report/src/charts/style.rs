//! Shared looks: sizes, colours, fonts, number formats.

use plotters::prelude::*;
use plotters::style::TextStyle;

use crate::font::FAMILY;

pub const SIZE: (u32, u32) = (960, 520);

/// Normal and anomalous flows, the same in every chart (a blue and a red that stay apart for
/// the common colour-vision deficiencies).
pub const NORMAL: RGBColor = RGBColor(0x4c, 0x78, 0xa8);
pub const ANOMALOUS: RGBColor = RGBColor(0xe4, 0x57, 0x56);
pub const GRID: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// Categorical colours for clusters (Tableau 10 order).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4c, 0x78, 0xa8),
    RGBColor(0xf5, 0x85, 0x18),
    RGBColor(0x54, 0xa2, 0x4b),
    RGBColor(0xe4, 0x57, 0x56),
    RGBColor(0x72, 0xb7, 0xb2),
    RGBColor(0xee, 0xca, 0x3b),
    RGBColor(0xb2, 0x79, 0xa2),
    RGBColor(0xff, 0x9d, 0xa6),
    RGBColor(0x9d, 0x75, 0x5d),
    RGBColor(0xba, 0xb0, 0xac),
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub fn title() -> TextStyle<'static> {
    (FAMILY, 26).into_font().color(&INK)
}

pub fn label() -> TextStyle<'static> {
    (FAMILY, 19).into_font().color(&INK)
}

pub fn small() -> TextStyle<'static> {
    (FAMILY, 17).into_font().color(&INK)
}

/// Cuts a label to `max` characters (with an ellipsis), so one long IPv6 address or rule name
/// cannot squeeze the plot away.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Room for the longest of `labels` at the label font (DejaVu Sans at 19 px averages under 11 px
/// a character), within sensible bounds.
pub fn label_area(labels: &[String]) -> u32 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    (longest * 11 + 16).clamp(60, 380)
}

/// 1234567 → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let (head, tail) = digits.split_at(digits.len() % 3);
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    out.push_str(head);
    // The digits are ASCII, so every 3-byte chunk is whole characters.
    for group in tail.as_bytes().chunks(3) {
        if !out.is_empty() {
            out.push(',');
        }
        out.extend(group.iter().map(|&b| b as char));
    }
    out
}

/// 1234567 → `1.235 M`; below a million whole numbers get thousands separators (`12,345`).
pub fn si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e12 {
        format!("{:.3} T", v / 1e12)
    } else if a >= 1e9 {
        format!("{:.3} G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.3} M", v / 1e6)
    } else if v.fract() == 0.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        format!("{sign}{}", thousands(a as u64))
    } else {
        format!("{v:.2}")
    }
}

/// Bytes in B, kB, MB, GB (decimal units, as link speeds are).
pub fn bytes(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.2} GB", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.2} MB", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1} kB", v / 1e3)
    } else {
        format!("{v:.0} B")
    }
}

/// An axis range that shows `lo..hi` with a margin and never collapses to a point.
pub fn pad(lo: f64, hi: f64, share: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(1.0) {
        let m = hi.abs().max(1.0) * 0.5;
        (lo - m, hi + m)
    } else {
        (lo - span * share, hi + span * share)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_keeps_short_and_cuts_long_labels() {
        assert_eq!(clip("10.0.0.1", 10), "10.0.0.1");
        assert_eq!(clip("2001:db8::1:2:3:4", 8), "2001:db…");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(si(12.0), "12");
        assert_eq!(si(12_345.0), "12,345");
        assert_eq!(si(-2.0), "-2");
        assert_eq!(si(2_500_000.0), "2.500 M");
        assert_eq!(bytes(1_500_000.0), "1.50 MB");
        assert_eq!(pad(3.0, 3.0, 0.1), (1.5, 4.5));
        assert_eq!(pad(f64::NAN, 1.0, 0.1), (-0.1, 1.1));
    }
}
