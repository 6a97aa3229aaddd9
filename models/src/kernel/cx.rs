//! The run's context: what every kind may touch and nothing more.

use sim_core::stats::SeriesSpec;
use sim_core::{EventQueue, RngStream, SimTime};

use super::job::Job;
use crate::doc::results::Totals;
use crate::world::{Ev, MAX_JOBS};

/// The clock and event queue, the job slab with the keys each job
/// carries, the request ledger, the time-series layout and the master
/// seed of one run.
#[derive(Clone)]
pub struct Cx {
    /// Pending events, ordered by (time, scheduling order).
    pub q: EventQueue<Ev>,
    /// Jobs (requests and message attempts); free slots are reused.
    pub jobs: Vec<Job>,
    /// `nkeys` key values per job slot.
    pub job_keys: Vec<u64>,
    /// Free job slots.
    pub free: Vec<u32>,
    /// Keys a job carries.
    pub nkeys: usize,
    /// Jobs alive.
    pub live: usize,
    /// Most jobs alive at once.
    pub peak_jobs: usize,
    /// Measured requests and messages still in the system.
    pub measured_live: usize,
    /// More than [`MAX_JOBS`] jobs were alive: the run is unstable.
    pub overflow: bool,
    /// Request accounting over the whole run.
    pub ledger: Totals,
    /// Time-series layout.
    pub spec: SeriesSpec,
    /// Master seed.
    pub seed: u64,
    /// The run ends here, ns.
    pub end: u64,
    /// Statistics restart here (end of the warm-up), ns.
    pub warmup: u64,
    /// Requests arriving at or after this instant are not measured (the end
    /// of an observation window; `u64::MAX` without one).
    pub measure_end: u64,
}

impl Cx {
    /// A run's context at time 0.
    pub fn new(seed: u64, spec: SeriesSpec, nkeys: usize, end: u64, warmup: u64) -> Self {
        Cx {
            q: EventQueue::new(),
            jobs: Vec::new(),
            job_keys: Vec::new(),
            free: Vec::new(),
            nkeys,
            live: 0,
            peak_jobs: 0,
            measured_live: 0,
            overflow: false,
            ledger: Totals::default(),
            spec,
            seed,
            end,
            warmup,
            measure_end: u64::MAX,
        }
    }

    /// The current instant, ns.
    #[inline]
    pub fn now(&self) -> u64 {
        self.q.now().0
    }

    /// Schedules `ev` at `at` (ns).
    #[inline]
    pub fn at(&mut self, at: u64, ev: Ev) {
        self.q.push(SimTime(at), ev);
    }

    /// The random stream `name` of this run.
    pub fn stream(&self, name: &str) -> RngStream {
        RngStream::new(self.seed, name)
    }

    /// Takes a slot for `job`.
    pub fn alloc(&mut self, job: Job) -> u32 {
        self.live += 1;
        self.measured_live += usize::from(job.measured);
        self.peak_jobs = self.peak_jobs.max(self.live);
        if let Some(j) = self.free.pop() {
            self.jobs[j as usize] = job;
            return j;
        }
        if self.jobs.len() >= MAX_JOBS {
            self.overflow = true;
        }
        self.jobs.push(job);
        self.job_keys.resize(self.jobs.len() * self.nkeys, 0);
        (self.jobs.len() - 1) as u32
    }

    /// Frees job `j`'s slot.
    pub fn release(&mut self, j: u32) {
        self.jobs[j as usize].live = false;
        self.measured_live -= usize::from(self.jobs[j as usize].measured);
        self.live -= 1;
        self.free.push(j);
    }

    /// Job `j`'s value of key `key`.
    #[inline]
    pub fn key(&self, j: u32, key: usize) -> u64 {
        self.job_keys[j as usize * self.nkeys + key]
    }

    /// Job `j`'s key values.
    pub fn keys_mut(&mut self, j: u32) -> &mut [u64] {
        let base = j as usize * self.nkeys;
        &mut self.job_keys[base..base + self.nkeys]
    }

    /// Job `j`'s key values.
    pub fn keys(&self, j: u32) -> &[u64] {
        let base = j as usize * self.nkeys;
        &self.job_keys[base..base + self.nkeys]
    }
}
