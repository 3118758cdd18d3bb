//! The demo's own pseudo-random numbers: SplitMix64 streams keyed by a seed and a few labels, so
//! results never change with dependency versions and one organisation's draws do not depend on
//! which other organisations are generated. Only integer arithmetic and `f64` additions and
//! multiplications are used (no `ln`, `cos`, …), so the numbers are the same on every platform.

/// A SplitMix64 generator (Steele, Lea and Flood 2014).
#[derive(Debug, Clone)]
pub(super) struct Rng(pub(super) u64);

impl Rng {
    /// The stream for `seed` and `labels` (e.g. `["levels", ods, round]`).
    pub(super) fn stream(seed: u64, labels: &[&str]) -> Self {
        // FNV-1a over the labels, each followed by a separator byte, then mixed with the seed.
        let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
        for label in labels {
            for byte in label.bytes().chain(std::iter::once(0xFF)) {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3);
            }
        }
        Rng(mix(seed ^ mix(hash)))
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in [0, 1), 53 bits.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub(super) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform index below `n` (0 when `n` is 0); the modulo bias is below 2⁻⁵⁰ for small `n`.
    pub(super) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Approximately standard normal: the Irwin–Hall sum of twelve uniforms minus six (bounded
    /// at ±6, which suits latent scores on a 1–5 scale).
    pub(super) fn normal(&mut self) -> f64 {
        let mut sum = 0.0;
        for _ in 0..12 {
            sum += self.unit();
        }
        sum - 6.0
    }
}

/// The SplitMix64 finaliser.
pub(super) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
