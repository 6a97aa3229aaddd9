//! A call step's circuit breaker: Resilience4j's count-based breaker.
//!
//! - **Closed.** Every attempt's outcome goes into a ring of the last
//!   `window`; once `minimum_calls` are recorded, a failure rate (failed
//!   attempts — timeouts, 5xx, 429 — over recorded ones) at or above
//!   `failure_rate_threshold` opens the breaker.
//! - **Open** for `open_for`: attempts fail at once without reaching the
//!   callee (`short_circuited`; the caller sees a 503, not retried).
//! - **Half-open**: the first attempt after `open_for` moves it there; it
//!   lets `half_open_calls` probes through and short-circuits the rest.
//!   Once every probe has ended, their failure rate closes it (the ring
//!   starts empty) or opens it again.
//!
//! Transitions happen when an attempt asks or ends (Resilience4j's
//! default, without a timer), so an idle breaker stays open past
//! `open_for` until the next attempt; the time open is counted up to the
//! end of `open_for`.

use serde::{Deserialize, Serialize};
use sim_core::{SimDuration, SimTime};

use crate::kernel::resolve::{Path, Resolve};
use crate::model::steps::CircuitBreaker;
use crate::scenario::ScenarioError;

/// Largest `window`.
pub const MAX_WINDOW: u32 = 100_000;

/// A resolved circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerDef {
    /// Opens at this failure rate or above.
    pub threshold: f64,
    /// Attempts the rate is computed over.
    pub window: u32,
    /// Attempts recorded before the rate is judged.
    pub minimum_calls: u32,
    /// Time open before probes.
    pub open_for: SimDuration,
    /// Probes when half-open.
    pub half_open_calls: u32,
}

/// Resolves the `circuit_breaker` at `p`.
pub fn resolve(
    cx: &Resolve<'_>,
    p: &Path,
    b: &CircuitBreaker,
) -> Result<BreakerDef, ScenarioError> {
    let threshold = b.failure_rate_threshold.map_or(0.5, |f| f.0);
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(cx.err(
            &p.k("failure_rate_threshold"),
            format!("a failure rate threshold is above 0 and at most 1 (100%), got {threshold}"),
        ));
    }
    let window = b.window.unwrap_or(100);
    if window == 0 || window > MAX_WINDOW {
        return Err(cx.err(
            &p.k("window"),
            format!("the window is 1 to {MAX_WINDOW} attempts, got {window}"),
        ));
    }
    let minimum_calls = b.minimum_calls.unwrap_or(20.min(window));
    if minimum_calls == 0 || minimum_calls > window {
        return Err(cx.err(
            &p.k("minimum_calls"),
            format!("minimum_calls is 1 to the window ({window}), got {minimum_calls}"),
        ));
    }
    let open_for = b.open_for.unwrap_or(SimDuration::from_secs(60));
    if open_for == SimDuration::ZERO {
        return Err(cx.err(&p.k("open_for"), "the time open must be positive"));
    }
    let half_open_calls = b.half_open_calls.unwrap_or(10);
    if half_open_calls == 0 || half_open_calls > MAX_WINDOW {
        return Err(cx.err(
            &p.k("half_open_calls"),
            format!("half_open_calls is 1 to {MAX_WINDOW}, got {half_open_calls}"),
        ));
    }
    Ok(BreakerDef {
        threshold,
        window,
        minimum_calls,
        open_for,
        half_open_calls,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open {
        since: SimTime,
    },
    HalfOpen {
        let_through: u32,
        ended: u32,
        failed: u32,
    },
}

/// A breaker's state in a run.
#[derive(Debug, Clone)]
pub struct Breaker {
    def: BreakerDef,
    state: State,
    /// The last `window` outcomes while closed (true: failed).
    ring: Vec<bool>,
    next: usize,
    failures: u32,
    /// Times it opened.
    pub opened: u64,
    /// Time open, ns, over the whole run.
    open_ns: u64,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(def: BreakerDef) -> Self {
        Breaker {
            def,
            state: State::Closed,
            ring: Vec::with_capacity(def.window as usize),
            next: 0,
            failures: 0,
            opened: 0,
            open_ns: 0,
        }
    }

    /// May an attempt go out now? (An open breaker past `open_for` turns
    /// half-open and lets it through as a probe.)
    pub fn permit(&mut self, now: SimTime) -> bool {
        if let State::Open { since } = self.state {
            if now < since + self.def.open_for {
                return false;
            }
            self.open_ns += self.def.open_for.0;
            self.state = State::HalfOpen {
                let_through: 0,
                ended: 0,
                failed: 0,
            };
        }
        match &mut self.state {
            State::Closed => true,
            State::HalfOpen { let_through, .. } => {
                let ok = *let_through < self.def.half_open_calls;
                *let_through += u32::from(ok);
                ok
            }
            State::Open { .. } => unreachable!("left above"),
        }
    }

    /// An attempt that went out ended now, failed or not.
    pub fn record(&mut self, failed: bool, now: SimTime) {
        match &mut self.state {
            // Attempts sent before it opened end while it is open: not
            // recorded.
            State::Open { .. } => {}
            State::Closed => {
                let w = self.def.window as usize;
                if self.ring.len() < w {
                    self.ring.push(failed);
                } else {
                    self.failures -= u32::from(self.ring[self.next]);
                    self.ring[self.next] = failed;
                    self.next = (self.next + 1) % w;
                }
                self.failures += u32::from(failed);
                let n = self.ring.len() as u32;
                if n >= self.def.minimum_calls
                    && f64::from(self.failures) >= self.def.threshold * f64::from(n)
                {
                    self.open(now);
                }
            }
            State::HalfOpen {
                let_through,
                ended,
                failed: f,
            } => {
                *ended += 1;
                *f += u32::from(failed);
                if *ended >= *let_through && *let_through >= self.def.half_open_calls {
                    if f64::from(*f) >= self.def.threshold * f64::from(*ended) {
                        self.open(now);
                    } else {
                        self.state = State::Closed;
                        self.ring.clear();
                        self.next = 0;
                        self.failures = 0;
                    }
                }
            }
        }
    }

    fn open(&mut self, now: SimTime) {
        self.state = State::Open { since: now };
        self.opened += 1;
    }

    /// Time open over the run, up to `end`, seconds.
    pub fn open_s(&self, end: SimTime) -> f64 {
        let tail = match self.state {
            State::Open { since } => (end - since).min(self.def.open_for).0,
            _ => 0,
        };
        (self.open_ns + tail) as f64 / 1e9
    }
}

/// A breaker's figures in its call's entry of the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BreakerResult {
    /// Attempts failed at once by the open (or saturated half-open)
    /// breaker, measured period.
    pub short_circuited: u64,
    /// Times it opened (whole run).
    pub opened: u64,
    /// Time it spent open (whole run), seconds.
    pub open_s: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> BreakerDef {
        BreakerDef {
            threshold: 0.5,
            window: 10,
            minimum_calls: 4,
            open_for: SimDuration(100),
            half_open_calls: 2,
        }
    }

    /// Closed until the window's failure rate reaches the threshold (not
    /// before `minimum_calls`), open for `open_for`, half-open for two
    /// probes, closed again when they succeed, open again when they fail.
    #[test]
    fn the_breaker_follows_resilience4j() {
        let mut b = Breaker::new(def());
        let t = SimTime;
        for failed in [true, true, true] {
            assert!(b.permit(t(0)));
            b.record(failed, t(0));
        }
        assert!(
            b.permit(t(0)),
            "3 of 3 failed, but fewer than minimum_calls"
        );
        // 3 failures of 4 recorded >= 50%: opened at t = 1.
        b.record(false, t(1));
        assert!(!b.permit(t(2)) && !b.permit(t(100)));
        assert_eq!(b.opened, 1);
        // Half-open at 101: two probes, the third is refused.
        assert!(b.permit(t(101)) && b.permit(t(101)) && !b.permit(t(101)));
        b.record(true, t(102));
        b.record(true, t(103));
        assert!(!b.permit(t(104)), "both probes failed: open again");
        assert_eq!(b.opened, 2);
        assert!(b.permit(t(203)) && b.permit(t(203)));
        b.record(false, t(204));
        b.record(false, t(205));
        assert!(
            b.permit(t(206)) && b.permit(t(206)) && b.permit(t(206)),
            "closed"
        );
        assert_eq!(b.open_s(t(300)), 200.0 / 1e9);
    }

    /// The ring forgets the oldest outcome: with a window of 10, old
    /// failures pushed out by successes do not count.
    #[test]
    fn old_outcomes_leave_the_window() {
        let mut b = Breaker::new(BreakerDef {
            minimum_calls: 10,
            ..def()
        });
        let t = SimTime(0);
        for _ in 0..4 {
            b.record(true, t);
        }
        for _ in 0..20 {
            b.record(false, t);
        }
        for _ in 0..4 {
            b.record(true, t);
        }
        assert!(b.permit(t), "4 failures in the last 10");
        b.record(true, t);
        assert!(!b.permit(t), "5 in the last 10: open");
    }
}
