//! A gateway's token-bucket rate limiter in front of a balancer
//! (`load_balancers[].rate_limit`), and the HTTP 429 it answers with.
//!
//! A bucket holds at most `burst` tokens and gains `rate` tokens per second;
//! a request takes a token or is refused at once. Buckets are refilled
//! lazily, when a request comes: `tokens = min(burst, tokens + elapsed ×
//! rate)`. Per-key buckets are created full on a key value's first request
//! and dropped once they would be full again (idle for `burst / rate`),
//! because a full bucket and a new one behave the same: memory follows the
//! keys active in the last `burst / rate` seconds, not the run length.

use std::collections::HashMap;

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// One token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// When `tokens` was last brought up to date, ns.
    at: u64,
}

/// The buckets of one limiter.
#[derive(Debug, Clone)]
pub struct Limiter {
    per_ns: f64,
    burst: f64,
    global: Bucket,
    per_key: HashMap<u64, Bucket>,
    /// Size of `per_key` at which refilled buckets are dropped next.
    prune_at: usize,
}

impl Limiter {
    /// A limiter with full buckets at time 0.
    pub fn new(def: &RateLimitDef) -> Self {
        Limiter {
            per_ns: def.rate / 1e9,
            burst: def.burst,
            global: Bucket {
                tokens: def.burst,
                at: 0,
            },
            per_key: HashMap::new(),
            prune_at: 4096,
        }
    }

    /// Takes a token at `now` from the bucket of `value` (the global one
    /// when None); false when there is none to take.
    pub fn admit(&mut self, now: u64, value: Option<u64>) -> bool {
        let (per_ns, burst) = (self.per_ns, self.burst);
        let b = match value {
            None => &mut self.global,
            Some(v) => {
                if self.per_key.len() >= self.prune_at {
                    // A bucket idle this long is full again: as good as new.
                    let refill = (burst / per_ns).ceil() as u64;
                    self.per_key.retain(|_, b| now - b.at < refill);
                    self.prune_at = (2 * self.per_key.len()).max(4096);
                }
                self.per_key.entry(v).or_insert(Bucket {
                    tokens: burst,
                    at: now,
                })
            }
        };
        b.tokens = (b.tokens + (now - b.at) as f64 * per_ns).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    /// A full bucket lets `burst` requests through at once, then one per
    /// 1/rate; an idle bucket refills to `burst` and no further.
    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let mut l = Limiter::new(&RateLimitDef {
            rate: 10.0,
            burst: 5.0,
            key: None,
        });
        let through = (0..8).filter(|_| l.admit(0, None)).count();
        assert_eq!(through, 5);
        assert!(!l.admit(S / 20, None), "half a token after 50ms");
        assert!(l.admit(S / 10, None), "a token after 100ms");
        // An hour idle: still only `burst` in a row.
        let through = (0..8).filter(|_| l.admit(3600 * S, None)).count();
        assert_eq!(through, 5);
    }

    /// Per-key buckets are independent; dropping refilled buckets changes
    /// nothing a request can see.
    #[test]
    fn keys_have_their_own_buckets_and_pruning_is_invisible() {
        let def = RateLimitDef {
            rate: 1.0,
            burst: 2.0,
            key: Some(0),
        };
        let mut l = Limiter::new(&def);
        assert!(l.admit(0, Some(1)) && l.admit(0, Some(1)));
        assert!(!l.admit(0, Some(1)));
        assert!(l.admit(0, Some(2)), "another user has a full bucket");
        // 10,000 users one millisecond apart from 10 s on: the table is
        // pruned as it grows (buckets idle for 2 s are full again) ...
        for u in 10..10_010u64 {
            assert!(l.admit(10 * S + u * S / 1000, Some(u)));
        }
        assert!(l.per_key.len() < 5_000, "{} buckets kept", l.per_key.len());
        // ... and user 1, pruned or not, finds a full bucket of 2.
        assert!(l.admit(30 * S, Some(1)) && l.admit(30 * S, Some(1)));
        assert!(!l.admit(30 * S, Some(1)));
    }
}

/// The refusal table (`tests` above checks the buckets).
#[cfg(test)]
mod refusals {
    use serde_json::json;

    use crate::system::compile::testing::{assert_refused, base, bots, changed};

    /// What a rate limit refuses: no rate, a bucket below one token, a key
    /// no workload draws, or one that a workload sending here does not.
    #[test]
    fn refusals() {
        let b = changed(&base(), &[("/workloads/1", bots())]);
        let limit = "/load_balancers/0/rate_limit";
        assert_refused(
            &b,
            vec![
                (
                    limit,
                    json!({ "requests_per_second": 0 }),
                    "load_balancers[0].rate_limit.requests_per_second: must be a positive number of requests per second",
                ),
                (
                    limit,
                    json!({ "requests_per_second": 10, "burst": 0.5 }),
                    "load_balancers[0].rate_limit.burst: must be at least 1 token (one request)",
                ),
                (
                    limit,
                    json!({ "requests_per_second": 10, "key": "user" }),
                    "load_balancers[0].rate_limit.key: no key drawn by any workload named `user` (known: user_id, item_id)",
                ),
                (
                    limit,
                    json!({ "requests_per_second": 10, "key": "item_id" }),
                    "load_balancers[0].rate_limit.key: workload `bots` sends requests here but does not draw `item_id`",
                ),
                (
                    limit,
                    json!({ "rps": 10 }),
                    "load_balancers[0].rate_limit.rps: unknown field `rps`",
                ),
            ],
        );
    }
}
