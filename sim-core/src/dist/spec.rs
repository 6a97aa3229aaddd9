//! [`DistSpec`]: a distribution as written in a scenario file.

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::empirical::EmpiricalSpec;
use super::{Dist, DistError, serde_duration};
use crate::time::SimDuration;

/// A latency distribution as written in a scenario file: every duration is
/// a string such as `"5ms"`. Turn it into a sampler with
/// [`Dist::from_spec`].
///
/// The file forms:
///
/// | JSON | meaning |
/// |---|---|
/// | `"5ms"` or `{"constant": "5ms"}` | always 5 ms |
/// | `{"exponential": {"mean": "20ms"}}` | exponential with mean 20 ms |
/// | `{"uniform": {"min": "1ms", "max": "3ms"}}` | uniform on [1 ms, 3 ms] |
/// | `{"normal": {"mean": "10ms", "stddev": "2ms"}}` | normal, truncated at 0 |
/// | `{"lognormal": {"mean": "10ms", "stddev": "5ms"}}` | lognormal by its moments |
/// | `{"lognormal": {"median": "5ms", "p99": "40ms"}}` | lognormal by two percentiles |
/// | `{"gamma": {"mean": "10ms", "cv": 0.5}}` | gamma by mean and coefficient of variation |
/// | `{"erlang": {"k": 3, "mean": "10ms"}}` | sum of `k` exponential phases |
/// | `{"pareto": {"scale": "1ms", "shape": 2.5}}` | Pareto with minimum 1 ms |
/// | `{"weibull": {"scale": "10ms", "shape": 1.5}}` | Weibull |
/// | `{"empirical": {"p50": "12ms", "p99": "80ms", "max": "200ms"}}` | a percentile table |
/// | `{"mixture": [{"weight": 0.9, "dist": ...}, ...]}` | a weighted mix |
///
/// Unknown kinds and unknown fields are rejected with serde's standard
/// messages (``unknown field `x`, expected one of ...``). Deserializing
/// also validates the parameters (it calls [`DistSpec::validate`]), so a
/// `DistSpec` read from a file always builds; a `DistSpec` built in code
/// is checked by [`Dist::from_spec`].
///
/// ```
/// use sim_core::SimDuration;
/// use sim_core::dist::{Dist, DistSpec};
/// let spec: DistSpec = serde_json::from_str(r#"{"exponential": {"mean": "20ms"}}"#).unwrap();
/// assert_eq!(spec, DistSpec::Exponential { mean: SimDuration::from_millis(20) });
/// assert_eq!(Dist::from_spec(&spec).unwrap().mean_ns(), 20e6);
/// let bare: DistSpec = serde_json::from_str(r#""5ms""#).unwrap();
/// assert_eq!(bare, DistSpec::Constant(SimDuration::from_millis(5)));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum DistSpec {
    /// Always the same value. Written as a bare string (`"5ms"`) or as
    /// `{"constant": "5ms"}`; serialized in the tagged form.
    Constant(SimDuration),
    /// Exponential (memoryless), e.g. think times and Poisson gaps.
    Exponential {
        /// Mean; must be positive.
        mean: SimDuration,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Smallest value.
        min: SimDuration,
        /// Largest value; at least `min`.
        max: SimDuration,
    },
    /// Normal, truncated at zero: negative draws are discarded and drawn
    /// again, so the actual mean is a little above `mean` when `stddev` is
    /// not small compared with `mean` (see [`Dist::mean_ns`]).
    Normal {
        /// Mean of the normal before truncation.
        mean: SimDuration,
        /// Standard deviation of the normal before truncation; zero makes
        /// the distribution a constant.
        stddev: SimDuration,
    },
    /// Lognormal, by its moments or by its median and 99th percentile.
    LogNormal(LogNormalSpec),
    /// Gamma by mean and coefficient of variation: shape = 1/cv²,
    /// scale = mean·cv².
    Gamma {
        /// Mean; must be positive.
        mean: SimDuration,
        /// Coefficient of variation (stddev / mean); must be positive.
        cv: f64,
    },
    /// Erlang: the sum of `k` exponential phases, i.e. gamma with integer
    /// shape `k`; cv = 1/√k.
    Erlang {
        /// Number of phases; at least 1.
        k: u32,
        /// Mean of the sum; must be positive.
        mean: SimDuration,
    },
    /// Pareto (heavy tail). Shape ≤ 1 has an infinite mean and shape ≤ 2
    /// an infinite variance.
    Pareto {
        /// Minimum value x_m; must be positive.
        scale: SimDuration,
        /// Tail index α; must be positive.
        shape: f64,
    },
    /// Weibull: shape < 1 has a heavier tail than exponential, shape 1 is
    /// exponential with mean `scale`, shape > 1 is lighter.
    Weibull {
        /// Scale λ; must be positive.
        scale: SimDuration,
        /// Shape k; must be positive.
        shape: f64,
    },
    /// A percentile table pasted from a dashboard, sampled by linear
    /// interpolation between the given points.
    Empirical(EmpiricalSpec),
    /// A weighted mixture: draw a component with probability proportional
    /// to its weight, then sample it.
    Mixture(Vec<MixtureComponent>),
}

/// The two ways to give a lognormal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LogNormalFields", into = "LogNormalFields")]
pub enum LogNormalSpec {
    /// `{"mean": ..., "stddev": ...}`: the mean and standard deviation of
    /// the values themselves (not of their logarithm).
    MeanStddev {
        /// Mean; must be positive.
        mean: SimDuration,
        /// Standard deviation; zero makes the distribution a constant.
        stddev: SimDuration,
    },
    /// `{"median": ..., "p99": ...}`: two percentiles, which people usually
    /// know. σ = ln(p99/median)/z₀.₉₉ with z₀.₉₉ = 2.3263478740408408 and
    /// μ = ln(median).
    MedianP99 {
        /// 50th percentile; must be positive.
        median: SimDuration,
        /// 99th percentile; must be above the median.
        p99: SimDuration,
    },
}

/// One component of a [`DistSpec::Mixture`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixtureComponent {
    /// Relative weight; must be positive. Weights are normalised, so
    /// `0.9`/`0.1` and `9`/`1` mean the same.
    pub weight: f64,
    /// The component distribution.
    pub dist: DistSpec,
}

impl DistSpec {
    /// Checks the parameters without keeping the sampler: the same checks
    /// as [`Dist::from_spec`].
    pub fn validate(&self) -> Result<(), DistError> {
        Dist::from_spec(self).map(drop)
    }

    /// The kind as written in files: `"exponential"`, `"lognormal"`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            DistSpec::Constant(_) => "constant",
            DistSpec::Exponential { .. } => "exponential",
            DistSpec::Uniform { .. } => "uniform",
            DistSpec::Normal { .. } => "normal",
            DistSpec::LogNormal(_) => "lognormal",
            DistSpec::Gamma { .. } => "gamma",
            DistSpec::Erlang { .. } => "erlang",
            DistSpec::Pareto { .. } => "pareto",
            DistSpec::Weibull { .. } => "weibull",
            DistSpec::Empirical(_) => "empirical",
            DistSpec::Mixture(_) => "mixture",
        }
    }
}

/// The externally tagged file form, derived so that serde writes the
/// standard messages for unknown kinds and fields. `remote` makes serde
/// generate `Tagged::serialize(&DistSpec, ..)` and
/// `Tagged::deserialize(..) -> DistSpec` from this copy of the variant
/// list; the hand-written impls on `DistSpec` add the bare-string form and
/// validation around them.
#[derive(Serialize, Deserialize)]
#[serde(remote = "DistSpec", rename_all = "snake_case", deny_unknown_fields)]
// Never constructed: serde only reads its shape.
#[allow(dead_code)]
enum Tagged {
    Constant(#[serde(with = "serde_duration")] SimDuration),
    Exponential {
        #[serde(with = "serde_duration")]
        mean: SimDuration,
    },
    Uniform {
        #[serde(with = "serde_duration")]
        min: SimDuration,
        #[serde(with = "serde_duration")]
        max: SimDuration,
    },
    Normal {
        #[serde(with = "serde_duration")]
        mean: SimDuration,
        #[serde(with = "serde_duration")]
        stddev: SimDuration,
    },
    #[serde(rename = "lognormal")]
    LogNormal(LogNormalSpec),
    Gamma {
        #[serde(with = "serde_duration")]
        mean: SimDuration,
        cv: f64,
    },
    Erlang {
        k: u32,
        #[serde(with = "serde_duration")]
        mean: SimDuration,
    },
    Pareto {
        #[serde(with = "serde_duration")]
        scale: SimDuration,
        shape: f64,
    },
    Weibull {
        #[serde(with = "serde_duration")]
        scale: SimDuration,
        shape: f64,
    },
    Empirical(EmpiricalSpec),
    Mixture(Vec<MixtureComponent>),
}

impl Serialize for DistSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Tagged::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for DistSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DistSpec, D::Error> {
        d.deserialize_any(SpecVisitor)
    }
}

struct SpecVisitor;

impl<'de> Visitor<'de> for SpecVisitor {
    type Value = DistSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a distribution: a duration string such as \"5ms\" (constant) or a map with one \
             kind such as {\"exponential\": {\"mean\": \"20ms\"}}",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DistSpec, E> {
        SimDuration::parse(v)
            .map(DistSpec::Constant)
            .map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DistSpec, A::Error> {
        let mut map = CountKeys {
            inner: map,
            keys: 0,
            empty: false,
        };
        let spec = match Tagged::deserialize(MapAccessDeserializer::new(&mut map)) {
            Ok(spec) => spec,
            // serde's own message for `{}` is "invalid type: map, expected enum".
            Err(_) if map.empty => {
                return Err(de::Error::custom(
                    "an empty map is not a distribution; give one kind such as \
                     {\"exponential\": {\"mean\": \"20ms\"}}",
                ));
            }
            Err(e) => return Err(e),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format_args!(
                "a distribution has exactly one kind, but `{}` has a second key `{extra}`",
                spec.kind()
            )));
        }
        spec.validate().map_err(de::Error::custom)?;
        Ok(spec)
    }
}

/// Passes a map through, noticing whether it was empty.
struct CountKeys<A> {
    inner: A,
    keys: usize,
    /// The first request for a key found the end of the map.
    empty: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CountKeys<A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let key = self.inner.next_key_seed(seed)?;
        self.empty |= self.keys == 0 && key.is_none();
        self.keys += usize::from(key.is_some());
        Ok(key)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Every field a lognormal may have; which ones are present decides the
/// [`LogNormalSpec`] variant.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogNormalFields {
    #[serde(
        default,
        with = "serde_duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    mean: Option<SimDuration>,
    #[serde(
        default,
        with = "serde_duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    stddev: Option<SimDuration>,
    #[serde(
        default,
        with = "serde_duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    median: Option<SimDuration>,
    #[serde(
        default,
        with = "serde_duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    p99: Option<SimDuration>,
}

impl TryFrom<LogNormalFields> for LogNormalSpec {
    type Error = DistError;

    fn try_from(f: LogNormalFields) -> Result<Self, DistError> {
        match f {
            LogNormalFields {
                mean: Some(mean),
                stddev: Some(stddev),
                median: None,
                p99: None,
            } => Ok(LogNormalSpec::MeanStddev { mean, stddev }),
            LogNormalFields {
                mean: None,
                stddev: None,
                median: Some(median),
                p99: Some(p99),
            } => Ok(LogNormalSpec::MedianP99 { median, p99 }),
            f => {
                let given = [
                    ("mean", f.mean.is_some()),
                    ("stddev", f.stddev.is_some()),
                    ("median", f.median.is_some()),
                    ("p99", f.p99.is_some()),
                ]
                .into_iter()
                .filter_map(|(name, present)| present.then_some(name))
                .collect();
                Err(DistError::LogNormalFields { given })
            }
        }
    }
}

impl From<LogNormalSpec> for LogNormalFields {
    fn from(s: LogNormalSpec) -> Self {
        match s {
            LogNormalSpec::MeanStddev { mean, stddev } => LogNormalFields {
                mean: Some(mean),
                stddev: Some(stddev),
                median: None,
                p99: None,
            },
            LogNormalSpec::MedianP99 { median, p99 } => LogNormalFields {
                mean: None,
                stddev: None,
                median: Some(median),
                p99: Some(p99),
            },
        }
    }
}
