//! Pods: workers and a FIFO waiting room each, taking the requests sent to
//! them; crashes (scheduled or random) and restarts.
//!
//! A crashed pod loses what it holds: the requests it was executing and
//! the ones waiting in its queue fail at once (counted as `aborted`, the
//! client sees a reset). It stays registered with the balancers, so
//! requests sent to it fail too, until a health check notices — as in
//! reality. After the service's `restart_delay` its container starts
//! again, and after `startup_time` it is ready.

use std::collections::VecDeque;

use sim_core::stats::TimeWeighted;
use sim_core::{RngStream, SimDuration, SimTime};

use super::Sink;
use super::{Ev, ServiceDef, SvcState};
use crate::kernel::Cx;
use crate::kernel::backend::Backend;
use crate::kernel::failures::exponential;
use crate::kernel::job::Reply;
use crate::model::ids::{JobId, ServiceId};

/// Where a pod is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Requested (by the autoscaler) or restarting: not ready yet.
    Starting,
    /// Serving.
    Ready,
    /// Crashed: anything sent to it fails until it restarts.
    Down,
    /// Scaled down: finishes what it holds, takes nothing new.
    Draining,
    /// Gone: its slot may be reused by a new pod.
    Gone,
}

/// A pod: workers and a FIFO waiting room.
#[derive(Clone)]
pub struct Pod {
    /// Where it is in its life.
    pub phase: Phase,
    /// Balancers send to it: it was ready since it was created and is not
    /// draining (a crashed pod stays registered until a health check
    /// notices).
    pub registered: bool,
    /// Incremented when the pod crashes or goes: events of an earlier
    /// life are ignored.
    pub life: u32,
    /// Busy workers (event loop: busy cores).
    pub busy: u32,
    /// Event loop: requests admitted (running or waiting for a core or a
    /// dependency); 0 with threads.
    pub admitted: u32,
    /// Event loop: requests waiting for a core to compute, first come
    /// first served.
    pub run_queue: VecDeque<JobId>,
    /// Requests waiting for a worker, first come first served.
    pub queue: VecDeque<JobId>,
    /// Busy workers over time.
    pub busy_tw: TimeWeighted,
    /// Waiting requests over time.
    pub queue_tw: TimeWeighted,
    /// Requests that reached it (measured period).
    pub requests: u64,
    /// Requests its full queue refused.
    pub rejected: u64,
    /// Requests lost because the pod crashed, or sent to it while down.
    pub aborted: u64,
    /// Times it crashed.
    pub crashes: u64,
    /// Its random crashes' stream (with `failures`).
    pub fail_rng: Option<RngStream>,
}

impl Pod {
    /// A pod in `phase` at time 0, holding nothing.
    pub fn new(phase: Phase) -> Self {
        Pod {
            phase,
            registered: phase == Phase::Ready,
            life: 0,
            busy: 0,
            admitted: 0,
            run_queue: VecDeque::new(),
            queue: VecDeque::new(),
            busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            queue_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            requests: 0,
            rejected: 0,
            aborted: 0,
            crashes: 0,
            fail_rng: None,
        }
    }

    /// Requests in flight at this pod (running + waiting), for
    /// least-connections. (An event loop's busy cores are among its
    /// admitted requests.)
    pub fn load(&self) -> usize {
        self.busy.max(self.admitted) as usize + self.queue.len()
    }

    /// Requests it runs now: busy workers, or an event loop's admitted
    /// requests.
    #[inline]
    fn running(&self, def: &ServiceDef) -> u32 {
        if def.event_loop {
            self.admitted
        } else {
            self.busy
        }
    }
}

impl Backend for Pod {
    fn registered(&self) -> bool {
        self.registered
    }

    fn ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    fn load(&self) -> usize {
        Pod::load(self)
    }
}

/// What became of a request handed to a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// A worker took it: its program runs now.
    Runs,
    /// Every worker is busy: it waits in the pod's queue.
    Queued,
    /// The queue is full: refused (HTTP 503).
    Rejected,
    /// The pod is down (a crashed pod a balancer still believes in): the
    /// connection is refused (HTTP 502).
    Down,
}

/// What a crash took down with the pod.
#[derive(Debug, Clone)]
pub struct Crashed {
    /// The pod's phase before the crash.
    pub was: Phase,
    /// Requests that waited in its queue: they fail now.
    pub waiting: Vec<JobId>,
    /// Requests it was executing: they fail now, and their pending events
    /// find them killed.
    pub executing: Vec<JobId>,
}

impl SvcState {
    /// A workload aimed straight at the service: its ready pods in turn (as
    /// a Kubernetes Service, which only lists ready endpoints).
    #[inline]
    pub fn pick_direct(&mut self) -> Option<usize> {
        let n = self.pods.len();
        for k in 1..=n {
            let i = (self.rr + k) % n;
            if self.pods[i].phase == Phase::Ready {
                self.rr = i;
                return Some(i);
            }
        }
        None
    }

    /// Request `j` is handed to `pod` now: a worker takes it, or it waits,
    /// or it is refused. A request the pod takes finds its session
    /// (services with `sessions`).
    #[inline]
    pub fn admit(
        &mut self,
        def: &ServiceDef,
        pod: usize,
        j: JobId,
        cx: &mut Cx<impl Sink>,
    ) -> Admit {
        let now = cx.now();
        let p = &mut self.pods[pod];
        if p.phase != Phase::Ready {
            p.aborted += 1;
            return Admit::Down;
        }
        let runs = p.running(def) < def.slots;
        let waits = !runs
            && def
                .queue_capacity
                .is_none_or(|c| (p.queue.len() as u64) < c);
        if (runs || waits) && def.sessions.is_some() {
            // Taken by the pod: its session is found or not.
            self.session(def, pod, j, cx);
        }
        let p = &mut self.pods[pod];
        p.requests += 1;
        if runs && def.event_loop {
            // Admitted: it takes a core only when it computes.
            self.wait_n += 1;
            p.admitted += 1;
            self.pool.load(pod, p);
            Admit::Runs
        } else if runs {
            self.wait_n += 1; // served at once: a wait of zero
            p.busy += 1;
            p.busy_tw.set(now, f64::from(p.busy));
            self.pool.load(pod, p);
            self.busy_total += 1;
            if self.hpa {
                self.hpa_busy.set(now, self.busy_total as f64);
            }
            let cap = self.capacity(def.concurrency);
            self.util_series.set(now, self.busy_total as f64 / cap);
            Admit::Runs
        } else if waits {
            p.queue.push_back(j);
            p.queue_tw.set(now, p.queue.len() as f64);
            self.pool.load(pod, p);
            self.queued_total += 1;
            self.queued_tw.set(now, self.queued_total as f64);
            if self.hpa {
                self.hpa_queued.set(now, self.queued_total as f64);
            }
            self.queue_series.set(now, self.queued_total as f64);
            cx.jobs[j].since = now;
            Admit::Queued
        } else {
            p.rejected += 1;
            Admit::Rejected
        }
    }

    /// Request `j` was taken by `pod`: find its session.
    #[inline]
    fn session(&mut self, def: &ServiceDef, pod: usize, j: JobId, cx: &Cx<impl Sink>) {
        let Some(sd) = def.sessions else { return };
        let now = cx.now();
        let user = cx.key(j, sd.key);
        let measured = cx.jobs[j].measured;
        let table = self.sessions.as_mut().expect("a table per sessions");
        table.see(now, user, pod, &self.pods, &sd, measured);
    }

    /// A worker of `pod` is free: it takes the next waiting request, which
    /// goes on through the event queue (not by recursion: a chain of
    /// zero-time requests must not grow the stack). A draining pod left
    /// with nothing goes.
    #[inline]
    pub fn free_worker(&mut self, def: &ServiceDef, pod: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let p = &mut self.pods[pod];
        if let Some(n) = p.queue.pop_front() {
            p.queue_tw.set(now, p.queue.len() as f64);
            self.pool.load(pod, p);
            self.queued_total -= 1;
            self.queued_tw.set(now, self.queued_total as f64);
            if self.hpa {
                self.hpa_queued.set(now, self.queued_total as f64);
            }
            self.queue_series.set(now, self.queued_total as f64);
            self.wait_sum_ns += (now - cx.jobs[n].since).0 as f64;
            self.wait_n += 1;
            cx.resume(n, now);
        } else if def.event_loop {
            p.admitted -= 1;
            self.pool.load(pod, p);
            if p.phase == Phase::Draining && p.admitted == 0 && p.busy == 0 {
                self.pod_gone(pod, now);
            }
        } else {
            p.busy -= 1;
            p.busy_tw.set(now, f64::from(p.busy));
            self.pool.load(pod, p);
            let drained = p.phase == Phase::Draining && p.busy == 0;
            self.busy_total -= 1;
            if self.hpa {
                self.hpa_busy.set(now, self.busy_total as f64);
            }
            let cap = self.capacity(def.concurrency);
            self.util_series.set(now, self.busy_total as f64 / cap);
            if drained {
                self.pod_gone(pod, now);
            }
        }
    }

    /// Event loop: request `j` on `pod` needs a core to compute. True
    /// when it has one now; otherwise it waits in the pod's run queue.
    #[inline]
    pub fn take_core(&mut self, def: &ServiceDef, pod: usize, j: JobId, now: SimTime) -> bool {
        let p = &mut self.pods[pod];
        if p.busy >= def.concurrency {
            p.run_queue.push_back(j);
            return false;
        }
        self.core_busy(def, pod, 1, now);
        true
    }

    /// Event loop: a computation on `pod` ended, its core is free. Returns
    /// the next request waiting for a core, which has it now.
    #[inline]
    pub fn free_core(&mut self, def: &ServiceDef, pod: usize, now: SimTime) -> Option<JobId> {
        if let Some(next) = self.pods[pod].run_queue.pop_front() {
            return Some(next);
        }
        self.core_busy(def, pod, -1, now);
        let p = &self.pods[pod];
        if p.phase == Phase::Draining && p.admitted == 0 && p.busy == 0 {
            self.pod_gone(pod, now);
        }
        None
    }

    /// Busy cores of `pod` change by `d`: utilisation and the autoscaler
    /// follow cores, as a CPU-based HPA does.
    #[inline]
    fn core_busy(&mut self, def: &ServiceDef, pod: usize, d: i32, now: SimTime) {
        let p = &mut self.pods[pod];
        p.busy = p.busy.saturating_add_signed(d);
        p.busy_tw.set(now, f64::from(p.busy));
        self.pool.load(pod, p);
        self.busy_total = self.busy_total.saturating_add_signed(i64::from(d));
        if self.hpa {
            self.hpa_busy.set(now, self.busy_total as f64);
        }
        let cap = self.capacity(def.concurrency);
        self.util_series.set(now, self.busy_total as f64 / cap);
    }

    /// Schedules the first random crash of every pod (with `failures`).
    pub fn schedule_crashes(&mut self, s: ServiceId, def: &ServiceDef, cx: &mut Cx<impl Sink>) {
        if def.failures.is_some() {
            for pi in 0..self.pods.len() {
                self.schedule_crash(s, def, pi, cx);
            }
        }
    }

    /// Draws the pod's next random crash (exponential, mean `mtbf`).
    pub fn schedule_crash(
        &mut self,
        s: ServiceId,
        def: &ServiceDef,
        pod: usize,
        cx: &mut Cx<impl Sink>,
    ) {
        let Some((mtbf, _)) = def.failures else {
            return;
        };
        let p = &mut self.pods[pod];
        let rng = p.fail_rng.as_mut().expect("a failure stream");
        let dt = exponential(rng, mtbf);
        cx.after(
            dt,
            Ev::PodCrash {
                svc: s,
                pod: pod as u32,
                life: p.life,
            },
        );
    }

    /// The pods a scheduled `kill_pods` fault crashes: the first `count`
    /// ready ones.
    pub fn victims(&self, count: u32) -> Vec<usize> {
        self.pods
            .iter()
            .enumerate()
            .filter(|(_, p)| p.phase == Phase::Ready)
            .map(|(i, _)| i)
            .take(count as usize)
            .collect()
    }

    /// The pod crashes: its workers and queue empty at once. Returns what
    /// it held (the caller fails those requests, then calls
    /// [`Self::after_crash`]), or None if it was not running.
    pub fn crash(
        &mut self,
        def: &ServiceDef,
        s: ServiceId,
        pod: usize,
        cx: &mut Cx<impl Sink>,
    ) -> Option<Crashed> {
        let now = cx.now();
        let was = self.pods[pod].phase;
        if !matches!(was, Phase::Ready | Phase::Starting | Phase::Draining) {
            return None;
        }
        // The requests it was executing: their pending events will find
        // them killed. The ones waiting: gone at once.
        let waiting: Vec<JobId> = self.pods[pod].queue.drain(..).collect();
        let mut queued = waiting.clone();
        queued.sort_unstable();
        let mut executing = Vec::new();
        for (j, job) in cx.jobs.iter() {
            // Parallel branches are not requests: they stop at their next
            // step, their parent being killed.
            if job.live
                && !job.killed
                && !matches!(job.reply, Reply::Fork(_))
                && job.route.service == s
                && job.route.pod() == Some(pod as u32)
                && queued.binary_search(&j).is_err()
            {
                executing.push(j);
            }
        }
        let p = &mut self.pods[pod];
        p.crashes += 1;
        p.life += 1;
        self.queued_total -= waiting.len() as u64;
        if def.event_loop {
            // Cores come back as the killed requests' computations end
            // (they release them); those waiting for one are resumed to
            // be released.
            p.admitted = 0;
            for j in p.run_queue.drain(..) {
                cx.resume(j, now);
            }
        } else {
            self.busy_total -= u64::from(p.busy);
            p.busy = 0;
            p.busy_tw.set(now, 0.0);
        }
        p.queue_tw.set(now, 0.0);
        p.aborted += (executing.len() + waiting.len()) as u64;
        self.pool.load(pod, p);
        if self.hpa {
            self.hpa_busy.set(now, self.busy_total as f64);
        }
        if self.hpa {
            self.hpa_queued.set(now, self.queued_total as f64);
        }
        self.queued_tw.set(now, self.queued_total as f64);
        self.queue_series.set(now, self.queued_total as f64);
        self.set_phase(
            pod,
            if was == Phase::Draining {
                Phase::Gone
            } else {
                Phase::Down
            },
            now,
        );
        let cap = self.capacity(def.concurrency);
        self.util_series.set(now, self.busy_total as f64 / cap);
        Some(Crashed {
            was,
            waiting,
            executing,
        })
    }

    /// After a crash (and the failures of what the pod held): a crashed
    /// pod is down for a repair time (random failures), then its container
    /// restarts after the restart delay. A draining pod is gone instead.
    pub fn after_crash(
        &mut self,
        def: &ServiceDef,
        s: ServiceId,
        pod: usize,
        was: Phase,
        cx: &mut Cx<impl Sink>,
    ) {
        if was == Phase::Draining {
            return;
        }
        let mttr = def.failures.map_or(0.0, |f| f.1);
        let p = &mut self.pods[pod];
        let repair = match (&mut p.fail_rng, mttr > 0.0) {
            (Some(rng), true) => exponential(rng, mttr),
            _ => SimDuration::ZERO,
        };
        let life = p.life;
        cx.after(
            repair + SimDuration(def.restart_delay),
            Ev::PodRestart {
                svc: s,
                pod: pod as u32,
                life,
            },
        );
    }

    /// A crashed pod's container starts again.
    pub fn restart(
        &mut self,
        def: &ServiceDef,
        s: ServiceId,
        pod: usize,
        life: u32,
        cx: &mut Cx<impl Sink>,
    ) {
        let p = &self.pods[pod];
        if p.life != life || p.phase != Phase::Down {
            return;
        }
        self.set_phase(pod, Phase::Starting, cx.now());
        self.start_up(def, s, pod, cx);
    }

    /// Schedules the end of the pod's start-up.
    pub(super) fn start_up(
        &mut self,
        def: &ServiceDef,
        s: ServiceId,
        pod: usize,
        cx: &mut Cx<impl Sink>,
    ) {
        let delay = match (&def.startup_time, &mut self.startup_rng) {
            (Some(d), Some(rng)) => d.sample(rng),
            _ => 0,
        };
        let life = self.pods[pod].life;
        cx.after(
            SimDuration(delay),
            Ev::PodReady {
                svc: s,
                pod: pod as u32,
                life,
            },
        );
    }

    /// The pod is ready: balancers send to it. Returns None if the event
    /// is stale, else whether the pod is new to the balancers (a new
    /// backend, registered as healthy).
    pub fn ready(
        &mut self,
        def: &ServiceDef,
        s: ServiceId,
        pod: usize,
        life: u32,
        cx: &mut Cx<impl Sink>,
    ) -> Option<bool> {
        let p = &self.pods[pod];
        if p.life != life || p.phase != Phase::Starting {
            return None;
        }
        let fresh = !p.registered;
        self.set_phase(pod, Phase::Ready, cx.now());
        self.pods[pod].registered = true;
        self.pool.registration(pod, &self.pods[pod]);
        self.schedule_crash(s, def, pod, cx);
        // Requests may be waiting for a ready pod elsewhere: nothing to
        // hand over (each pod has its own queue).
        Some(fresh)
    }

    /// A drained or cancelled pod goes.
    pub(super) fn pod_gone(&mut self, pod: usize, now: SimTime) {
        self.pods[pod].life += 1;
        self.set_phase(pod, Phase::Gone, now);
    }

    /// Moves a pod to `to`, keeping the service's counts and gauges.
    pub(super) fn set_phase(&mut self, pod: usize, to: Phase, now: SimTime) {
        let p = &mut self.pods[pod];
        let from = p.phase;
        if from == to {
            return;
        }
        let billed = |ph: Phase| ph != Phase::Gone;
        if from == Phase::Ready {
            self.ready -= 1;
        }
        if to == Phase::Ready {
            self.ready += 1;
        }
        if billed(from) && !billed(to) {
            self.billed -= 1;
        }
        if !billed(from) && billed(to) {
            self.billed += 1;
        }
        if matches!(to, Phase::Draining | Phase::Gone) {
            p.registered = false;
        }
        p.phase = to;
        self.pool.registration(pod, p);
        self.ready_tw.set(now, f64::from(self.ready));
        self.hpa_ready.set(now, f64::from(self.ready));
        self.billed_tw.set(now, f64::from(self.billed));
        self.ready_series.set(now, f64::from(self.ready));
        self.billed_series.set(now, f64::from(self.billed));
    }
}
