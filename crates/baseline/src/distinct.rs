//! A bounded distinct count: exact for the first few values, then linear counting on a 1024-bit
//! bitmap (within a few percent up to a few thousand values), saturating beyond that.
//!
//! Most series see a handful of peers or ports per interval, so the inline array covers them
//! without allocating; scans and floods are what grow the bitmap.

const INLINE: usize = 6;
const BITS: usize = 1024;

#[derive(Debug, Clone, Default)]
pub struct Distinct {
    small: [u32; INLINE],
    len: u8,
    bitmap: Option<Box<[u64; BITS / 64]>>,
}

impl Distinct {
    #[inline]
    pub fn insert(&mut self, hash: u32) {
        if let Some(b) = self.bitmap.as_mut() {
            let bit = (hash as usize) % BITS;
            b[bit / 64] |= 1 << (bit % 64);
            return;
        }
        let len = self.len as usize;
        if self.small[..len].contains(&hash) {
            return;
        }
        if len < INLINE {
            self.small[len] = hash;
            self.len += 1;
            return;
        }
        let mut b = Box::new([0u64; BITS / 64]);
        for &h in self.small.iter().chain(std::iter::once(&hash)) {
            let bit = (h as usize) % BITS;
            b[bit / 64] |= 1 << (bit % 64);
        }
        self.bitmap = Some(b);
    }

    /// The estimate, and whether the bitmap is full (the estimate is then a lower bound).
    pub fn count(&self) -> (f64, bool) {
        let Some(b) = self.bitmap.as_ref() else { return (self.len as f64, false) };
        let ones: u32 = b.iter().map(|w| w.count_ones()).sum();
        let zeros = BITS as f64 - ones as f64;
        if zeros == 0.0 {
            // What a bitmap with one bit left would estimate.
            return (BITS as f64 * (BITS as f64).ln(), true);
        }
        (-(BITS as f64) * (zeros / BITS as f64).ln(), false)
    }
}

/// 32-bit mix of a 16-byte address (or a port): the bitmap index and the inline identity.
#[inline]
pub fn hash_addr(a: &[u8; 16]) -> u32 {
    let lo = u64::from_le_bytes([a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]]);
    let hi = u64::from_le_bytes([a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]]);
    mix(lo ^ hi.rotate_left(29))
}

#[inline]
pub fn hash_port(p: u16) -> u32 {
    mix(p as u64 | 1 << 40)
}

#[inline]
fn mix(mut x: u64) -> u32 {
    // splitmix64's finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_exact() {
        let mut d = Distinct::default();
        for p in [80u16, 443, 80, 22, 443] {
            d.insert(hash_port(p));
        }
        assert_eq!(d.count(), (3.0, false));
    }

    #[test]
    fn large_counts_are_close_and_saturate() {
        let mut d = Distinct::default();
        for p in 0..1000u16 {
            d.insert(hash_port(p));
        }
        let (n, full) = d.count();
        assert!((n - 1000.0).abs() < 80.0, "{n}");
        assert!(!full);
        for p in 0..60000u16 {
            d.insert(hash_port(p));
        }
        assert!(d.count().1);
    }
}
