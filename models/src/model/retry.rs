//! Retry policies as written: a workload's `retry` and a `call` step's.
//! Their resolution, the backoff and the budget are in
//! `kernel/retry.rs`.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::vocab::Fraction;

/// A retry policy (gRPC's `retryPolicy`, Envoy's `retry_policy`):
/// an attempt that fails in a way listed in `retry_on` is sent again after
/// a backoff, with the same keys and through the same path, until
/// `max_attempts` attempts were made or the budget refuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts in all, the first one included (gRPC `maxAttempts`): 3
    /// means the request and up to 2 retries. At least 1.
    pub max_attempts: u32,
    /// Waits between attempts (Envoy `retry_back_off`).
    #[serde(default)]
    pub backoff: Option<Backoff>,
    /// How the backoff is randomised (default `full`).
    #[serde(default)]
    pub jitter: Jitter,
    /// Which failures are retried (default `["timeout", "5xx"]`).
    #[serde(default)]
    pub retry_on: Option<Vec<RetryOn>>,
    /// A retry budget (Finagle's `RetryBudget`): retries are refused once
    /// they would exceed a fraction of recent requests.
    #[serde(default)]
    pub budget: Option<RetryBudget>,
}

/// Exponential backoff: the n-th retry waits up to
/// `min(max_interval, base_interval × multiplier^(n-1))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    /// The first retry's ceiling (default 25ms, as Envoy).
    #[serde(default)]
    pub base_interval: Option<SimDuration>,
    /// The largest ceiling (default 10 × `base_interval`, as Envoy).
    #[serde(default)]
    pub max_interval: Option<SimDuration>,
    /// Growth of the ceiling per retry (default 2, gRPC
    /// `backoffMultiplier`).
    #[serde(default)]
    pub multiplier: Option<f64>,
}

/// How a backoff is drawn below its ceiling (Marc Brooker, "Exponential
/// Backoff And Jitter", AWS Architecture Blog, 2015).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Exactly the ceiling: every client that failed together retries
    /// together.
    None,
    /// Uniform in `[0, ceiling]` (AWS's recommendation, Envoy's behaviour).
    #[default]
    Full,
    /// `ceiling / 2` plus uniform in `[0, ceiling / 2]`.
    Equal,
    /// Uniform in `[base_interval, 3 × previous wait]`, capped at
    /// `max_interval` (the first previous wait is `base_interval`).
    Decorrelated,
}

/// A failure a client may retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum RetryOn {
    /// The client's timeout expired.
    #[serde(rename = "timeout")]
    Timeout,
    /// Any 5xx: `502` and `503`.
    #[serde(rename = "5xx")]
    ServerError,
    /// HTTP 502: the pod crashed, or a database or cache it waited on
    /// failed.
    #[serde(rename = "502")]
    BadGateway,
    /// HTTP 503: refused by a full queue, a balancer's connection limit,
    /// or for lack of a ready pod.
    #[serde(rename = "503")]
    Unavailable,
    /// HTTP 429: refused by a rate limiter.
    #[serde(rename = "429")]
    TooManyRequests,
}

/// Finagle's `RetryBudget`: every request deposits one token, a retry
/// withdraws `1 / percent_can_retry` tokens, deposits expire after `ttl`,
/// and a reserve of `min_retries_per_sec × ttl` retries never expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBudget {
    /// Retries allowed per request over the last `ttl` (default 0.2; a
    /// number or a percentage such as "20%"; 0 to 10).
    #[serde(default)]
    pub percent_can_retry: Option<Fraction>,
    /// Retries allowed whatever the request rate, per second (default 10).
    #[serde(default)]
    pub min_retries_per_sec: Option<f64>,
    /// How long a deposit counts (default 10s; 1s to 60s).
    #[serde(default)]
    pub ttl: Option<SimDuration>,
}
