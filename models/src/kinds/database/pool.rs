//! Connection pools: each database node (a shard's primary, each
//! replica) executes `connections` statements at once; the rest wait,
//! first come first served.

use std::collections::VecDeque;

use sim_core::SimTime;
use sim_core::stats::{CoarseHistogram, TimeWeighted};

/// A connection pool: `connections` statements execute at once, the rest
/// wait FIFO. Each database node (a shard's primary, each replica) has one.
#[derive(Clone)]
pub struct Pool {
    /// Connections in use.
    pub busy: u32,
    /// Waiting statements (ids into [`Stmts`](super::sim::Stmts)).
    pub queue: VecDeque<u32>,
    /// Connections in use over time.
    pub busy_tw: TimeWeighted,
    /// Waiting statements over time.
    pub queue_tw: TimeWeighted,
    /// Waits for a connection, counted when one is obtained (0 at once).
    pub wait_sum_ns: f64,
    /// Statements that got a connection.
    pub wait_n: u64,
    /// Their waits.
    pub wait_hist: CoarseHistogram,
}

impl Pool {
    /// An idle pool.
    pub fn new() -> Self {
        Pool {
            busy: 0,
            queue: VecDeque::new(),
            busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            queue_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            wait_sum_ns: 0.0,
            wait_n: 0,
            wait_hist: CoarseHistogram::new(),
        }
    }

    /// The warm-up is over: statistics restart at `now`.
    pub fn reset(&mut self, now: SimTime) {
        self.busy_tw.reset(now);
        self.queue_tw.reset(now);
        self.wait_sum_ns = 0.0;
        self.wait_n = 0;
        self.wait_hist.reset();
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

impl Pool {
    /// Mean wait for a connection, ms (0 without statements).
    pub fn wait_mean_ms(&self) -> f64 {
        if self.wait_n == 0 {
            0.0
        } else {
            self.wait_sum_ns / self.wait_n as f64 / 1e6
        }
    }
}
