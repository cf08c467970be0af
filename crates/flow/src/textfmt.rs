//! Allocation-free number formatting for the text writers.
//!
//! A flow row holds dozens of numbers, and `format!`/`write!` through `core::fmt` (with exact
//! float-to-decimal conversion) took a third of a whole `netanom flows` run; these append straight
//! to a `String`.

/// Appends `v` in decimal.
#[inline]
pub fn push_u64(s: &mut String, v: u64) {
    // Most counters in a row are single digits (0 above all): one byte, no copy call.
    if v < 10 {
        s.push((b'0' + v as u8) as char);
    } else {
        s.push_str(itoa::Buffer::new().format(v));
    }
}

#[inline]
pub fn push_i64(s: &mut String, v: i64) {
    s.push_str(itoa::Buffer::new().format(v));
}

/// Appends `0x` and `v` in lower-case hex, zero-padded to `digits` (more if it does not fit).
#[inline]
pub fn push_hex(s: &mut String, v: u64, digits: u8) {
    let mut buf = [0u8; 18];
    let n = hex_digits(&mut buf, v, digits);
    push_ascii(s, &buf[..n]);
}

/// Puts `0x` and `v` in lower-case hex, zero-padded to `digits` (more if it does not fit), at the
/// start of `buf`; returns the length used.
#[inline]
pub fn hex_digits(buf: &mut [u8; 18], v: u64, digits: u8) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let needed = (64 - v.leading_zeros() as usize).div_ceil(4);
    let n = needed.max(digits as usize).clamp(1, 16);
    buf[0] = b'0';
    buf[1] = b'x';
    for (j, i) in (0..n).rev().enumerate() {
        buf[2 + j] = HEX[((v >> (4 * i)) & 0xf) as usize];
    }
    2 + n
}

/// Appends `ns` nanoseconds as `seconds.nanoseconds` (9 decimals), Tranalyzer2's time format.
#[inline]
pub fn push_secs_ns(s: &mut String, ns: u64) {
    push_u64(s, ns / 1_000_000_000);
    let frac = ns % 1_000_000_000;
    let mut buf = [b'0'; 10];
    buf[0] = b'.';
    let mut f = frac;
    for i in (1..10).rev() {
        buf[i] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    push_ascii(s, &buf);
}

/// Exact powers of ten representable in an f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// `a × 10^k` with one rounding when `10^|k|` is exact, `None` otherwise.
#[inline]
fn scale(a: f64, k: i32) -> Option<f64> {
    let p = *POW10.get(k.unsigned_abs() as usize)?;
    Some(if k >= 0 { a * p } else { a / p })
}

/// `floor(log10(a))` for a positive finite `a`, by comparison with exact powers of ten where they
/// exist (a `log10` call costs more than the rest of the formatting); off by at most one, which
/// the caller corrects.
#[inline]
fn decimal_exponent(a: f64) -> i32 {
    if (1.0..1e22).contains(&a) {
        POW10.partition_point(|&p| p <= a) as i32 - 1
    } else if (1e-22..1.0).contains(&a) {
        -(POW10.partition_point(|&p| p * a < 1.0) as i32)
    } else {
        a.log10().floor() as i32
    }
}

/// Appends `v` like C's `printf("%.{prec}g")` (Tranalyzer2's `F` columns use 7 digits).
///
/// The significant digits come from one scaling by an exact power of ten and a rounding, so they
/// can differ from the exactly rounded decimal only when `v` lies within an ulp of a rounding
/// tie; values outside the table's range take the exact (slow) path.
pub fn push_g(s: &mut String, v: f64, prec: usize) {
    let prec = prec.clamp(1, 17);
    if v == 0.0 {
        s.push('0');
        return;
    }
    if !v.is_finite() {
        s.push_str(if v.is_nan() {
            "nan"
        } else if v > 0.0 {
            "inf"
        } else {
            "-inf"
        });
        return;
    }
    let a = v.abs();
    if a < POW10[prec] && a.fract() == 0.0 {
        // An integer of at most `prec` digits prints as itself (asymmetries of ±1, counts).
        if v < 0.0 {
            s.push('-');
        }
        push_u64(s, a as u64);
        return;
    }
    let mut e = decimal_exponent(a);
    let lim = POW10[prec] as u64;
    let digits = |e: i32| scale(a, prec as i32 - 1 - e).map(|x| x.round() as u64);
    let mut m = match digits(e) {
        Some(m) => m,
        None => return push_g_exact(s, v, prec),
    };
    // log10 can be off by one near powers of ten, and rounding can carry into a new digit.
    if m >= lim {
        e += 1;
        m = match digits(e) {
            Some(m) => m,
            None => return push_g_exact(s, v, prec),
        };
    } else if m < lim / 10 {
        e -= 1;
        m = match digits(e) {
            Some(m) => m,
            None => return push_g_exact(s, v, prec),
        };
    }
    if m >= lim {
        // 9.9999995 → 10.00000: carried into one more digit
        e += 1;
        m /= 10;
    }
    if v < 0.0 {
        s.push('-');
    }
    let mut buf = itoa::Buffer::new();
    let ds = buf.format(m).as_bytes();
    // `ds` has exactly `prec` digits: d0 . d1 ... × 10^e
    if e < -4 || e >= prec as i32 {
        s.push(ds[0] as char);
        let rest = trim_trailing_zeros(&ds[1..]);
        if !rest.is_empty() {
            s.push('.');
            push_ascii(s, rest);
        }
        s.push('e');
        s.push(if e < 0 { '-' } else { '+' });
        let ea = e.unsigned_abs();
        if ea < 10 {
            s.push('0');
        }
        push_u64(s, ea as u64);
    } else if e >= 0 {
        let int_len = e as usize + 1;
        push_ascii(s, &ds[..int_len]);
        let frac = trim_trailing_zeros(&ds[int_len..]);
        if !frac.is_empty() {
            s.push('.');
            push_ascii(s, frac);
        }
    } else {
        s.push_str("0.");
        for _ in 0..(-e - 1) {
            s.push('0');
        }
        push_ascii(s, trim_trailing_zeros(ds));
    }
}

fn trim_trailing_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
    &d[..n]
}

/// Appends ASCII digits and signs produced here (anything else is dropped, never mangled).
#[inline]
fn push_ascii(s: &mut String, d: &[u8]) {
    s.push_str(ascii(d));
}

/// `b` as text if it is all ASCII (as the digits, hex and punctuation the writers build are),
/// else empty. `str::from_utf8` did the same with a call and a general UTF-8 check per value: 4%
/// of a `netanom flows` run.
#[inline]
pub fn ascii(b: &[u8]) -> &str {
    if b.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(b) }
    } else {
        ""
    }
}

/// The exact path, for magnitudes beyond the power table.
fn push_g_exact(s: &mut String, v: f64, prec: usize) {
    let sci = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_str_zeros(mant);
        s.push_str(mant);
        s.push('e');
        s.push(if exp < 0 { '-' } else { '+' });
        if exp.abs() < 10 {
            s.push('0');
        }
        push_u64(s, exp.unsigned_abs() as u64);
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let fixed = format!("{:.*}", decimals, v);
        s.push_str(trim_str_zeros(&fixed));
    }
}

fn trim_str_zeros(s: &str) -> &str {
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
        push_g(&mut s, v, p);
        s
    }

    #[test]
    fn ascii_text_and_hex() {
        assert_eq!(ascii(b"0x1f:ab"), "0x1f:ab");
        assert_eq!(ascii(&[b'1', 0xc3, 0xa9]), "");
        let mut s = String::new();
        push_hex(&mut s, 0xbeef, 8);
        push_hex(&mut s, 0x1_0000, 2);
        push_hex(&mut s, 0, 0);
        push_hex(&mut s, u64::MAX, 4);
        push_u64(&mut s, 7);
        push_u64(&mut s, 10);
        assert_eq!(s, "0x0000beef0x100000x00xffffffffffffffff710");
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
        assert_eq!(g(1.0, 7), "1");
        assert_eq!(g(-1.0, 7), "-1");
        assert_eq!(g(9.9999996, 7), "10");
        assert_eq!(g(999999.96, 7), "1000000");
        assert_eq!(g(9999999.6, 7), "1e+07");
        assert_eq!(g(1e-300, 7), "1e-300");
        assert_eq!(g(1.5e300, 7), "1.5e+300");
        assert_eq!(g(f64::NAN, 7), "nan");
        assert_eq!(g(0.000123456789, 7), "0.0001234568");
        assert_eq!(g(123456.75, 15), "123456.75");
        assert_eq!(g(-1.0, 7), "-1");
        assert_eq!(g(1234567.0, 7), "1234567");
        assert_eq!(g(12345678.0, 8), "12345678");
        assert_eq!(g(10000000.0, 7), "1e+07");
        assert_eq!(g(-0.0, 7), "0");
    }

    #[test]
    fn g_agrees_with_the_exact_path() {
        // a deterministic spread of magnitudes and mantissas
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mant = (x >> 11) as f64 / (1u64 << 53) as f64;
            let exp = ((x & 0x3f) as i32) - 20;
            let v = mant * 10f64.powi(exp);
            let (mut a, mut b) = (String::new(), String::new());
            push_g(&mut a, v, 7);
            push_g_exact(&mut b, v, 7);
            let (fa, fb): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!((fa - fb).abs() <= fb.abs() * 2e-7, "{v:e}: {a} vs {b}");
        }
    }

    #[test]
    fn hex_and_times() {
        let mut s = String::new();
        push_hex(&mut s, 0x4000, 16);
        s.push(' ');
        push_hex(&mut s, 0x1ff, 2);
        s.push(' ');
        push_secs_ns(&mut s, 1_470_104_381_895_304_000);
        s.push(' ');
        push_secs_ns(&mut s, 5);
        assert_eq!(s, "0x0000000000004000 0x1ff 1470104381.895304000 0.000000005");
    }
}
