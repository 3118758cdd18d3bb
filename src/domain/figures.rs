//! How figures are written out: floating-point noise around zero is written as exactly 0.
//! One rule for every response (divergence rows, their blocks and references, aggregates,
//! scores), applied when the results are built so JSON and CSV agree. Nothing else is rounded.

/// Figures within this distance of zero are f64 noise (a MAD of 4.44e-16, a difference of
/// 0.3 − 0.1 − 0.2): the same slack the divergence engine allows its thresholds.
pub const NOISE: f64 = 1e-9;

/// `x`, or exactly 0 (never −0) when |x| ≤ [`NOISE`]. Every other figure is returned unchanged,
/// so full precision is kept (a difference of 0.19999999999999973 stays as it is).
pub fn zero_noise(x: f64) -> f64 {
    if x.abs() <= NOISE { 0.0 } else { x }
}

/// Writes the rule into figures in place.
pub trait ZeroNoise {
    fn zero_noise(&mut self);
}

impl ZeroNoise for f64 {
    fn zero_noise(&mut self) {
        *self = zero_noise(*self);
    }
}

impl<T: ZeroNoise> ZeroNoise for Option<T> {
    fn zero_noise(&mut self) {
        if let Some(x) = self {
            x.zero_noise();
        }
    }
}

impl<T: ZeroNoise> ZeroNoise for Box<T> {
    fn zero_noise(&mut self) {
        (**self).zero_noise();
    }
}

impl<T: ZeroNoise> ZeroNoise for [T] {
    fn zero_noise(&mut self) {
        self.iter_mut().for_each(ZeroNoise::zero_noise);
    }
}

impl<T: ZeroNoise> ZeroNoise for Vec<T> {
    fn zero_noise(&mut self) {
        self.as_mut_slice().zero_noise();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn noise_is_zero_and_figures_are_kept() {
        assert_eq!(zero_noise(4.440892098500626e-16), 0.0);
        assert_eq!(zero_noise(-4.440892098500626e-16), 0.0);
        assert!(zero_noise(-1e-12).is_sign_positive(), "never −0");
        assert!(zero_noise(-0.0).is_sign_positive(), "never −0");
        assert_eq!(zero_noise(1e-9), 0.0);
        assert_eq!(zero_noise(-1e-9), 0.0);
        assert_eq!(zero_noise(1.5e-9), 1.5e-9);
        assert_eq!(zero_noise(0.19999999999999973), 0.19999999999999973);
        assert_eq!(zero_noise(0.3 - 0.1 - 0.2), 0.0);
        let mut v = vec![Some(1e-17), None, Some(-2.5)];
        v.zero_noise();
        assert_eq!(v, [Some(0.0), None, Some(-2.5)]);
    }

    proptest! {
        #[test]
        fn the_rule_only_touches_noise(x in -1e3f64..1e3, tiny in -1e-9f64..=1e-9) {
            let y = zero_noise(x);
            if x.abs() <= NOISE {
                prop_assert_eq!(y.to_bits(), 0.0f64.to_bits());
            } else {
                prop_assert_eq!(y.to_bits(), x.to_bits());
            }
            prop_assert_eq!(zero_noise(tiny).to_bits(), 0.0f64.to_bits());
            // idempotent
            prop_assert_eq!(zero_noise(y).to_bits(), y.to_bits());
        }
    }
}
