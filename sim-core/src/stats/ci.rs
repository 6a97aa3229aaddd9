//! Student-t confidence intervals for the mean of independent replications.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::welford::Welford;

/// A two-sided confidence interval for a mean: `mean ± half_width`.
///
/// With fewer than two samples nothing is known about the spread, so
/// `half_width` is `+∞` (`null` in JSON): a test such as
/// `ci.half_width < target` is then false, asking for more replications,
/// and the interval contains every value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Sample mean (NaN when there are no samples).
    pub mean: f64,
    /// Half the width of the interval, in the samples' unit; +∞ when
    /// `n < 2`.
    pub half_width: f64,
    /// Number of samples.
    pub n: u64,
}

impl ConfidenceInterval {
    /// `mean - half_width`.
    pub fn lower(&self) -> f64 {
        self.mean - self.half_width
    }

    /// `mean + half_width`.
    pub fn upper(&self) -> f64 {
        self.mean + self.half_width
    }

    /// `half_width / |mean|`: the precision relative to the estimate.
    pub fn relative_half_width(&self) -> f64 {
        self.half_width / self.mean.abs()
    }

    /// Whether `x` lies in `[lower, upper]`.
    pub fn contains(&self, x: f64) -> bool {
        self.lower() <= x && x <= self.upper()
    }

    /// The interval from a [`Welford`] accumulator of the samples.
    ///
    /// # Panics
    ///
    /// If `confidence` is not strictly between 0 and 1.
    pub fn from_welford(w: &Welford, confidence: f64) -> Self {
        assert!(
            confidence > 0.0 && confidence < 1.0,
            "confidence must be strictly between 0 and 1, got {confidence}"
        );
        let n = w.count();
        let half_width = if n < 2 {
            f64::INFINITY
        } else {
            t_quantile((n - 1) as f64, confidence) * w.stddev() / (n as f64).sqrt()
        };
        ConfidenceInterval {
            mean: w.mean(),
            half_width,
            n,
        }
    }
}

/// The two-sided Student-t quantile t_{(1+c)/2, df}.
fn t_quantile(df: f64, confidence: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("positive degrees of freedom")
        .inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

/// The Student-t confidence interval at level `confidence` (e.g. 0.95)
/// for the mean of `samples`, assumed independent and roughly normal (the
/// means of independent replications are): mean ± t_{(1+c)/2, n-1}·s/√n.
///
/// ```
/// use sim_core::stats::student_t_interval;
/// let ci = student_t_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
/// assert_eq!(ci.mean, 3.0);
/// assert!((ci.half_width - 1.9632).abs() < 1e-4);
/// ```
///
/// # Panics
///
/// If `confidence` is not strictly between 0 and 1.
pub fn student_t_interval(samples: &[f64], confidence: f64) -> ConfidenceInterval {
    let w: Welford = samples.iter().copied().collect();
    ConfidenceInterval::from_welford(&w, confidence)
}

/// Welch's confidence interval at level `confidence` for the difference
/// of two means, `mean(a) − mean(b)`, from independent samples with
/// possibly different variances: half-width t_{(1+c)/2, ν}·√(s²ₐ/nₐ + s²_b/n_b)
/// with the Welch–Satterthwaite degrees of freedom ν. Infinite half-width
/// when either side has fewer than two samples; zero when both sides are
/// constant.
///
/// # Panics
///
/// If `confidence` is not strictly between 0 and 1.
pub fn welch_interval(a: &[f64], b: &[f64], confidence: f64) -> ConfidenceInterval {
    assert!(
        confidence > 0.0 && confidence < 1.0,
        "confidence must be strictly between 0 and 1, got {confidence}"
    );
    let wa: Welford = a.iter().copied().collect();
    let wb: Welford = b.iter().copied().collect();
    let (na, nb) = (wa.count(), wb.count());
    let mean = wa.mean() - wb.mean();
    let half_width = if na < 2 || nb < 2 {
        f64::INFINITY
    } else {
        let va = wa.variance() / na as f64;
        let vb = wb.variance() / nb as f64;
        let se2 = va + vb;
        if se2 == 0.0 {
            0.0
        } else {
            let df = se2 * se2 / (va * va / (na - 1) as f64 + vb * vb / (nb - 1) as f64);
            t_quantile(df, confidence) * se2.sqrt()
        }
    };
    ConfidenceInterval {
        mean,
        half_width,
        n: na + nb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a = [10, 12, 14] (mean 12, s² = 4), b = [1, 2, 3, 4, 5] (mean 3,
    /// s² = 2.5): s²ₐ/nₐ = 1.33333, s²_b/n_b = 0.5, se = 1.35401;
    /// ν = 1.83333² / (1.33333²/2 + 0.5²/4) = 3.36111 / 0.95139 = 3.53285;
    /// t_{0.975, 3.53285} = 2.92741 (bisection on a Simpson integral of the
    /// t density), half-width 2.92741 × 1.35401 = 3.96373.
    #[test]
    fn welch_matches_a_hand_computation() {
        let ci = welch_interval(&[10.0, 12.0, 14.0], &[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
        assert_eq!(ci.mean, 9.0);
        assert!((ci.half_width - 3.96373).abs() < 1e-4, "{}", ci.half_width);
        assert!(
            welch_interval(&[1.0], &[1.0, 2.0], 0.95)
                .half_width
                .is_infinite()
        );
        assert_eq!(
            welch_interval(&[2.0, 2.0], &[1.0, 1.0], 0.95).half_width,
            0.0
        );
    }

    #[test]
    fn hand_checked_example() {
        // [1..5]: mean 3, s = sqrt(2.5) = 1.58114, t_{0.975,4} = 2.77645,
        // half width = 2.77645 × 1.58114 / sqrt(5) = 1.96324.
        let ci = student_t_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
        assert_eq!(ci.n, 5);
        assert_eq!(ci.mean, 3.0);
        assert!(
            (ci.half_width - 1.963_243).abs() < 1e-5,
            "{}",
            ci.half_width
        );
        assert!(ci.contains(1.04) && !ci.contains(1.03));
        // 90%: t_{0.95,4} = 2.13185, half width 1.50744.
        let ci = student_t_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.90);
        assert!(
            (ci.half_width - 1.507_443).abs() < 1e-5,
            "{}",
            ci.half_width
        );
    }

    #[test]
    fn large_n_approaches_the_normal_quantile() {
        // t_{0.975, 9999} = 1.96020; s = 1 exactly for ±1 alternating
        // (times sqrt(n/(n-1))).
        let xs: Vec<f64> = (0..10_000)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let ci = student_t_interval(&xs, 0.95);
        let s = (10_000.0f64 / 9_999.0).sqrt();
        assert!((ci.half_width - 1.960_201 * s / 100.0).abs() < 1e-6);
    }

    #[test]
    fn fewer_than_two_samples_is_unbounded() {
        let one = student_t_interval(&[4.0], 0.95);
        assert_eq!((one.mean, one.half_width, one.n), (4.0, f64::INFINITY, 1));
        assert!(one.contains(1e300));
        let none = student_t_interval(&[], 0.95);
        assert!(none.mean.is_nan());
        assert_eq!(none.half_width, f64::INFINITY);
        // serde_json writes the infinite half width as null.
        let json = serde_json::to_string(&one).unwrap();
        assert_eq!(json, r#"{"mean":4.0,"half_width":null,"n":1}"#);
    }

    #[test]
    #[should_panic(expected = "confidence must be strictly between 0 and 1")]
    fn confidence_out_of_range_panics() {
        student_t_interval(&[1.0, 2.0], 95.0);
    }
}
