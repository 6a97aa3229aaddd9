//! Retry policies as written (`workloads[].retry`, a `call` step's
//! `retry`) and resolved: which outcomes are retried, the backoff between
//! attempts and Finagle's retry budget. Clients and service calls share it.

use sim_core::{RngStream, SimDuration};

use crate::kernel::outcome::{Failure, Outcome};
use crate::kernel::resolve::{Path, Resolve};
pub use crate::model::retry::{Backoff, Jitter, Retry, RetryOn};
use crate::scenario::ScenarioError;

/// A resolved retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryDef {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// First retry's backoff ceiling, ns.
    pub base_interval: u64,
    /// Largest backoff ceiling, ns.
    pub max_interval: u64,
    /// Growth of the ceiling per retry.
    pub multiplier: f64,
    /// How the wait is drawn below the ceiling.
    pub jitter: Jitter,
    /// Retried: client timeouts.
    pub on_timeout: bool,
    /// Retried: HTTP 502 (aborted).
    pub on_502: bool,
    /// Retried: HTTP 503 (rejected).
    pub on_503: bool,
    /// Retried: HTTP 429 (rate limited).
    pub on_429: bool,
    /// Retry budget.
    pub budget: Option<BudgetDef>,
}

/// A resolved retry budget (Finagle `RetryBudget`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetDef {
    /// Retries per request over the last `ttl`.
    pub percent_can_retry: f64,
    /// Retries always allowed, per second.
    pub min_retries_per_sec: f64,
    /// How long a deposit counts, ns.
    pub ttl: u64,
}

impl RetryDef {
    /// Whether an attempt that ended with `outcome` is retried (when
    /// attempts and the budget allow).
    #[inline]
    pub fn retries(&self, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Ok { .. } => false,
            Outcome::Timeout | Outcome::Failed(Failure::TimedOut) => self.on_timeout,
            Outcome::Failed(Failure::Rejected) => self.on_503,
            Outcome::Failed(Failure::Aborted) => self.on_502,
            Outcome::Failed(Failure::RateLimited) => self.on_429,
        }
    }
}

/// Most attempts of a retry policy.
pub const MAX_ATTEMPTS: u32 = 100;

/// A retry policy, written at `p`.
pub fn resolve(cx: &Resolve<'_>, p: &Path, r: &Retry) -> Result<RetryDef, ScenarioError> {
    if r.max_attempts == 0 || r.max_attempts > MAX_ATTEMPTS {
        return Err(cx.err(
            &p.k("max_attempts"),
            format!(
                "max_attempts counts the first attempt too: 1 to {MAX_ATTEMPTS}, got {}",
                r.max_attempts
            ),
        ));
    }
    let bp = p.k("backoff");
    let b = r.backoff.clone().unwrap_or(Backoff {
        base_interval: None,
        max_interval: None,
        multiplier: None,
    });
    let base = b.base_interval.map_or(25_000_000, |d| d.0);
    if base == 0 {
        return Err(cx.err(&bp.k("base_interval"), "the base interval must be positive"));
    }
    let max = b.max_interval.map_or(base.saturating_mul(10), |d| d.0);
    if max < base {
        return Err(cx.err(
            &bp.k("max_interval"),
            format!(
                "the largest backoff ({}) is below the base interval ({})",
                SimDuration(max),
                SimDuration(base)
            ),
        ));
    }
    let multiplier = b.multiplier.unwrap_or(2.0);
    if !(multiplier.is_finite() && multiplier >= 1.0) {
        return Err(cx.err(
            &bp.k("multiplier"),
            format!("the multiplier must be a finite number >= 1, got {multiplier}"),
        ));
    }
    let on = r
        .retry_on
        .clone()
        .unwrap_or(vec![RetryOn::Timeout, RetryOn::ServerError]);
    let has = |x: RetryOn| on.contains(&x);
    let budget = match &r.budget {
        None => None,
        Some(b) => {
            let bp = p.k("budget");
            let pct = b.percent_can_retry.map_or(0.2, |f| f.0);
            if !(pct.is_finite() && (0.0..=10.0).contains(&pct)) {
                return Err(cx.err(
                    &bp.k("percent_can_retry"),
                    format!("percent_can_retry must be 0 to 10 retries per request (0% to 1000%), got {pct}"),
                ));
            }
            let min = b.min_retries_per_sec.unwrap_or(10.0);
            if !(min.is_finite() && min >= 0.0) {
                return Err(cx.err(
                    &bp.k("min_retries_per_sec"),
                    format!("min_retries_per_sec must be a finite number >= 0, got {min}"),
                ));
            }
            let ttl = b.ttl.map_or(10_000_000_000, |d| d.0);
            if !(1_000_000_000..=60_000_000_000).contains(&ttl) {
                return Err(cx.err(
                    &bp.k("ttl"),
                    format!("the ttl must be 1s to 60s, got {}", SimDuration(ttl)),
                ));
            }
            Some(BudgetDef {
                percent_can_retry: pct,
                min_retries_per_sec: min,
                ttl,
            })
        }
    };
    Ok(RetryDef {
        max_attempts: r.max_attempts,
        base_interval: base,
        max_interval: max,
        multiplier,
        jitter: r.jitter,
        on_timeout: has(RetryOn::Timeout),
        on_502: has(RetryOn::ServerError) || has(RetryOn::BadGateway),
        on_503: has(RetryOn::ServerError) || has(RetryOn::Unavailable),
        on_429: has(RetryOn::TooManyRequests),
        budget,
    })
}

/// Finagle's token retry budget over a sliding window of 10 slices.
#[derive(Debug, Clone)]
pub struct Budget {
    slice: u64,
    /// Index of the current slice (time / slice).
    cur: u64,
    slices: [i64; 10],
    reserve: i64,
    withdrawal: i64,
    /// Units a request deposits: [`DEPOSIT`], or 0 when no percentage may
    /// retry (only the reserve pays, as Finagle's budget at 0%).
    deposit: i64,
}

/// Units a call deposits (Finagle's scale factor).
const DEPOSIT: i64 = 1000;

impl Budget {
    pub fn new(d: &BudgetDef) -> Self {
        let (withdrawal, deposit) = if d.percent_can_retry == 0.0 {
            (DEPOSIT, 0)
        } else {
            ((DEPOSIT as f64 / d.percent_can_retry) as i64, DEPOSIT)
        };
        Budget {
            slice: (d.ttl / 10).max(1),
            cur: 0,
            slices: [0; 10],
            reserve: (d.min_retries_per_sec * d.ttl as f64 / 1e9 * withdrawal as f64) as i64,
            withdrawal,
            deposit,
        }
    }

    /// Expires the slices older than the window ending at `now`.
    fn advance(&mut self, now: u64) {
        let s = now / self.slice;
        if s > self.cur {
            for k in 1..=(s - self.cur).min(10) {
                self.slices[((self.cur + k) % 10) as usize] = 0;
            }
            self.cur = s;
        }
    }

    pub fn deposit(&mut self, now: u64) {
        self.advance(now);
        self.slices[(self.cur % 10) as usize] += self.deposit;
    }

    /// Takes one retry's worth if the balance allows.
    pub fn try_withdraw(&mut self, now: u64) -> bool {
        self.advance(now);
        let balance = self.slices.iter().sum::<i64>() + self.reserve;
        if balance >= self.withdrawal {
            self.slices[(self.cur % 10) as usize] -= self.withdrawal;
            true
        } else {
            false
        }
    }
}

/// The n-th retry's backoff (n ≥ 1), ns; `sleep` is the previous one.
pub fn backoff(r: &RetryDef, n: u32, sleep: &mut u64, rng: Option<&mut RngStream>) -> u64 {
    let base = r.base_interval as f64;
    let max = r.max_interval as f64;
    let ceiling = (base * r.multiplier.powi(n.saturating_sub(1) as i32)).min(max);
    let mut rng = rng;
    let mut u = || {
        rng.as_deref_mut()
            .expect("a backoff stream for a jittered backoff")
            .unit()
    };
    let wait = match r.jitter {
        Jitter::None => ceiling,
        Jitter::Full => u() * ceiling,
        Jitter::Equal => ceiling / 2.0 + u() * ceiling / 2.0,
        Jitter::Decorrelated => {
            let hi = (*sleep as f64 * 3.0).max(base);
            (base + u() * (hi - base)).min(max)
        }
    };
    *sleep = wait.round() as u64;
    *sleep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: Jitter) -> RetryDef {
        RetryDef {
            max_attempts: 10,
            base_interval: 25_000_000,
            max_interval: 250_000_000,
            multiplier: 2.0,
            jitter,
            on_timeout: true,
            on_502: true,
            on_503: true,
            on_429: false,
            budget: None,
        }
    }

    /// Without jitter the ceilings double from the base up to the cap.
    #[test]
    fn backoff_ceilings_double_up_to_the_cap() {
        let r = policy(Jitter::None);
        let mut sleep = 0;
        let waits: Vec<u64> = (1..=6).map(|n| backoff(&r, n, &mut sleep, None)).collect();
        let ms = 1_000_000;
        assert_eq!(
            waits,
            [25 * ms, 50 * ms, 100 * ms, 200 * ms, 250 * ms, 250 * ms]
        );
    }

    /// Full jitter: uniform under the ceiling, so the mean of the n-th
    /// retry's wait is half its ceiling. 100,000 draws of U(0, c) have a
    /// mean within c/sqrt(12 x 1e5) x 5 = 0.5% of c of c/2 (5 sd); equal
    /// jitter stays in [c/2, c] with mean 3c/4; decorrelated stays in
    /// [base, min(max, 3 x previous)].
    #[test]
    fn jitters_stay_in_their_ranges_with_their_means() {
        let n = 100_000;
        let mut rng = RngStream::new(5, "backoff");
        for (jitter, lo, hi, mean) in [
            (Jitter::Full, 0.0, 1.0, 0.5),
            (Jitter::Equal, 0.5, 1.0, 0.75),
        ] {
            let r = policy(jitter);
            for retry in [1, 3, 5] {
                let c = (25e6 * 2f64.powi(retry as i32 - 1)).min(250e6);
                let mut sum = 0.0;
                for _ in 0..n {
                    let w = backoff(&r, retry, &mut 0, Some(&mut rng)) as f64;
                    assert!(w >= lo * c - 1.0 && w <= hi * c + 1.0, "{jitter:?} {w}");
                    sum += w;
                }
                let m = sum / f64::from(n) / c;
                assert!(
                    (m - mean).abs() < 0.005,
                    "{jitter:?} retry {retry}: mean {m} c"
                );
            }
        }
        let r = policy(Jitter::Decorrelated);
        let mut sleep = r.base_interval;
        for _ in 0..n {
            let prev = sleep;
            let w = backoff(&r, 1, &mut sleep, Some(&mut rng));
            let hi = (3 * prev).max(r.base_interval).min(r.max_interval);
            assert!(w >= r.base_interval && w <= hi, "{w} after {prev}");
        }
    }

    /// The budget allows `percent_can_retry` retries per deposit plus the
    /// reserve, and forgets deposits after the ttl.
    #[test]
    fn the_budget_allows_its_percentage_plus_the_reserve() {
        let s = 1_000_000_000;
        let mut b = Budget::new(&BudgetDef {
            percent_can_retry: 0.2,
            min_retries_per_sec: 1.0,
            ttl: 10 * s,
        });
        // Reserve: 1/s x 10s = 10 retries with no request at all.
        assert_eq!((0..50).filter(|_| b.try_withdraw(0)).count(), 10);
        // 100 requests: 20 more.
        for _ in 0..100 {
            b.deposit(s);
        }
        assert_eq!((0..50).filter(|_| b.try_withdraw(s)).count(), 20);
        // 10s later the deposits and withdrawals have expired: the reserve
        // is whole again, the deposits gone.
        assert_eq!((0..50).filter(|_| b.try_withdraw(12 * s)).count(), 10);
    }

    /// At 0% only the reserve pays for retries, however many requests
    /// deposit.
    #[test]
    fn a_zero_percent_budget_allows_the_reserve_only() {
        let s = 1_000_000_000;
        for (min, want) in [(0.0, 0), (2.0, 20)] {
            let mut b = Budget::new(&BudgetDef {
                percent_can_retry: 0.0,
                min_retries_per_sec: min,
                ttl: 10 * s,
            });
            for _ in 0..10_000 {
                b.deposit(s);
            }
            assert_eq!((0..100).filter(|_| b.try_withdraw(s)).count(), want);
        }
    }
}

/// The refusal table (`tests` above checks the backoff and the budget).
#[cfg(test)]
mod refusals {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{accepted, assert_refused, base, changed, merged};

    /// What a retry policy refuses: attempts out of range, unknown jitters
    /// and failures, bad backoffs and budgets.
    #[test]
    fn refusals() {
        let retry = |fields: Value| merged(&json!({ "max_attempts": 3 }), fields);
        let budget = |b: Value| retry(json!({ "budget": b }));
        let backoff = |b: Value| retry(json!({ "backoff": b }));
        assert_refused(
            &base(),
            vec![
                (
                    "/workloads/0/retry",
                    json!({ "max_attempts": 0 }),
                    "workloads[0].retry.max_attempts: max_attempts counts the first attempt too: 1 to 100, got 0",
                ),
                (
                    "/workloads/0/retry",
                    json!({ "max_attempts": 101 }),
                    "workloads[0].retry.max_attempts: max_attempts counts the first attempt too: 1 to 100, got 101",
                ),
                (
                    "/workloads/0/retry",
                    retry(json!({ "jitter": "fulll" })),
                    "workloads[0].retry.jitter: unknown variant `fulll`",
                ),
                (
                    "/workloads/0/retry",
                    retry(json!({ "retry_on": ["500"] })),
                    "workloads[0].retry.retry_on[0]: unknown variant `500`",
                ),
                (
                    "/workloads/0/retry",
                    backoff(json!({ "base_interval": "0s" })),
                    "workloads[0].retry.backoff.base_interval: the base interval must be positive",
                ),
                (
                    "/workloads/0/retry",
                    backoff(json!({ "base_interval": "1s", "max_interval": "10ms" })),
                    "workloads[0].retry.backoff.max_interval: the largest backoff (10ms) is below the base interval (1s)",
                ),
                (
                    "/workloads/0/retry",
                    backoff(json!({ "multiplier": 0.5 })),
                    "workloads[0].retry.backoff.multiplier: the multiplier must be a finite number >= 1, got 0.5",
                ),
                (
                    "/workloads/0/retry",
                    budget(json!({ "percent_can_retry": 11 })),
                    "workloads[0].retry.budget.percent_can_retry: percent_can_retry must be 0 to 10 retries per request (0% to 1000%), got 11",
                ),
                (
                    "/workloads/0/retry",
                    budget(json!({ "percent_can_retry": "-5%" })),
                    "workloads[0].retry.budget.percent_can_retry: percent_can_retry must be 0 to 10 retries per request (0% to 1000%), got -0.05",
                ),
                (
                    "/workloads/0/retry",
                    budget(json!({ "min_retries_per_sec": -1 })),
                    "workloads[0].retry.budget.min_retries_per_sec: min_retries_per_sec must be a finite number >= 0, got -1",
                ),
                (
                    "/workloads/0/retry",
                    budget(json!({ "ttl": "100ms" })),
                    "workloads[0].retry.budget.ttl: the ttl must be 1s to 60s, got 100ms",
                ),
                (
                    "/workloads/0/retry",
                    budget(json!({ "ttl": "61s" })),
                    "workloads[0].retry.budget.ttl: the ttl must be 1s to 60s, got 61s",
                ),
            ],
        );
    }

    /// The smallest and a fully written policy load.
    #[test]
    fn good_policies_load() {
        for retry in [
            json!({ "max_attempts": 1 }),
            json!({ "max_attempts": 4, "jitter": "none", "retry_on": ["timeout", "502", "503", "429"],
                    "backoff": { "base_interval": "100ms", "max_interval": "2s", "multiplier": 3 },
                    "budget": {} }),
        ] {
            accepted(&changed(&base(), &[("/workloads/0/retry", retry)]));
        }
    }
}
