//! Streaming mean and variance.

/// Count, mean and variance of a stream of numbers in O(1) memory, by
/// Welford's update, which stays accurate when the mean is large compared
/// with the spread (unlike summing squares). Two accumulators merge
/// exactly (Chan et al.), so replications can be summarised separately.
///
/// Undefined statistics are NaN: the mean of nothing and the sample
/// variance of fewer than two values.
///
/// ```
/// use sim_core::stats::Welford;
/// let mut w = Welford::new();
/// for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
///     w.push(x);
/// }
/// assert_eq!(w.mean(), 5.0);
/// assert!((w.variance() - 32.0 / 7.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welford {
    n: u64,
    mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
    min: f64,
    max: f64,
}

impl Welford {
    /// An empty accumulator.
    pub fn new() -> Self {
        Welford {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Adds one value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Adds every value `other` has seen.
    pub fn merge(&mut self, other: &Welford) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let n = self.n + other.n;
        let d = other.mean - self.mean;
        let (na, nb) = (self.n as f64, other.n as f64);
        self.mean += d * nb / n as f64;
        self.m2 += other.m2 + d * d * na * nb / n as f64;
        self.n = n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Mean; NaN when empty.
    pub fn mean(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.mean }
    }

    /// Sample variance (divisor n - 1); NaN with fewer than two values.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }

    /// Sample standard deviation; NaN with fewer than two values.
    pub fn stddev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Smallest value; +∞ when empty.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// Largest value; -∞ when empty.
    pub fn max(&self) -> f64 {
        self.max
    }
}

impl Default for Welford {
    fn default() -> Self {
        Self::new()
    }
}

impl FromIterator<f64> for Welford {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        let mut w = Welford::new();
        iter.into_iter().for_each(|x| w.push(x));
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_cases() {
        let w = Welford::new();
        assert!(w.mean().is_nan() && w.variance().is_nan());
        let w: Welford = [3.0].into_iter().collect();
        assert_eq!(w.mean(), 3.0);
        assert!(w.variance().is_nan());
        let w: Welford = [1.0, 2.0, 3.0, 4.0, 5.0].into_iter().collect();
        assert_eq!((w.count(), w.mean(), w.variance()), (5, 3.0, 2.5));
        assert_eq!((w.min(), w.max()), (1.0, 5.0));
    }

    #[test]
    fn accurate_with_a_large_offset() {
        // Summing squares would lose everything here: x² ~ 1e18 and the
        // spread is ~1, below f64's resolution at that magnitude.
        let w: Welford = (0..1000).map(|i| 1e9 + f64::from(i % 2)).collect();
        assert!((w.variance() - 0.25 * 1000.0 / 999.0).abs() < 1e-6);
    }

    proptest! {
        /// Merging two accumulators equals pushing everything into one.
        #[test]
        fn merge_equals_pushing_both(
            a in prop::collection::vec(-1e6f64..1e6, 0..50),
            b in prop::collection::vec(-1e6f64..1e6, 0..50),
        ) {
            let mut left: Welford = a.iter().copied().collect();
            left.merge(&b.iter().copied().collect());
            let all: Welford = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(left.count(), all.count());
            if all.count() > 0 {
                prop_assert!((left.mean() - all.mean()).abs() <= 1e-9 * (1.0 + all.mean().abs()));
                prop_assert_eq!((left.min(), left.max()), (all.min(), all.max()));
            }
            if all.count() > 1 {
                prop_assert!((left.variance() - all.variance()).abs() <= 1e-9 * (1.0 + all.variance()));
            }
        }
    }
}
