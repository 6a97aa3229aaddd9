//! Why a distribution could not be built.

/// A distribution whose parameters make no sense. Every variant is fatal
/// for the scenario that contains it: nothing is sampled from an invalid
/// distribution. The message names the distribution, the parameter, its
/// value and the rule it breaks, in the terms of the scenario file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// A parameter is out of range, e.g. `lognormal: p99 (3ms) must be above
    /// the median (5ms)`.
    #[error("{dist}: {message}")]
    Parameter {
        /// The distribution kind as written in files (`"lognormal"`).
        dist: &'static str,
        /// Which parameter is wrong, its value, and the rule.
        message: String,
    },
    /// A `lognormal` was given a combination of fields other than
    /// (`mean`, `stddev`) or (`median`, `p99`).
    #[error(
        "lognormal: give either `mean` and `stddev`, or `median` and `p99` (got {})",
        if given.is_empty() { "no fields".to_string() } else { given.join(", ") }
    )]
    LogNormalFields {
        /// The fields that were given, in the order listed above.
        given: Vec<&'static str>,
    },
    /// A key of an `empirical` table is not `min`, `max` or a percentile.
    #[error("empirical: key `{key}` {reason}")]
    EmpiricalKey {
        /// The key as written.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A component of a `mixture` is invalid; `index` counts from 0, as in
    /// the path `mixture[1].dist`.
    #[error("mixture[{index}].dist: {error}")]
    Component {
        /// Position of the component in the list, from 0.
        index: usize,
        /// What is wrong with it.
        error: Box<DistError>,
    },
}

impl DistError {
    /// A [`DistError::Parameter`].
    pub(crate) fn param(dist: &'static str, message: impl Into<String>) -> Self {
        DistError::Parameter {
            dist,
            message: message.into(),
        }
    }
}
