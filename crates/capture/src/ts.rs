//! Timestamp conversion to nanoseconds since the epoch.
//!
//! Everything is computed in 128 bits and clamped at the end, so no file can make a conversion
//! overflow or panic; times before the epoch become 0 and times past year 2554 become `u64::MAX`.

const NS_PER_S: u128 = 1_000_000_000;

/// Classic pcap: seconds plus a µs or ns fraction (the fraction is not checked to be below one
/// second, as libpcap does not check it either).
pub(crate) fn pcap_ns(sec: u32, frac: u32, nanos: bool) -> u64 {
    let frac_ns = if nanos { frac as u64 } else { frac as u64 * 1000 };
    (sec as u64 * 1_000_000_000).saturating_add(frac_ns)
}

/// How a pcapng interface's timestamp units convert to nanoseconds (`if_tsresol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsScale {
    /// Resolution of 10^-k s with k <= 9: multiply by 10^(9-k).
    Mul(u128),
    /// Resolution finer than 1 ns (10^-k, k > 9): divide by 10^(k-9).
    Div(u128),
    /// Resolution of 2^-k s: multiply by 10^9, shift right by k.
    Shift(u32),
    /// Resolution so fine that every representable value is below 1 ns.
    Zero,
}

impl TsScale {
    pub(crate) const MICROS: TsScale = TsScale::Mul(1000);

    /// From the `if_tsresol` option byte: top bit clear means 10^-v, set means 2^-(v & 0x7f).
    pub(crate) fn from_tsresol(v: u8) -> TsScale {
        let k = (v & 0x7f) as u32;
        if v & 0x80 != 0 {
            TsScale::Shift(k)
        } else if k <= 9 {
            TsScale::Mul(10u128.pow(9 - k))
        } else if k - 9 <= 38 {
            TsScale::Div(10u128.pow(k - 9))
        } else {
            TsScale::Zero
        }
    }

    /// Nanoseconds since the epoch for `units` ticks plus the interface's `if_tsoffset` seconds.
    pub(crate) fn to_ns(self, units: u64, offset_s: i64) -> u64 {
        let units = units as u128;
        let ns = match self {
            TsScale::Mul(m) => units * m,
            TsScale::Div(d) => units / d,
            // units < 2^64 and 10^9 < 2^30, so the product fits easily; k <= 127 keeps the shift legal
            TsScale::Shift(k) => (units * NS_PER_S) >> k,
            TsScale::Zero => 0,
        };
        // ns < 2^64 * 10^9 < 2^94 and |offset| * 10^9 < 2^94: no i128 overflow
        let total = ns as i128 + offset_s as i128 * NS_PER_S as i128;
        total.clamp(0, u64::MAX as i128) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_fractions() {
        assert_eq!(pcap_ns(1, 2, false), 1_000_002_000);
        assert_eq!(pcap_ns(1, 2, true), 1_000_000_002);
        assert_eq!(pcap_ns(u32::MAX, u32::MAX, false), u32::MAX as u64 * 1_000_000_000 + u32::MAX as u64 * 1000);
    }

    #[test]
    fn pcapng_resolutions() {
        assert_eq!(TsScale::from_tsresol(6).to_ns(1_500_000, 0), 1_500_000_000);
        assert_eq!(TsScale::from_tsresol(9).to_ns(7, 0), 7);
        assert_eq!(TsScale::from_tsresol(0).to_ns(3, 0), 3_000_000_000);
        assert_eq!(TsScale::from_tsresol(12).to_ns(5_000, 0), 5);
        // 2^-10 s ticks: 1024 ticks = 1 s, 512 = 0.5 s
        assert_eq!(TsScale::from_tsresol(0x80 | 10).to_ns(1024 + 512, 0), 1_500_000_000);
        assert_eq!(TsScale::from_tsresol(0x80 | 127).to_ns(u64::MAX, 0), 0);
        assert_eq!(TsScale::from_tsresol(127).to_ns(u64::MAX, 0), 0);
        assert_eq!(TsScale::from_tsresol(0x80).to_ns(u64::MAX, 0), u64::MAX);
        assert_eq!(TsScale::from_tsresol(0).to_ns(u64::MAX, i64::MAX), u64::MAX);
        // offsets move the time; before the epoch clamps to 0
        assert_eq!(TsScale::MICROS.to_ns(1_000_000, 10), 11_000_000_000);
        assert_eq!(TsScale::MICROS.to_ns(1_000_000, -10), 0);
        assert_eq!(TsScale::MICROS.to_ns(0, i64::MIN), 0);
    }
}
