//! Tests of sampling against closed forms, of parsing, and of determinism.
//!
//! Statistical tolerances. Every check uses n = 200,000 draws from a named
//! stream, so each outcome is fixed; the tolerances say how far a correct
//! sampler could plausibly land from the closed form:
//!
//! - Mean: the sample mean has standard error sqrt(Var/n) (closed-form
//!   variance); we allow 5 standard errors (a correct sampler fails with
//!   probability 6e-7) plus 0.5 ns for rounding to whole nanoseconds.
//!   E.g. exponential: se = mean/sqrt(n) = 0.22% of the mean, so 1.1%.
//! - Quantile: rather than a sample quantile (whose error depends on the
//!   density) we count the fraction of draws at or below the closed-form
//!   quantile x_q; it is Binomial(n, q)/n with standard error
//!   sqrt(q(1-q)/n) (0.11% at the median, 0.022% at p99), and we allow 5
//!   of those. Rounding shifts the fraction by at most density × 0.5 ns,
//!   below 1e-6 at millisecond scales.
//! - Variance: the sample variance has standard error
//!   sqrt((μ₄ - σ⁴)/n) = σ²·sqrt((κ - 1)/n) with κ the kurtosis; for the
//!   distributions checked κ ≤ 9 (exponential), i.e. se ≤ 0.63%, so 5%
//!   is over 7 standard errors. Heavy-tailed cases (Pareto, wide
//!   lognormal) are not variance-checked.

use super::*;
use crate::time::MILLIS;

const N: usize = 200_000;

fn draws(d: &Dist, name: &str) -> Vec<u64> {
    let mut rng = RngStream::new(7, name);
    (0..N).map(|_| d.sample(&mut rng)).collect()
}

fn spec(json: &str) -> DistSpec {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn dist(json: &str) -> Dist {
    Dist::from_spec(&spec(json)).unwrap()
}

fn parse_err(json: &str) -> String {
    match serde_json::from_str::<DistSpec>(json) {
        Ok(s) => panic!("{json} parsed as {s:?}"),
        Err(e) => e.to_string(),
    }
}

/// Sample mean within 5 standard errors of the closed form (see top).
fn check_mean(d: &Dist, xs: &[u64]) {
    let n = xs.len() as f64;
    let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
    let se = (d.variance_ns2().expect("finite variance") / n).sqrt();
    let want = d.mean_ns();
    assert!(
        (mean - want).abs() <= 5.0 * se + 0.5,
        "sample mean {mean} vs closed form {want} (se {se})"
    );
}

/// Sample variance within `rel` of the closed form (see top).
fn check_variance(d: &Dist, xs: &[u64], rel: f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let want = d.variance_ns2().expect("finite variance");
    assert!(
        (var - want).abs() <= rel * want,
        "sample variance {var} vs closed form {want}"
    );
}

/// Fraction of draws at or below `x` within 5 binomial standard errors of
/// `q` (see top).
fn check_cdf(xs: &[u64], x: f64, q: f64) {
    let n = xs.len() as f64;
    let frac = xs.iter().filter(|&&s| s as f64 <= x).count() as f64 / n;
    let se = (q * (1.0 - q) / n).sqrt();
    assert!(
        (frac - q).abs() <= 5.0 * se,
        "fraction at or below {x} is {frac}, expected {q} (se {se})"
    );
}

/// check_cdf at the closed-form quantiles of `d`.
fn check_quantiles(d: &Dist, xs: &[u64], qs: &[f64]) {
    for &q in qs {
        check_cdf(xs, d.quantile_ns(q).expect("closed-form quantile"), q);
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

// ---- sampling against closed forms ----

#[test]
fn constant() {
    let d = dist(r#""5ms""#);
    assert!(draws(&d, "constant").iter().all(|&x| x == 5 * MILLIS));
    assert_eq!(d.mean_ns(), 5e6);
    assert_eq!(d.variance_ns2(), Some(0.0));
    assert_eq!(d.quantile_ns(0.99), Some(5e6));
    assert_eq!(d.second_moment_ns2(), Some(25e12));
}

#[test]
fn exponential() {
    let d = dist(r#"{"exponential": {"mean": "20ms"}}"#);
    let xs = draws(&d, "exponential");
    assert_eq!(d.mean_ns(), 20e6);
    assert_eq!(d.variance_ns2(), Some(400e12));
    assert!(close(d.quantile_ns(0.5).unwrap(), 20e6 * 2f64.ln(), 1e-12));
    check_mean(&d, &xs);
    check_variance(&d, &xs, 0.05);
    check_quantiles(&d, &xs, &[0.1, 0.5, 0.9, 0.99]);
    // The code constructor is the same distribution.
    let direct = Dist::exponential(20e6);
    let mut a = RngStream::new(3, "x");
    let mut b = RngStream::new(3, "x");
    for _ in 0..100 {
        assert_eq!(d.sample(&mut a), direct.sample(&mut b));
    }
}

#[test]
fn uniform() {
    let d = dist(r#"{"uniform": {"min": "1ms", "max": "3ms"}}"#);
    let xs = draws(&d, "uniform");
    assert!(xs.iter().all(|&x| (MILLIS..=3 * MILLIS).contains(&x)));
    assert_eq!(d.mean_ns(), 2e6);
    assert!(close(d.variance_ns2().unwrap(), 4e12 / 12.0, 1e-12));
    check_mean(&d, &xs);
    check_variance(&d, &xs, 0.05);
    check_quantiles(&d, &xs, &[0.25, 0.5, 0.75]);
}

#[test]
fn normal_far_from_zero_is_plain_normal() {
    let d = dist(r#"{"normal": {"mean": "10ms", "stddev": "2ms"}}"#);
    // Truncation at 5 sd below the mean changes the mean by sd·φ(5)/Φ(5)
    // = 3e-6 sd: invisible.
    assert!(close(d.mean_ns(), 10e6, 1e-6));
    assert!(close(d.variance_ns2().unwrap(), 4e12, 1e-5));
    assert!(close(d.quantile_ns(0.5).unwrap(), 10e6, 1e-6));
    let xs = draws(&d, "normal");
    check_mean(&d, &xs);
    check_variance(&d, &xs, 0.05);
    check_quantiles(&d, &xs, &[0.1, 0.5, 0.9, 0.99]);
}

#[test]
fn normal_truncated_at_zero() {
    // mean 1ms, sd 2ms: 31% of the untruncated mass is negative. With
    // α = -0.5 and λ = φ(0.5)/Φ(0.5) = 0.509160, the truncated mean is
    // 1 + 2λ = 2.018320 ms and the variance 4(1 + αλ - λ²) = 1.944704 ms².
    let d = dist(r#"{"normal": {"mean": "1ms", "stddev": "2ms"}}"#);
    assert!(close(d.mean_ns(), 2.018_320e6, 1e-6), "{}", d.mean_ns());
    assert!(close(d.variance_ns2().unwrap(), 1.944_704e12, 1e-5));
    let xs = draws(&d, "normal-truncated");
    check_mean(&d, &xs);
    check_variance(&d, &xs, 0.05);
    check_quantiles(&d, &xs, &[0.01, 0.25, 0.5, 0.9, 0.99]);
    // Zero stddev is a constant.
    let c = dist(r#"{"normal": {"mean": "3ms", "stddev": "0s"}}"#);
    assert_eq!(c.sample(&mut RngStream::new(1, "c")), 3 * MILLIS);
}

#[test]
fn lognormal_from_moments() {
    let d = dist(r#"{"lognormal": {"mean": "10ms", "stddev": "5ms"}}"#);
    assert!(close(d.mean_ns(), 10e6, 1e-12));
    assert!(close(d.variance_ns2().unwrap(), 25e12, 1e-12));
    // Median = mean / sqrt(1 + cv²).
    assert!(close(
        d.quantile_ns(0.5).unwrap(),
        10e6 / 1.25f64.sqrt(),
        1e-9
    ));
    let xs = draws(&d, "lognormal");
    check_mean(&d, &xs);
    // κ = 9.03 for σ² = ln 1.25: se of the variance 0.63%, 5% is 8 se.
    check_variance(&d, &xs, 0.05);
    check_quantiles(&d, &xs, &[0.1, 0.5, 0.9, 0.99]);
    // Zero stddev is a constant at the mean.
    let c = dist(r#"{"lognormal": {"mean": "7ms", "stddev": "0s"}}"#);
    assert_eq!(c.sample(&mut RngStream::new(1, "c")), 7 * MILLIS);
    assert_eq!(c.variance_ns2(), Some(0.0));
}

#[test]
fn lognormal_from_median_and_p99() {
    let d = dist(r#"{"lognormal": {"median": "5ms", "p99": "40ms"}}"#);
    assert!(close(d.quantile_ns(0.5).unwrap(), 5e6, 1e-12));
    assert!(close(d.quantile_ns(0.99).unwrap(), 40e6, 1e-9));
    let xs = draws(&d, "lognormal-percentiles");
    // The draws' median and p99 are where the file says.
    check_cdf(&xs, 5e6, 0.5);
    check_cdf(&xs, 40e6, 0.99);
    // σ = ln 8 / z₀.₉₉ = 0.894: the variance is finite, so the mean check
    // holds, although the tail makes the variance itself slow to converge.
    check_mean(&d, &xs);
}

#[test]
fn gamma() {
    use statrs::distribution::{ContinuousCDF, Gamma};
    let d = dist(r#"{"gamma": {"mean": "10ms", "cv": 0.5}}"#);
    assert!(close(d.mean_ns(), 10e6, 1e-12));
    assert!(close(d.variance_ns2().unwrap(), 25e12, 1e-12));
    assert_eq!(d.quantile_ns(0.5), None);
    let xs = draws(&d, "gamma");
    check_mean(&d, &xs);
    check_variance(&d, &xs, 0.05);
    // Shape 4, scale 2.5ms: the draws follow statrs' CDF, not just the mean.
    let reference = Gamma::new(4.0, 1.0 / 2.5e6).unwrap();
    for x in [5e6, 10e6, 20e6] {
        check_cdf(&xs, x, reference.cdf(x));
    }
}

#[test]
fn erlang() {
    let d = dist(r#"{"erlang": {"k": 3, "mean": "10ms"}}"#);
    assert!(close(d.mean_ns(), 10e6, 1e-12));
    assert!(close(d.variance_ns2().unwrap(), 100e12 / 3.0, 1e-12));
    let xs = draws(&d, "erlang");
    check_mean(&d, &xs);
    check_variance(&d, &xs, 0.05);
    // Erlang CDF in closed form: 1 - e^{-x/θ} Σ_{i<k} (x/θ)^i / i!.
    let theta = 10e6 / 3.0;
    let cdf = |x: f64| {
        let r: f64 = x / theta;
        1.0 - (-r).exp() * (1.0 + r + r * r / 2.0)
    };
    for x in [5e6, 10e6, 25e6] {
        check_cdf(&xs, x, cdf(x));
    }
}

#[test]
fn pareto() {
    let d = dist(r#"{"pareto": {"scale": "1ms", "shape": 2.5}}"#);
    assert!(close(d.mean_ns(), 2.5e6 / 1.5, 1e-12));
    assert!(close(
        d.variance_ns2().unwrap(),
        1e12 * 2.5 / (1.5 * 1.5 * 0.5),
        1e-12
    ));
    let xs = draws(&d, "pareto");
    assert!(xs.iter().all(|&x| x >= MILLIS));
    check_mean(&d, &xs);
    check_quantiles(&d, &xs, &[0.5, 0.9, 0.99, 0.999]);

    let heavy = dist(r#"{"pareto": {"scale": "1ms", "shape": 0.8}}"#);
    assert_eq!(heavy.mean_ns(), f64::INFINITY);
    assert_eq!(heavy.variance_ns2(), None);
    let mid = dist(r#"{"pareto": {"scale": "1ms", "shape": 1.5}}"#);
    assert!(mid.mean_ns().is_finite());
    assert_eq!(mid.variance_ns2(), None);
    // Extreme draws clamp instead of wrapping.
    let xs = draws(
        &dist(r#"{"pareto": {"scale": "1s", "shape": 0.05}}"#),
        "clamp",
    );
    assert!(xs.iter().all(|&x| x >= 1_000_000_000));
}

#[test]
fn weibull() {
    let d = dist(r#"{"weibull": {"scale": "10ms", "shape": 1.5}}"#);
    // Γ(1 + 1/1.5) = Γ(5/3) = 0.902745292950934.
    assert!(close(d.mean_ns(), 10e6 * 0.902_745_292_950_934, 1e-9));
    let xs = draws(&d, "weibull");
    check_mean(&d, &xs);
    check_variance(&d, &xs, 0.05);
    check_quantiles(&d, &xs, &[0.1, 0.5, 0.9, 0.99]);
    // Shape 1 is the exponential with mean `scale`.
    let e = dist(r#"{"weibull": {"scale": "10ms", "shape": 1}}"#);
    assert!(close(e.mean_ns(), 10e6, 1e-9));
    assert!(close(e.variance_ns2().unwrap(), 100e12, 1e-9));
}

#[test]
fn empirical() {
    let d = dist(
        r#"{"empirical": {"min": "1ms", "p50": "12ms", "p90": "30ms", "p99": "80ms",
                          "p999": "150ms", "max": "200ms"}}"#,
    );
    let xs = draws(&d, "empirical");
    assert!(xs.iter().all(|&x| (MILLIS..=200 * MILLIS).contains(&x)));
    // The draws hit every row of the table.
    for (x, q) in [(12e6, 0.5), (30e6, 0.9), (80e6, 0.99), (150e6, 0.999)] {
        assert!(close(d.quantile_ns(q).unwrap(), x, 1e-12));
        check_cdf(&xs, x, q);
    }
    // Between rows the CDF is linear: halfway from p50 to p90 is p70.
    check_cdf(&xs, 21e6, 0.7);
    // Mean: Σ Δq·(a+b)/2 over the segments, in ms.
    let mean_ms = 0.5 * 6.5 + 0.4 * 21.0 + 0.09 * 55.0 + 0.009 * 115.0 + 0.001 * 175.0;
    assert!(close(d.mean_ns(), mean_ms * 1e6, 1e-12));
    check_mean(&d, &xs);
    check_variance(&d, &xs, 0.05);
    assert_eq!(d.quantile_ns(0.0), Some(1e6));
    assert_eq!(d.quantile_ns(1.0), Some(200e6));
}

#[test]
fn mixture() {
    let d = dist(
        r#"{"mixture": [{"weight": 9, "dist": {"exponential": {"mean": "1ms"}}},
                        {"weight": 1, "dist": "50ms"}]}"#,
    );
    assert!(close(d.mean_ns(), 0.9e6 + 5e6, 1e-12));
    // E[X²] = 0.9·2·(1ms)² + 0.1·(50ms)² = 251.8 ms².
    assert!(close(d.second_moment_ns2().unwrap(), 251.8e12, 1e-12));
    assert_eq!(d.quantile_ns(0.5), None);
    let xs = draws(&d, "mixture");
    check_mean(&d, &xs);
    // The constant component is drawn with probability 0.1 (an exponential
    // draw lands on exactly 50ms with probability ~e^-50).
    let slow = xs.iter().filter(|&&x| x == 50 * MILLIS).count() as f64 / N as f64;
    let se = (0.1f64 * 0.9 / N as f64).sqrt();
    assert!((slow - 0.1).abs() < 5.0 * se, "{slow}");
    // A one-component mixture is that component.
    let one = dist(r#"{"mixture": [{"weight": 0.3, "dist": "2ms"}]}"#);
    assert_eq!(one.quantile_ns(0.5), Some(2e6));
    // An infinite-mean component makes the mixture's mean infinite.
    let inf = dist(
        r#"{"mixture": [{"weight": 1, "dist": "1ms"},
                        {"weight": 1, "dist": {"pareto": {"scale": "1ms", "shape": 0.5}}}]}"#,
    );
    assert_eq!(inf.mean_ns(), f64::INFINITY);
    assert_eq!(inf.variance_ns2(), None);
}

#[test]
fn quantile_outside_unit_interval_is_none() {
    let d = Dist::exponential(1e6);
    assert_eq!(d.quantile_ns(-0.1), None);
    assert_eq!(d.quantile_ns(1.5), None);
    assert_eq!(d.quantile_ns(f64::NAN), None);
    assert_eq!(d.quantile_ns(1.0), Some(f64::INFINITY));
}

// ---- determinism ----

/// Every kind at once, so one test covers each sampler's determinism.
const EVERYTHING: &str = r#"{"mixture": [
    {"weight": 1, "dist": "1ms"},
    {"weight": 1, "dist": {"exponential": {"mean": "1ms"}}},
    {"weight": 1, "dist": {"uniform": {"min": "1ms", "max": "2ms"}}},
    {"weight": 1, "dist": {"normal": {"mean": "1ms", "stddev": "1ms"}}},
    {"weight": 1, "dist": {"lognormal": {"median": "1ms", "p99": "9ms"}}},
    {"weight": 1, "dist": {"gamma": {"mean": "1ms", "cv": 2}}},
    {"weight": 1, "dist": {"erlang": {"k": 4, "mean": "1ms"}}},
    {"weight": 1, "dist": {"pareto": {"scale": "1ms", "shape": 1.2}}},
    {"weight": 1, "dist": {"weibull": {"scale": "1ms", "shape": 0.7}}},
    {"weight": 1, "dist": {"empirical": {"p50": "1ms", "p99": "9ms", "max": "20ms"}}}
]}"#;

#[test]
fn same_seed_and_name_give_the_same_draws() {
    let d = dist(EVERYTHING);
    let run = |seed: u64, name: &str| -> Vec<u64> {
        let mut rng = RngStream::new(seed, name);
        (0..10_000).map(|_| d.sample(&mut rng)).collect()
    };
    let first = run(11, "service:app");
    assert_eq!(first, run(11, "service:app"));
    assert_ne!(first, run(12, "service:app"));
    assert_ne!(first, run(11, "service:db"));
    // A clone of the sampler draws the same numbers.
    let copy = d.clone();
    let mut rng = RngStream::new(11, "service:app");
    let again: Vec<u64> = (0..10_000).map(|_| copy.sample(&mut rng)).collect();
    assert_eq!(first, again);
}

/// Golden values: a dependency bump that changes any sampler (rand_distr's
/// Gamma changed between 0.5 and 0.6) fails here instead of silently
/// changing every result. If a bump is intended, update the literals and
/// say so in the changelog.
#[test]
fn golden_values() {
    let first5 = |json: &str| -> Vec<u64> {
        let d = dist(json);
        let mut rng = RngStream::new(42, "golden");
        (0..5).map(|_| d.sample(&mut rng)).collect()
    };
    assert_eq!(
        first5(r#"{"exponential": {"mean": "1ms"}}"#),
        GOLDEN_EXPONENTIAL
    );
    assert_eq!(
        first5(r#"{"lognormal": {"median": "5ms", "p99": "40ms"}}"#),
        GOLDEN_LOGNORMAL
    );
    assert_eq!(
        first5(r#"{"gamma": {"mean": "10ms", "cv": 0.5}}"#),
        GOLDEN_GAMMA
    );
    assert_eq!(
        first5(r#"{"normal": {"mean": "10ms", "stddev": "2ms"}}"#),
        GOLDEN_NORMAL
    );
}
const GOLDEN_EXPONENTIAL: [u64; 5] = [264_105, 2_576_820, 650_002, 678_264, 1_350_231];
const GOLDEN_LOGNORMAL: [u64; 5] = [10_131_951, 1_467_121, 5_096_979, 5_049_660, 1_816_421];
const GOLDEN_GAMMA: [u64; 5] = [13_493_138, 9_269_932, 4_742_873, 5_989_050, 11_927_235];
const GOLDEN_NORMAL: [u64; 5] = [11_580_229, 7_256_553, 10_042_982, 10_022_113, 7_734_401];

// ---- parsing ----

#[test]
fn parses_every_form() {
    use crate::time::SimDuration as D;
    let ms = D::from_millis;
    assert_eq!(spec(r#""5ms""#), DistSpec::Constant(ms(5)));
    assert_eq!(spec(r#"{"constant": "5ms"}"#), DistSpec::Constant(ms(5)));
    assert_eq!(
        spec(r#"{"exponential": {"mean": "20ms"}}"#),
        DistSpec::Exponential { mean: ms(20) }
    );
    assert_eq!(
        spec(r#"{"uniform": {"min": "1ms", "max": "3ms"}}"#),
        DistSpec::Uniform {
            min: ms(1),
            max: ms(3)
        }
    );
    assert_eq!(
        spec(r#"{"normal": {"mean": "10ms", "stddev": "2ms"}}"#),
        DistSpec::Normal {
            mean: ms(10),
            stddev: ms(2)
        }
    );
    assert_eq!(
        spec(r#"{"lognormal": {"mean": "10ms", "stddev": "5ms"}}"#),
        DistSpec::LogNormal(LogNormalSpec::MeanStddev {
            mean: ms(10),
            stddev: ms(5)
        })
    );
    assert_eq!(
        spec(r#"{"lognormal": {"p99": "40ms", "median": "5ms"}}"#),
        DistSpec::LogNormal(LogNormalSpec::MedianP99 {
            median: ms(5),
            p99: ms(40)
        })
    );
    assert_eq!(
        spec(r#"{"gamma": {"mean": "10ms", "cv": 0.5}}"#),
        DistSpec::Gamma {
            mean: ms(10),
            cv: 0.5
        }
    );
    assert_eq!(
        spec(r#"{"erlang": {"k": 3, "mean": "10ms"}}"#),
        DistSpec::Erlang { k: 3, mean: ms(10) }
    );
    assert_eq!(
        spec(r#"{"pareto": {"scale": "1ms", "shape": 2.5}}"#),
        DistSpec::Pareto {
            scale: ms(1),
            shape: 2.5
        }
    );
    assert_eq!(
        spec(r#"{"weibull": {"scale": "10ms", "shape": 1.5}}"#),
        DistSpec::Weibull {
            scale: ms(10),
            shape: 1.5
        }
    );
    assert_eq!(
        spec(r#"{"empirical": {"p50": "12ms", "p999": "150ms", "p90": "30ms", "max": "200ms"}}"#),
        DistSpec::Empirical(EmpiricalSpec {
            min: D::ZERO,
            percentiles: vec![
                Percentile {
                    percent: 50.0,
                    value: ms(12)
                },
                Percentile {
                    percent: 99.9,
                    value: ms(150)
                },
                Percentile {
                    percent: 90.0,
                    value: ms(30)
                },
            ],
            max: ms(200),
        })
    );
    assert_eq!(
        spec(
            r#"{"mixture": [{"weight": 0.9, "dist": "1ms"},
                             {"weight": 0.1, "dist": {"exponential": {"mean": "5ms"}}}]}"#
        ),
        DistSpec::Mixture(vec![
            MixtureComponent {
                weight: 0.9,
                dist: DistSpec::Constant(ms(1))
            },
            MixtureComponent {
                weight: 0.1,
                dist: DistSpec::Exponential { mean: ms(5) }
            },
        ])
    );
}

#[test]
fn serializes_back_to_the_same_spec() {
    let texts = [
        r#""5ms""#,
        r#"{"exponential": {"mean": "20ms"}}"#,
        r#"{"uniform": {"min": "1ms", "max": "3ms"}}"#,
        r#"{"normal": {"mean": "10ms", "stddev": "2ms"}}"#,
        r#"{"lognormal": {"mean": "10ms", "stddev": "5ms"}}"#,
        r#"{"lognormal": {"median": "5ms", "p99": "40ms"}}"#,
        r#"{"gamma": {"mean": "10ms", "cv": 0.5}}"#,
        r#"{"erlang": {"k": 3, "mean": "10ms"}}"#,
        r#"{"pareto": {"scale": "1ms", "shape": 2.5}}"#,
        r#"{"weibull": {"scale": "10ms", "shape": 1.5}}"#,
        r#"{"empirical": {"min": "1ms", "p50": "12ms", "p999": "150ms", "max": "200ms"}}"#,
        EVERYTHING,
    ];
    for text in texts {
        let s = spec(text);
        let written = serde_json::to_string(&s).unwrap();
        assert_eq!(spec(&written), s, "{text} -> {written}");
    }
    assert_eq!(
        serde_json::to_string(&spec(r#"{"lognormal": {"median": "5ms", "p99": "40ms"}}"#)).unwrap(),
        r#"{"lognormal":{"median":"5ms","p99":"40ms"}}"#
    );
    assert_eq!(
        serde_json::to_string(&spec(r#"{"empirical": {"p999": "1.5s", "max": "2s"}}"#)).unwrap(),
        r#"{"empirical":{"p99.9":"1.5s","max":"2s"}}"#
    );
    assert_eq!(
        serde_json::to_string(&spec(r#""250us""#)).unwrap(),
        r#"{"constant":"250us"}"#
    );
}

#[test]
fn unknown_names_get_serdes_standard_messages() {
    let e = parse_err(r#"{"exponential": {"mean": "20ms", "men": "1ms"}}"#);
    assert!(e.contains("unknown field `men`, expected `mean`"), "{e}");
    let e = parse_err(r#"{"uniform": {"min": "1ms", "maximum": "3ms"}}"#);
    assert!(
        e.contains("unknown field `maximum`, expected `min` or `max`"),
        "{e}"
    );
    let e = parse_err(r#"{"gamma": {"mean": "10ms", "cv": 0.5, "shape": 2}}"#);
    assert!(
        e.contains("unknown field `shape`, expected `mean` or `cv`"),
        "{e}"
    );
    let e = parse_err(r#"{"lognormal": {"median": "5ms", "p90": "40ms"}}"#);
    assert!(
        e.contains("unknown field `p90`, expected one of `mean`, `stddev`, `median`, `p99`"),
        "{e}"
    );
    let e = parse_err(r#"{"mixture": [{"weight": 1, "dist": "1ms", "wieght": 2}]}"#);
    assert!(
        e.contains("unknown field `wieght`, expected `weight` or `dist`"),
        "{e}"
    );
    let e = parse_err(r#"{"expo": {"mean": "20ms"}}"#);
    assert!(
        e.contains("unknown variant `expo`, expected one of `constant`, `exponential`"),
        "{e}"
    );
    assert!(e.contains("`lognormal`") && e.contains("`mixture`"), "{e}");
    let e = parse_err(r#"{"exponential": {}}"#);
    assert!(e.contains("missing field `mean`"), "{e}");
    let e = parse_err(r#"{"empirical": {"p50": "12ms"}}"#);
    assert!(e.contains("missing field `max`"), "{e}");
}

#[test]
fn malformed_input_is_explained() {
    let e = parse_err(r#"{"exponential": {"mean": "20 parsecs"}}"#);
    assert!(e.contains("invalid duration \"20 parsecs\""), "{e}");
    let e = parse_err(r#"{"exponential": {"mean": 20}}"#);
    assert!(e.contains("expected a duration string"), "{e}");
    let e = parse_err("{}");
    assert!(e.contains("an empty map is not a distribution"), "{e}");
    let e = parse_err("5");
    assert!(e.contains("expected a distribution"), "{e}");
    let e = parse_err(r#""fast""#);
    assert!(e.contains("invalid duration \"fast\""), "{e}");
    let e =
        parse_err(r#"{"exponential": {"mean": "1ms"}, "uniform": {"min": "1ms", "max": "2ms"}}"#);
    assert!(
        e.contains("exactly one kind") && e.contains("`uniform`"),
        "{e}"
    );
    let e = parse_err(r#"{"empirical": {"median": "12ms", "max": "20ms"}}"#);
    assert!(
        e.contains("empirical: key `median` is not `min`, `max` or a percentile"),
        "{e}"
    );
    let e = parse_err(r#"{"empirical": {"p999": "12ms", "p99.9": "13ms", "max": "20ms"}}"#);
    assert!(
        e.contains("key `p99.9` gives the same percentile as `p999`"),
        "{e}"
    );
}

#[test]
fn bad_parameters_are_refused_with_the_rule() {
    let cases = [
        (
            r#"{"lognormal": {"median": "5ms", "p99": "3ms"}}"#,
            "lognormal: p99 (3ms) must be above the median (5ms)",
        ),
        (
            r#"{"lognormal": {"mean": "5ms", "p99": "30ms"}}"#,
            "lognormal: give either `mean` and `stddev`, or `median` and `p99` (got mean, p99)",
        ),
        (
            r#"{"lognormal": {}}"#,
            "lognormal: give either `mean` and `stddev`, or `median` and `p99` (got no fields)",
        ),
        (
            r#"{"lognormal": {"mean": "0s", "stddev": "1ms"}}"#,
            "lognormal: mean (0s) must be positive",
        ),
        (
            r#"{"exponential": {"mean": "0s"}}"#,
            "exponential: mean (0s) must be positive",
        ),
        (
            r#"{"uniform": {"min": "3ms", "max": "1ms"}}"#,
            "uniform: min (3ms) must not exceed max (1ms)",
        ),
        (
            r#"{"gamma": {"mean": "10ms", "cv": 0}}"#,
            "gamma: cv (0) must be a positive number",
        ),
        (
            r#"{"gamma": {"mean": "10ms", "cv": -0.5}}"#,
            "gamma: cv (-0.5) must be a positive number",
        ),
        (
            r#"{"erlang": {"k": 0, "mean": "10ms"}}"#,
            "erlang: k (0) must be at least 1",
        ),
        (
            r#"{"pareto": {"scale": "1ms", "shape": 0}}"#,
            "pareto: shape (0) must be a positive number",
        ),
        (
            r#"{"pareto": {"scale": "0s", "shape": 2}}"#,
            "pareto: scale (0s) must be positive",
        ),
        (
            r#"{"weibull": {"scale": "1ms", "shape": -1}}"#,
            "weibull: shape (-1) must be a positive number",
        ),
        (
            r#"{"empirical": {"p50": "12ms", "p90": "10ms", "max": "200ms"}}"#,
            "empirical: p90 (10ms) is below p50 (12ms); values must not decrease",
        ),
        (
            r#"{"empirical": {"min": "20ms", "p50": "12ms", "max": "200ms"}}"#,
            "empirical: p50 (12ms) is below min (20ms)",
        ),
        (
            r#"{"empirical": {"p99": "300ms", "max": "200ms"}}"#,
            "empirical: max (200ms) is below p99 (300ms)",
        ),
        (
            r#"{"empirical": {"p100": "300ms", "max": "200ms"}}"#,
            "empirical: key `p100` is ambiguous",
        ),
        (
            r#"{"mixture": []}"#,
            "mixture: needs at least one component",
        ),
        (
            r#"{"mixture": [{"weight": 1, "dist": "1ms"}, {"weight": -1, "dist": "2ms"}]}"#,
            "mixture: weight of mixture[1] (-1) must be a positive number",
        ),
    ];
    for (json, want) in cases {
        let e = parse_err(json);
        assert!(e.contains(want), "{json}\n  got:  {e}\n  want: {want}");
    }
}

#[test]
fn specs_built_in_code_are_checked_by_from_spec() {
    let ms = crate::time::SimDuration::from_millis;
    let err = |s: DistSpec| Dist::from_spec(&s).unwrap_err().to_string();
    assert_eq!(
        err(DistSpec::Gamma {
            mean: ms(1),
            cv: f64::NAN
        }),
        "gamma: cv (NaN) must be a positive number"
    );
    assert_eq!(
        err(DistSpec::Mixture(vec![
            MixtureComponent {
                weight: 1.0,
                dist: DistSpec::Constant(ms(1))
            },
            MixtureComponent {
                weight: 1.0,
                dist: DistSpec::LogNormal(LogNormalSpec::MedianP99 {
                    median: ms(5),
                    p99: ms(3)
                })
            },
        ])),
        "mixture[1].dist: lognormal: p99 (3ms) must be above the median (5ms)"
    );
    assert_eq!(
        err(DistSpec::Empirical(EmpiricalSpec {
            min: ms(0),
            percentiles: vec![
                Percentile {
                    percent: 50.0,
                    value: ms(1)
                },
                Percentile {
                    percent: 50.0,
                    value: ms(2)
                },
            ],
            max: ms(3),
        })),
        "empirical: p50 is given twice"
    );
    assert!(DistSpec::Exponential { mean: ms(1) }.validate().is_ok());
    assert_eq!(
        Dist::try_from(&DistSpec::Constant(ms(2)))
            .unwrap()
            .mean_ns(),
        2e6
    );
}

#[test]
fn nested_errors_point_at_the_inner_distribution() {
    // Validation runs where each DistSpec is read, so the message is the
    // inner one and serde's position (and serde_path_to_error's path)
    // point at it.
    let e = parse_err(
        r#"{"mixture": [{"weight": 1, "dist": {"uniform": {"min": "3ms", "max": "1ms"}}}]}"#,
    );
    assert!(
        e.starts_with("uniform: min (3ms) must not exceed max (1ms)"),
        "{e}"
    );
}
