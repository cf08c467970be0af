//! numpy's legacy `RandomState` (MT19937), bit for bit where netanom needs it.
//!
//! scikit-learn's `check_random_state(int)` builds `np.random.RandomState(seed)`; its
//! `train_test_split` draws `rng.permutation(n)`, and KMeans' k-means++ draws `choice(n, p=..)`
//! and `uniform(size=..)`. Reproducing these exactly makes `--seed 101` give the same split
//! (and the same k-means++ candidates) as the seed's scikit-learn notebook.

/// Mersenne Twister MT19937 with numpy's legacy seeding (`init_genrand(seed & 0xffffffff)`).
#[derive(Clone)]
pub struct RandomState {
    mt: [u32; 624],
    mti: usize,
}

impl RandomState {
    /// `np.random.RandomState(seed)` for a seed in 0..2^32.
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1812433253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        RandomState { mt, mti: 624 }
    }

    fn generate(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..624 {
            let y = (self.mt[i] & UPPER) | (self.mt[(i + 1) % 624] & LOWER);
            let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= MATRIX_A;
            }
            self.mt[i] = v;
        }
        self.mti = 0;
    }

    /// `genrand_int32`.
    pub fn next_u32(&mut self) -> u32 {
        if self.mti >= 624 {
            self.generate();
        }
        let mut y = self.mt[self.mti];
        self.mti += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// numpy's `next_uint64` for MT19937: two 32-bit draws, high word first.
    pub fn next_u64(&mut self) -> u64 {
        let hi = self.next_u32() as u64;
        let lo = self.next_u32() as u64;
        (hi << 32) | lo
    }

    /// `random_sample()`: a double in [0, 1) with 53 random bits (`genrand_res53`).
    pub fn random_sample(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67108864.0 + b) / 9007199254740992.0
    }

    /// numpy's `random_interval(max)`: uniform in 0..=max by masked rejection sampling.
    pub fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        mask |= mask >> 32;
        if max <= 0xffff_ffff {
            loop {
                let v = (self.next_u32() as u64) & mask;
                if v <= max {
                    return v;
                }
            }
        } else {
            loop {
                let v = self.next_u64() & mask;
                if v <= max {
                    return v;
                }
            }
        }
    }

    /// Legacy `shuffle` of a 1-d array: Fisher-Yates from the end.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        let n = x.len();
        if n < 2 {
            return;
        }
        for i in (1..n).rev() {
            let j = self.random_interval(i as u64) as usize;
            x.swap(i, j);
        }
    }

    /// `permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        self.shuffle(&mut v);
        v
    }

    /// Legacy `choice(n, p=uniform weights)` as used by k-means++ for its first centre
    /// (`p = w / w.sum()` with unit weights): cumulative sum, normalised, `searchsorted(side='right')`.
    pub fn choice_uniform_p(&mut self, n: usize) -> usize {
        let p = 1.0 / n as f64;
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0f64;
        for _ in 0..n {
            acc += p;
            cdf.push(acc);
        }
        let last = cdf[n - 1];
        for c in cdf.iter_mut() {
            *c /= last;
        }
        let u = self.random_sample();
        // first index with cdf[idx] > u
        cdf.partition_point(|&c| c <= u).min(n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_reference_values() {
        // np.random.RandomState(0).randint(0, 2**32, dtype=np.uint64) uses other paths;
        // these are the classic init_genrand(5489) first outputs.
        let mut r = RandomState::new(5489);
        assert_eq!(r.next_u32(), 3499211612);
        assert_eq!(r.next_u32(), 581869302);
    }

    #[test]
    fn numpy_random_sample_seed0() {
        // np.random.RandomState(0).random_sample() == 0.5488135039273248
        let mut r = RandomState::new(0);
        assert_eq!(r.random_sample(), 0.5488135039273248);
        assert_eq!(r.random_sample(), 0.7151893663724195);
    }

    #[test]
    fn numpy_permutation_seed42() {
        // np.random.RandomState(42).permutation(10)
        let mut r = RandomState::new(42);
        assert_eq!(r.permutation(10), vec![8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
    }
}
