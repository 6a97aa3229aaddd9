//! Failures and slow-downs of one node (a shard's primary, a cache node),
//! and the exponential draws of random failures and repairs.

use sim_core::stats::TimeWeighted;
use sim_core::{RngStream, SimDuration, SimTime};

/// Slow-down factors in effect on a node (overlapping slow-downs
/// multiply).
#[derive(Clone, Default)]
pub struct SlowDowns(Vec<f64>);

impl SlowDowns {
    /// A slow-down of `factor` starts (`start`) or ends.
    pub fn set(&mut self, factor: f64, start: bool) {
        if start {
            self.0.push(factor);
        } else if let Some(i) = self.0.iter().position(|f| *f == factor) {
            self.0.swap_remove(i);
        }
    }

    /// The product of the factors in effect (1: full speed).
    #[inline]
    pub fn factor(&self) -> f64 {
        self.0.iter().product()
    }
}

/// A duration drawn at full speed, stretched by a slow-down `factor`.
#[inline]
pub fn scaled(d: u64, factor: f64) -> u64 {
    if factor == 1.0 {
        d
    } else {
        (d as f64 * factor).round() as u64
    }
}

/// An exponential draw of mean `mean` ns, rounded to the nanosecond.
pub fn exponential(rng: &mut RngStream, mean: f64) -> SimDuration {
    SimDuration((-rng.unit_open0().ln() * mean).round() as u64)
}

/// Failures and slow-downs of one node: a shard's primary or a cache
/// node. Scheduled outages and random failures may overlap; the node is
/// down while any of them lasts.
#[derive(Clone)]
pub struct Health {
    /// Outages in effect: down while > 0.
    pub outages: u32,
    /// 1 while down, 0 while up (for the downtime).
    pub down_tw: TimeWeighted,
    /// Times it went down (statistics period).
    pub failures: u64,
    /// Slow-down factors in effect.
    pub slow: SlowDowns,
    /// Random failures' stream (with `failures` configured).
    pub fail_rng: Option<RngStream>,
}

impl Health {
    /// Up, at full speed.
    pub fn new(fail_rng: Option<RngStream>) -> Self {
        Health {
            outages: 0,
            down_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            failures: 0,
            slow: SlowDowns::default(),
            fail_rng,
        }
    }

    /// Down now.
    #[inline]
    pub fn is_down(&self) -> bool {
        self.outages > 0
    }

    /// The product of the slow-down factors in effect (1: full speed).
    #[inline]
    pub fn factor(&self) -> f64 {
        self.slow.factor()
    }

    /// One more outage; true if it takes the node down.
    pub fn down(&mut self, now: SimTime) -> bool {
        self.outages += 1;
        if self.outages > 1 {
            return false;
        }
        self.failures += 1;
        self.down_tw.set(now, 1.0);
        true
    }

    /// One outage fewer; true if the node is up again.
    pub fn up(&mut self, now: SimTime) -> bool {
        self.outages -= 1;
        if self.outages > 0 {
            return false;
        }
        self.down_tw.set(now, 0.0);
        true
    }

    /// The warm-up is over: statistics restart at `now`.
    pub fn reset(&mut self, now: SimTime) {
        self.down_tw.reset(now);
        self.failures = 0;
    }
}
