//! The run's context: what every kind may touch and nothing more — the
//! clock and the event queue, the jobs with their keys, the request
//! ledger, the observed period, the time-series layout and the random
//! streams.

use sim_core::stats::SeriesSpec;
use sim_core::{EventQueue, RngStream, SimDuration, SimTime};

use super::job::Jobs;
use super::ledger::Totals;
use crate::model::ids::JobId;

/// The world's event type, as the kernel sees it: the registry
/// (`system/kinds.rs`) defines it, carrying every kind's own events; the
/// kernel only needs to resume a job. Each kind schedules its own events
/// through `From<kind::Ev>` (see its `Sink`).
pub trait Event: Copy + std::fmt::Debug {
    /// Job `job` goes on with its program.
    fn resume(job: JobId) -> Self;
}

/// The part of a run that is measured: requests (and messages) born in
/// `[warmup, measure_end)` are counted and followed to their answer;
/// component statistics restart at `warmup`; the run stops at `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Statistics restart here (the end of the warm-up).
    pub warmup: SimTime,
    /// Requests born at or after this are not measured (the end of an
    /// observation window; [`SimTime::MAX`] without one).
    pub measure_end: SimTime,
    /// The run ends here (or earlier, once a window's last measured
    /// request is answered).
    pub end: SimTime,
}

impl Period {
    /// A job born at `t` is measured.
    #[inline]
    pub fn measures(&self, t: SimTime) -> bool {
        t >= self.warmup && t < self.measure_end
    }

    /// The measured period's length: from the warm-up to the end (or the
    /// window's end, if earlier).
    pub fn measured(&self) -> SimDuration {
        self.end.min(self.measure_end) - self.warmup
    }
}

/// The clock and event queue, the job slab, the request ledger, the
/// measured period, the time-series layout and the master seed of one
/// run. Events are the world's event type `E` (the registry of
/// `system/kinds.rs`): each kind schedules its own variants, and ties are
/// first-in first-out (see [`EventQueue`]).
#[derive(Clone)]
pub struct Cx<E> {
    q: EventQueue<E>,
    /// Requests and message attempts in flight.
    pub jobs: Jobs,
    /// Request accounting over the whole run.
    pub ledger: Totals,
    /// What is measured.
    pub period: Period,
    /// The time-series layout.
    pub spec: SeriesSpec,
    /// The master seed.
    pub seed: u64,
}

impl<E: Event> Cx<E> {
    /// A run's context at time 0.
    pub fn new(seed: u64, spec: SeriesSpec, nkeys: usize, end: SimTime, warmup: SimTime) -> Self {
        Cx {
            q: EventQueue::new(),
            jobs: Jobs::new(nkeys),
            ledger: Totals::default(),
            period: Period {
                warmup,
                measure_end: SimTime::MAX,
                end,
            },
            spec,
            seed,
        }
    }

    /// The current instant.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.q.now()
    }

    /// Schedules `ev` at `at` (or now, if `at` has passed).
    #[inline]
    pub fn at(&mut self, at: SimTime, ev: impl Into<E>) {
        self.q.push(at, ev.into());
    }

    /// Schedules `ev` `after` from now.
    #[inline]
    pub fn after(&mut self, after: SimDuration, ev: impl Into<E>) {
        let at = self.now() + after;
        self.q.push(at, ev.into());
    }

    /// Job `j` goes on with its program at `at`.
    #[inline]
    pub fn resume(&mut self, j: JobId, at: SimTime) {
        self.q.push(at, E::resume(j));
    }

    /// The earliest pending event's time.
    #[inline]
    pub fn next_time(&self) -> Option<SimTime> {
        self.q.peek_time()
    }

    /// Takes the earliest pending event, advancing the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.q.pop()
    }

    /// Events handled so far.
    #[inline]
    pub fn events(&self) -> u64 {
        self.q.events_processed()
    }

    /// The random stream `name` of this run.
    #[inline]
    pub fn stream(&self, name: &str) -> RngStream {
        RngStream::new(self.seed, name)
    }

    /// Job `j`'s value of key `key`.
    #[inline]
    pub fn key(&self, j: JobId, key: usize) -> u64 {
        self.jobs.key(j, key)
    }

    /// A job born now is measured.
    #[inline]
    pub fn measures_now(&self) -> bool {
        self.period.measures(self.now())
    }
}
