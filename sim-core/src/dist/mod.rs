//! Latency distributions, each sampling whole nanoseconds.
//!
//! Two types, in the two-stage style of the rest of capsim:
//!
//! - [`DistSpec`] is the serde form written in scenario files, with every
//!   duration a string (`{"lognormal": {"median": "5ms", "p99": "40ms"}}`);
//! - [`Dist`] is the validated, sampling-ready form, built once with
//!   [`Dist::from_spec`]. All parameters are converted to nanoseconds and
//!   everything a draw needs is precomputed, so [`Dist::sample`] does no
//!   allocation and, for most kinds, one or two calls to the generator.
//!
//! Besides sampling, a `Dist` knows its exact mean ([`Dist::mean_ns`]) for
//! capacity checks before a run, its variance where a closed form exists
//! ([`Dist::variance_ns2`], for Pollaczek-Khinchine checks of M/G/1
//! results) and its quantiles where the inverse CDF has a closed form
//! ([`Dist::quantile_ns`]).
//!
//! ```
//! use sim_core::RngStream;
//! use sim_core::dist::{Dist, DistSpec};
//! let spec: DistSpec =
//!     serde_json::from_str(r#"{"lognormal": {"median": "5ms", "p99": "40ms"}}"#).unwrap();
//! let dist = Dist::from_spec(&spec).unwrap();
//! assert!((dist.quantile_ns(0.99).unwrap() - 40e6).abs() < 1.0);
//! let mut rng = RngStream::new(1, "service:app");
//! let ns: u64 = dist.sample(&mut rng);
//! assert!(ns > 0);
//! ```
//!
//! Moments and quantiles are those of the continuous distribution; a
//! sample is that value rounded to the nearest nanosecond (and clamped to
//! `u64`), which moves the mean by far less than a nanosecond.

mod empirical;
mod error;
mod schema;
pub mod serde_duration;
mod spec;
#[cfg(test)]
mod tests;

use rand_distr::{Distribution, StandardNormal};
use statrs::distribution::{ContinuousCDF, Normal as StdNormal};
use statrs::function::erf::erfc;
use statrs::function::gamma::gamma as gamma_fn;

use crate::rng::RngStream;
use crate::time::SimDuration;
use empirical::Table;

pub use empirical::{EmpiricalSpec, Percentile};
pub use error::DistError;
pub use spec::{DistSpec, LogNormalSpec, MixtureComponent};

/// z₀.₉₉, the 99th percentile of the standard normal distribution.
pub const Z_99: f64 = 2.326_347_874_040_840_8;

/// A validated latency distribution, ready to sample whole nanoseconds.
///
/// Build it from a file's [`DistSpec`] with [`Dist::from_spec`], or
/// directly with [`Dist::constant`] and [`Dist::exponential`].
#[derive(Clone, Debug)]
pub struct Dist(Kind);

/// The sampling-ready forms; all parameters in nanoseconds.
#[derive(Clone, Debug)]
enum Kind {
    Constant(u64),
    Exponential {
        mean: f64,
    },
    Uniform {
        min: f64,
        width: f64,
    },
    /// Normal(mean, sd) truncated to [0, ∞), with its moments precomputed.
    TruncNormal {
        mean: f64,
        sd: f64,
        /// P(untruncated draw >= 0) = Φ(mean/sd).
        keep: f64,
        t_mean: f64,
        t_var: f64,
    },
    LogNormal {
        d: rand_distr::LogNormal<f64>,
        mu: f64,
        sigma: f64,
    },
    Gamma {
        d: rand_distr::Gamma<f64>,
        shape: f64,
        scale: f64,
    },
    Pareto {
        scale: f64,
        shape: f64,
        inv_neg_shape: f64,
    },
    Weibull {
        scale: f64,
        shape: f64,
        inv_shape: f64,
    },
    Empirical(Table),
    Mixture {
        /// Normalised cumulative weights; the last is exactly 1.
        cum: Box<[f64]>,
        parts: Box<[Dist]>,
    },
}

/// Rounds a non-negative draw to whole nanoseconds. `as` saturates, so
/// draws beyond `u64::MAX` ns (584 years, only reachable by extreme
/// Pareto or lognormal tails) clamp to `u64::MAX`, and NaN gives 0.
#[inline]
fn to_ns(x: f64) -> u64 {
    (x + 0.5) as u64
}

/// A duration parameter that must be positive, as f64 nanoseconds.
fn positive(dist: &'static str, name: &str, d: SimDuration) -> Result<f64, DistError> {
    if d.0 == 0 {
        return Err(DistError::param(
            dist,
            format!("{name} ({d}) must be positive"),
        ));
    }
    Ok(d.0 as f64)
}

/// A dimensionless parameter that must be a finite positive number.
fn positive_number(dist: &'static str, name: &str, x: f64) -> Result<f64, DistError> {
    if !(x.is_finite() && x > 0.0) {
        return Err(DistError::param(
            dist,
            format!("{name} ({x}) must be a positive number"),
        ));
    }
    Ok(x)
}

/// Standard normal CDF.
fn phi_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal density.
fn phi_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

impl Dist {
    /// Validates a file's distribution and precomputes its sampler.
    ///
    /// The error names the distribution, the parameter and the rule, e.g.
    /// `lognormal: p99 (3ms) must be above the median (5ms)`.
    pub fn from_spec(spec: &DistSpec) -> Result<Dist, DistError> {
        let kind = match spec {
            DistSpec::Constant(d) => Kind::Constant(d.0),
            DistSpec::Exponential { mean } => Kind::Exponential {
                mean: positive("exponential", "mean", *mean)?,
            },
            DistSpec::Uniform { min, max } => {
                if min > max {
                    return Err(DistError::param(
                        "uniform",
                        format!("min ({min}) must not exceed max ({max})"),
                    ));
                }
                Kind::Uniform {
                    min: min.0 as f64,
                    width: (max.0 - min.0) as f64,
                }
            }
            DistSpec::Normal { mean, stddev } => {
                if stddev.0 == 0 {
                    Kind::Constant(mean.0)
                } else {
                    trunc_normal(mean.0 as f64, stddev.0 as f64)
                }
            }
            DistSpec::LogNormal(ln) => lognormal(ln)?,
            DistSpec::Gamma { mean, cv } => {
                let mean = positive("gamma", "mean", *mean)?;
                let cv = positive_number("gamma", "cv", *cv)?;
                gamma("gamma", 1.0 / (cv * cv), mean * cv * cv)?
            }
            DistSpec::Erlang { k, mean } => {
                if *k == 0 {
                    return Err(DistError::param(
                        "erlang",
                        "k (0) must be at least 1 (the number of exponential phases)",
                    ));
                }
                let mean = positive("erlang", "mean", *mean)?;
                gamma("erlang", f64::from(*k), mean / f64::from(*k))?
            }
            DistSpec::Pareto { scale, shape } => {
                let scale = positive("pareto", "scale", *scale)?;
                let shape = positive_number("pareto", "shape", *shape)?;
                Kind::Pareto {
                    scale,
                    shape,
                    inv_neg_shape: -1.0 / shape,
                }
            }
            DistSpec::Weibull { scale, shape } => {
                let scale = positive("weibull", "scale", *scale)?;
                let shape = positive_number("weibull", "shape", *shape)?;
                Kind::Weibull {
                    scale,
                    shape,
                    inv_shape: 1.0 / shape,
                }
            }
            DistSpec::Empirical(e) => Kind::Empirical(Table::new(e)?),
            DistSpec::Mixture(components) => return mixture(components),
        };
        Ok(Dist(kind))
    }

    /// Always `ns` nanoseconds.
    pub fn constant(ns: u64) -> Dist {
        Dist(Kind::Constant(ns))
    }

    /// Exponential with mean `mean_ns` nanoseconds; a mean of zero gives a
    /// constant zero.
    ///
    /// # Panics
    ///
    /// If `mean_ns` is negative, infinite or NaN: that is a bug in the
    /// caller, not a user input (files go through [`Dist::from_spec`]).
    pub fn exponential(mean_ns: f64) -> Dist {
        assert!(
            mean_ns.is_finite() && mean_ns >= 0.0,
            "exponential mean must be finite and non-negative, got {mean_ns}"
        );
        if mean_ns == 0.0 {
            Dist::constant(0)
        } else {
            Dist(Kind::Exponential { mean: mean_ns })
        }
    }

    /// Draws one value, in nanoseconds, rounded to the nearest nanosecond.
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> u64 {
        match &self.0 {
            Kind::Constant(ns) => *ns,
            Kind::Exponential { mean } => to_ns(-mean * rng.unit_open0().ln()),
            Kind::Uniform { min, width } => to_ns(min + width * rng.unit()),
            // mean >= 0, so at least half of the draws are kept: on
            // average fewer than two rounds.
            Kind::TruncNormal { mean, sd, .. } => loop {
                let z: f64 = StandardNormal.sample(rng);
                let x = mean + sd * z;
                if x >= 0.0 {
                    break to_ns(x);
                }
            },
            Kind::LogNormal { d, .. } => to_ns(d.sample(rng)),
            Kind::Gamma { d, .. } => to_ns(d.sample(rng)),
            Kind::Pareto {
                scale,
                inv_neg_shape,
                ..
            } => to_ns(scale * rng.unit_open0().powf(*inv_neg_shape)),
            Kind::Weibull {
                scale, inv_shape, ..
            } => to_ns(scale * (-rng.unit_open0().ln()).powf(*inv_shape)),
            Kind::Empirical(t) => to_ns(t.at(rng.unit())),
            Kind::Mixture { cum, parts } => {
                let u = rng.unit();
                // cum ends with 1 > u, so the index is always in range.
                let i = cum.partition_point(|&c| c <= u);
                parts[i].sample(rng)
            }
        }
    }

    /// Draws one value as a [`SimDuration`].
    #[inline]
    pub fn sample_duration(&self, rng: &mut RngStream) -> SimDuration {
        SimDuration(self.sample(rng))
    }

    /// The exact mean, ns. Infinite for a Pareto with shape ≤ 1 (and for a
    /// mixture containing one).
    pub fn mean_ns(&self) -> f64 {
        match &self.0 {
            Kind::Constant(ns) => *ns as f64,
            Kind::Exponential { mean } => *mean,
            Kind::Uniform { min, width } => min + width / 2.0,
            Kind::TruncNormal { t_mean, .. } => *t_mean,
            Kind::LogNormal { mu, sigma, .. } => (mu + sigma * sigma / 2.0).exp(),
            Kind::Gamma { shape, scale, .. } => shape * scale,
            Kind::Pareto { scale, shape, .. } => {
                if *shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale / (shape - 1.0)
                }
            }
            Kind::Weibull { scale, shape, .. } => scale * gamma_fn(1.0 + 1.0 / shape),
            Kind::Empirical(t) => t.mean(),
            Kind::Mixture { cum, parts } => weights(cum)
                .zip(parts.iter())
                .map(|(w, p)| w * p.mean_ns())
                .sum(),
        }
    }

    /// The exact variance, ns², or `None` where it is infinite (Pareto with
    /// shape ≤ 2, and mixtures containing one).
    pub fn variance_ns2(&self) -> Option<f64> {
        Some(match &self.0 {
            Kind::Constant(_) => 0.0,
            Kind::Exponential { mean } => mean * mean,
            Kind::Uniform { width, .. } => width * width / 12.0,
            Kind::TruncNormal { t_var, .. } => *t_var,
            Kind::LogNormal { mu, sigma, .. } => {
                let s2 = sigma * sigma;
                s2.exp_m1() * (2.0 * mu + s2).exp()
            }
            Kind::Gamma { shape, scale, .. } => shape * scale * scale,
            Kind::Pareto { scale, shape, .. } => {
                if *shape <= 2.0 {
                    return None;
                }
                scale * scale * shape / ((shape - 1.0) * (shape - 1.0) * (shape - 2.0))
            }
            Kind::Weibull { scale, shape, .. } => {
                let g1 = gamma_fn(1.0 + 1.0 / shape);
                let g2 = gamma_fn(1.0 + 2.0 / shape);
                scale * scale * (g2 - g1 * g1)
            }
            Kind::Empirical(t) => t.variance(),
            Kind::Mixture { cum, parts } => {
                // Law of total variance, about the overall mean.
                let m = self.mean_ns();
                let mut v = 0.0;
                for (w, p) in weights(cum).zip(parts.iter()) {
                    let d = p.mean_ns() - m;
                    v += w * (p.variance_ns2()? + d * d);
                }
                v
            }
        })
    }

    /// E\[X²\], ns²: variance plus squared mean, the term
    /// Pollaczek-Khinchine needs. `None` where it is infinite.
    pub fn second_moment_ns2(&self) -> Option<f64> {
        let m = self.mean_ns();
        self.variance_ns2().map(|v| v + m * m)
    }

    /// The value at quantile `q` in `[0, 1]`, ns, where the inverse CDF
    /// has a closed form: every kind except gamma, erlang and mixture.
    /// `None` for those and for `q` outside `[0, 1]`. Quantile 1 of an
    /// unbounded distribution is infinite.
    pub fn quantile_ns(&self, q: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&q) {
            return None;
        }
        Some(match &self.0 {
            Kind::Constant(ns) => *ns as f64,
            Kind::Exponential { mean } => -mean * (-q).ln_1p(),
            Kind::Uniform { min, width } => min + width * q,
            Kind::TruncNormal { mean, sd, keep, .. } => {
                // P(X <= x) = (Φ((x-mean)/sd) - (1-keep)) / keep; solved in
                // the upper-tail form Φ(-z) = keep·(1-q) for accuracy.
                mean - sd * StdNormal::standard().inverse_cdf(keep * (1.0 - q))
            }
            Kind::LogNormal { mu, sigma, .. } => {
                (mu + sigma * StdNormal::standard().inverse_cdf(q)).exp()
            }
            Kind::Gamma { .. } | Kind::Mixture { .. } => return None,
            Kind::Pareto {
                scale,
                inv_neg_shape,
                ..
            } => scale * (1.0 - q).powf(*inv_neg_shape),
            Kind::Weibull {
                scale, inv_shape, ..
            } => scale * (-(-q).ln_1p()).powf(*inv_shape),
            Kind::Empirical(t) => t.at(q),
        })
    }
}

impl TryFrom<&DistSpec> for Dist {
    type Error = DistError;
    fn try_from(spec: &DistSpec) -> Result<Dist, DistError> {
        Dist::from_spec(spec)
    }
}

/// Normal(mean, sd) truncated at 0, with the closed-form moments of a
/// normal truncated below at a = 0: with α = -mean/sd and
/// λ = φ(α)/(1 - Φ(α)), the mean is mean + sd·λ and the variance is
/// sd²·(1 + α·λ - λ²).
fn trunc_normal(mean: f64, sd: f64) -> Kind {
    let alpha = -mean / sd;
    let keep = phi_cdf(-alpha);
    let lambda = phi_pdf(alpha) / keep;
    Kind::TruncNormal {
        mean,
        sd,
        keep,
        t_mean: mean + sd * lambda,
        t_var: sd * sd * (1.0 + alpha * lambda - lambda * lambda),
    }
}

fn lognormal(spec: &LogNormalSpec) -> Result<Kind, DistError> {
    let (mu, sigma) = match spec {
        LogNormalSpec::MeanStddev { mean, stddev } => {
            let m = positive("lognormal", "mean", *mean)?;
            let cv = stddev.0 as f64 / m;
            let s2 = cv.mul_add(cv, 1.0).ln();
            (m.ln() - s2 / 2.0, s2.sqrt())
        }
        LogNormalSpec::MedianP99 { median, p99 } => {
            let m = positive("lognormal", "median", *median)?;
            if p99 <= median {
                return Err(DistError::param(
                    "lognormal",
                    format!("p99 ({p99}) must be above the median ({median})"),
                ));
            }
            (m.ln(), (p99.0 as f64 / m).ln() / Z_99)
        }
    };
    let d = rand_distr::LogNormal::new(mu, sigma)
        .map_err(|e| DistError::param("lognormal", e.to_string()))?;
    Ok(Kind::LogNormal { d, mu, sigma })
}

fn gamma(dist: &'static str, shape: f64, scale: f64) -> Result<Kind, DistError> {
    let d = rand_distr::Gamma::new(shape, scale)
        .map_err(|e| DistError::param(dist, format!("shape {shape} and scale {scale} ns: {e}")))?;
    Ok(Kind::Gamma { d, shape, scale })
}

fn mixture(components: &[MixtureComponent]) -> Result<Dist, DistError> {
    if components.is_empty() {
        return Err(DistError::param("mixture", "needs at least one component"));
    }
    let mut parts = Vec::with_capacity(components.len());
    let mut total = 0.0;
    for (index, c) in components.iter().enumerate() {
        if !(c.weight.is_finite() && c.weight > 0.0) {
            return Err(DistError::param(
                "mixture",
                format!(
                    "weight of mixture[{index}] ({}) must be a positive number",
                    c.weight
                ),
            ));
        }
        total += c.weight;
        parts.push(Dist::from_spec(&c.dist).map_err(|e| DistError::Component {
            index,
            error: Box::new(e),
        })?);
    }
    if parts.len() == 1 {
        return Ok(parts.pop().expect("one part"));
    }
    let mut acc = 0.0;
    let mut cum: Box<[f64]> = components
        .iter()
        .map(|c| {
            acc += c.weight;
            acc / total
        })
        .collect();
    *cum.last_mut().expect("non-empty") = 1.0;
    Ok(Dist(Kind::Mixture {
        cum,
        parts: parts.into_boxed_slice(),
    }))
}

/// The individual weights from cumulative ones.
fn weights(cum: &[f64]) -> impl Iterator<Item = f64> + '_ {
    cum.iter().scan(0.0, |prev, &c| {
        let w = c - *prev;
        *prev = c;
        Some(w)
    })
}
