//! Unix seconds as UTC calendar text, without a date-time dependency.

/// `(year, month, day)` of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn split(unix_s: f64) -> (i64, u32, u32, u32, u32, f64) {
    let s = if unix_s.is_finite() { unix_s } else { 0.0 };
    let whole = s.floor() as i64;
    let (days, secs) = (whole.div_euclid(86_400), whole.rem_euclid(86_400));
    let (y, mo, d) = civil(days);
    (y, mo, d, (secs / 3600) as u32, (secs % 3600 / 60) as u32, (secs % 60) as f64 + (s - s.floor()))
}

/// `2024-05-01T12:34:56Z` (RFC 3339).
pub fn rfc3339(unix_s: f64) -> String {
    let (y, mo, d, h, mi, s) = split(unix_s);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{:02}Z", s.floor() as u32)
}

/// `2024-05-01 12:34:56 UTC`.
pub fn datetime(unix_s: f64) -> String {
    let (y, mo, d, h, mi, s) = split(unix_s);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{:02} UTC", s.floor() as u32)
}

/// `12:34:56.789` (UTC time of day).
pub fn clock(unix_s: f64) -> String {
    let (_, _, _, h, mi, s) = split(unix_s);
    format!("{h:02}:{mi:02}:{s:06.3}")
}

/// A tick label for a time axis spanning `span_s` seconds: time of day for a span within a day
/// (with tenths when it is under 10 s), the date and hour beyond.
pub fn tick(unix_s: f64, span_s: f64) -> String {
    let (_, mo, d, h, mi, s) = split(unix_s);
    if span_s < 10.0 {
        format!("{h:02}:{mi:02}:{s:04.1}")
    } else if span_s <= 86_400.0 {
        format!("{h:02}:{mi:02}:{:02}", s.floor() as u32)
    } else {
        format!("{mo:02}-{d:02} {h:02}:{mi:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(datetime(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(datetime(1_700_000_000.0), "2023-11-14 22:13:20 UTC");
        assert_eq!(datetime(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(rfc3339(1_795_989_546.7), "2026-11-29T21:59:06Z");
        assert_eq!(tick(1_700_000_000.5, 5.0), "22:13:20.5");
        assert_eq!(clock(1_700_000_000.25), "22:13:20.250");
        assert_eq!(tick(1_700_000_000.0, 600.0), "22:13:20");
        assert_eq!(tick(1_700_000_000.0, 200_000.0), "11-14 22:13");
    }
}
