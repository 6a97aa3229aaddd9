//! A gateway's token-bucket rate limiter in front of a balancer
//! (`load_balancers[].rate_limit`).

use serde::{Deserialize, Serialize};

use crate::kernel::resolve::{Path, Resolve};
use crate::model::KeyId;
use crate::scenario::ScenarioError;

/// A token bucket (Envoy's local rate limit, nginx `limit_req ... nodelay`,
/// an API gateway's usage plan): the bucket holds at most `burst` tokens
/// and gains `requests_per_second` tokens per second; a request takes one
/// token or, when the bucket is empty, is refused at once with HTTP 429.
/// With `key`, every value of the key (every user, every API key) has its
/// own bucket; without it one bucket serves everybody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained rate allowed, requests per second (per key value with
    /// `key`).
    pub requests_per_second: f64,
    /// Bucket size: requests allowed in a burst above the rate (default:
    /// one second's worth, at least 1).
    #[serde(default)]
    pub burst: Option<f64>,
    /// The request key whose values get a bucket each (a user id, an API
    /// key). Absent: one global bucket.
    #[serde(default)]
    pub key: Option<String>,
}

/// A resolved token-bucket rate limiter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitDef {
    /// Tokens gained per second.
    pub rate: f64,
    /// Bucket size, tokens (at least 1).
    pub burst: f64,
    /// One bucket per value of this key (None: one global bucket).
    pub key: Option<KeyId>,
}

/// Checks the rate limit (at `rp`) of balancer `lb` and resolves it.
pub fn resolve(
    r: &RateLimit,
    rp: &Path,
    lb: &str,
    cx: &Resolve<'_>,
) -> Result<RateLimitDef, ScenarioError> {
    if !(r.requests_per_second.is_finite() && r.requests_per_second > 0.0) {
        return Err(cx.err(
            &rp.k("requests_per_second"),
            "must be a positive number of requests per second",
        ));
    }
    let burst = match r.burst {
        Some(b) if !(b.is_finite() && b >= 1.0) => {
            return Err(cx.err(&rp.k("burst"), "must be at least 1 token (one request)"));
        }
        Some(b) => b,
        None => r.requests_per_second.max(1.0),
    };
    let key = match &r.key {
        Some(k) => Some(cx.key_drawn_by_senders(&rp.k("key"), lb, k)?),
        None => None,
    };
    Ok(RateLimitDef {
        rate: r.requests_per_second,
        burst,
        key,
    })
}
