//! Column definitions and the value sink every output format implements.
//!
//! A feature module describes its columns once ([`Column`]: Tranalyzer2 name, type code, description)
//! and writes one row's values through [`ValueSink`]; the sink decides the representation (T2 text,
//! CSV, typed JSON, Arrow). Adding a feature therefore means adding columns and a writer, nothing in
//! the output formats.

use std::fmt;

/// How a column's values are typed, which decides their formatting in text and their Arrow type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One character (`C`), e.g. `%dir`.
    Char,
    /// Unsigned integer (`U8`…`U64`).
    UInt,
    /// Signed integer (`I8`…`I64`).
    Int,
    /// Hexadecimal bit field with this many hex digits (`H8` = 2 … `H64` = 16).
    Hex(u8),
    /// Single-precision-style float printed with 7 significant digits (`F`).
    Float,
    /// Double printed with more digits (`D`).
    Double,
    /// Seconds.nanoseconds timestamp (`U64.U32`) since the Unix epoch.
    Timestamp,
    /// Seconds.nanoseconds duration (`U64.U32`).
    Duration,
    /// Quoted string (`S`).
    Str,
    /// Short unquoted string (`SC`).
    ShortStr,
    /// IP address (`IPX`).
    Ip,
    /// MAC address.
    Mac,
    /// Repeated and/or compound value (`…:R`, `A_B`): text in every format.
    Text,
}

/// One output column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    /// Tranalyzer2's type code as printed in `_headers.txt` (e.g. `H64`, `MAC_MAC_U64:R`).
    pub t2_type: &'static str,
    pub kind: Kind,
    pub description: &'static str,
}

impl Column {
    pub const fn new(name: &'static str, t2_type: &'static str, kind: Kind, description: &'static str) -> Self {
        Column { name, t2_type, kind, description }
    }
}

/// Receives one row's values in column order. Text formats write them; typed formats append them
/// to column builders. `empty()` means "not applicable" (Tranalyzer2 prints an empty field).
pub trait ValueSink {
    fn char(&mut self, c: char);
    fn uint(&mut self, v: u64);
    fn int(&mut self, v: i64);
    fn hex(&mut self, v: u64, digits: u8);
    fn float(&mut self, v: f64);
    fn double(&mut self, v: f64);
    fn timestamp(&mut self, ns: u64);
    fn duration(&mut self, ns: u64);
    fn str(&mut self, s: &str);
    fn short_str(&mut self, s: &str);
    fn ip(&mut self, addr: &IpText);
    fn mac(&mut self, mac: &[u8; 6]);
    /// A repeated or compound value, formatted by `f` in Tranalyzer2's text form.
    fn text(&mut self, f: &dyn Fn(&mut dyn fmt::Write) -> fmt::Result);
    fn empty(&mut self);
}

/// An IP address as the flow table holds it, displayed the way Tranalyzer2 prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpText {
    V4([u8; 4]),
    V6([u8; 16]),
    /// No IP layer (`-`).
    None,
}

impl fmt::Display for IpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpText::V4(a) => write!(f, "{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            IpText::V6(a) => std::net::Ipv6Addr::from(*a).fmt(f),
            IpText::None => f.write_str("-"),
        }
    }
}

/// Writes a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn write_mac(w: &mut dyn fmt::Write, m: &[u8; 6]) -> fmt::Result {
    write!(w, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
}

/// Formats like C's `printf("%.{prec}g")`, which is what Tranalyzer2 uses for `F` (7 digits) and
/// `D` columns; pandas reads either form.
pub fn write_g(w: &mut dyn fmt::Write, v: f64, prec: usize) -> fmt::Result {
    if v == 0.0 {
        return w.write_str("0");
    }
    if !v.is_finite() {
        return w.write_str(if v.is_nan() { "nan" } else if v > 0.0 { "inf" } else { "-inf" });
    }
    let prec = prec.max(1);
    // Exponent after rounding to `prec` significant digits decides fixed vs scientific.
    let sci = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_zeros(mant);
        write!(w, "{}e{}{:02}", mant, if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let fixed = format!("{:.*}", decimals, v);
        w.write_str(trim_zeros(&fixed))
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64, p: usize) -> String {
        let mut s = String::new();
        write_g(&mut s, v, p).unwrap();
        s
    }

    #[test]
    fn g_format_matches_printf() {
        assert_eq!(g(12.333333333, 7), "12.33333");
        assert_eq!(g(0.0283490123, 7), "0.02834901");
        assert_eq!(g(4.2156e-05, 7), "4.2156e-05");
        assert_eq!(g(-0.75415282, 7), "-0.7541528");
        assert_eq!(g(0.2, 7), "0.2");
        assert_eq!(g(1755.0512, 7), "1755.051");
        assert_eq!(g(64112.7712, 7), "64112.77");
        assert_eq!(g(12345678.0, 7), "1.234568e+07");
        assert_eq!(g(100.0, 7), "100");
        assert_eq!(g(0.0001, 7), "0.0001");
    }

    #[test]
    fn ipv6_compressed() {
        let a: std::net::Ipv6Addr = "2001:470:1f0b:16b0::a26:53".parse().unwrap();
        assert_eq!(IpText::V6(a.octets()).to_string(), "2001:470:1f0b:16b0::a26:53");
    }
}
