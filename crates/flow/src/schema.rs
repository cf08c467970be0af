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

impl IpText {
    /// Appends the address as [`Display`](fmt::Display) would, without the formatting machinery
    /// for the common IPv4 case (writers call this for two addresses of every row).
    pub fn push_to(&self, s: &mut String) {
        match self {
            IpText::V4(a) => {
                let mut buf = itoa::Buffer::new();
                for (i, b) in a.iter().enumerate() {
                    if i > 0 {
                        s.push('.');
                    }
                    s.push_str(buf.format(*b));
                }
            }
            other => {
                use fmt::Write as _;
                let _ = write!(s, "{other}");
            }
        }
    }
}

impl fmt::Display for IpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpText::V4(a) => {
                let mut buf = itoa::Buffer::new();
                for (i, b) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(buf.format(*b))?;
                }
                Ok(())
            }
            IpText::V6(a) => std::net::Ipv6Addr::from(*a).fmt(f),
            IpText::None => f.write_str("-"),
        }
    }
}

/// Writes a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn write_mac(w: &mut dyn fmt::Write, m: &[u8; 6]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut b = [b':'; 17];
    for (i, byte) in m.iter().enumerate() {
        b[3 * i] = HEX[(byte >> 4) as usize];
        b[3 * i + 1] = HEX[(byte & 0xf) as usize];
    }
    // hex digits and colons are ASCII
    w.write_str(crate::textfmt::ascii(&b))
}

/// Writes `0x` and `v` in lower-case hex, zero-padded to `digits` (as `{v:#0w$x}` would, without
/// the formatting machinery: compound hex columns are written for every row).
pub fn write_hex(w: &mut dyn fmt::Write, v: u64, digits: u8) -> fmt::Result {
    let mut s = [0u8; 18];
    let n = crate::textfmt::hex_digits(&mut s, v, digits);
    // hex digits and `0x` are ASCII
    w.write_str(crate::textfmt::ascii(&s[..n]))
}

/// Formats like C's `printf("%.{prec}g")`, which is what Tranalyzer2 uses for `F` (7 digits) and
/// `D` columns; pandas reads either form. Writers that own a `String` should call
/// [`textfmt::push_g`](crate::textfmt::push_g) directly and skip the copy.
pub fn write_g(w: &mut dyn fmt::Write, v: f64, prec: usize) -> fmt::Result {
    let mut s = String::with_capacity(24);
    crate::textfmt::push_g(&mut s, v, prec);
    w.write_str(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_compressed() {
        let a: std::net::Ipv6Addr = "2001:470:1f0b:16b0::a26:53".parse().unwrap();
        assert_eq!(IpText::V6(a.octets()).to_string(), "2001:470:1f0b:16b0::a26:53");
    }
}
