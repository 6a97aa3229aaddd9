//! Streaming statistics in bounded memory.
//!
//! Nothing here keeps one entry per request: latencies go into HDR
//! histograms of fixed size, time-varying quantities into O(1)
//! time-weighted accumulators, and time series into a fixed number of
//! buckets.
//!
//! - [`LatencyHistogram`] / [`CoarseHistogram`]: latency distributions in
//!   integer nanoseconds (3 and 2 significant digits), summarised as a
//!   [`LatencySummary`].
//! - [`TimeWeighted`]: the time-average of a piecewise-constant value
//!   (queue length, busy workers).
//! - [`SeriesSpec`], [`CountSeries`], [`GaugeSeries`], [`LatencySeries`]:
//!   fixed-interval time series.
//! - [`Welford`]: streaming mean and variance; [`student_t_interval`]: a
//!   confidence interval across replications.

mod ci;
mod histogram;
mod series;
mod time_weighted;
mod welford;

pub use ci::{ConfidenceInterval, student_t_interval, welch_interval};
pub use histogram::{
    CDF_QUANTILES, CdfPoint, CoarseHistogram, CompactHistogram, DEFAULT_MAX_NS, HdrLatency,
    LatencyHistogram, LatencySummary,
};
pub use series::{CountSeries, GaugeSeries, LatencyPoint, LatencySeries, SeriesSpec};
pub use time_weighted::TimeWeighted;
pub use welford::Welford;
