//! Pods that come and go: crashes (scheduled or random) and restarts,
//! balancers' health checks, and the Horizontal Pod Autoscaler.
//!
//! A crashed pod loses what it holds: the requests it was executing and
//! the ones waiting in its queue fail at once (counted as `aborted`, the
//! client sees a reset). It stays registered with the balancers, so
//! requests sent to it fail too, until a health check notices — as in
//! reality. After the service's `restart_delay` its container starts
//! again, and after `startup_time` it is ready.
//!
//! The autoscaler follows the Kubernetes HPA: every `sync_period` it
//! averages its metric per ready pod over the last period, computes
//! desired = ceil(ready × metric / target), does nothing while the ratio
//! is within `tolerance` of 1, bounds the result by min and max, and
//! scales down only to the highest recommendation of the last
//! `scale_down_stabilization`. New pods are paid for from the moment they
//! are requested and serve after their start-up; removed pods stop taking
//! requests, finish what they hold, then go.

use sim_core::{RngStream, SimTime};

pub(super) use crate::kernel::failures::exponential;

use super::state::{Phase, Pod, PodView};
use super::{Ev, NONE, Owner, World};
use crate::kinds::service::ScaleMetric;
use crate::model::faults::FaultDef;

/// Most scaling decisions kept for the results.
const MAX_SCALE_EVENTS: usize = 1000;

impl World<'_> {
    /// Schedules what drives pods from the start: random crashes, health
    /// checks, autoscalers, scheduled faults.
    pub(super) fn schedule_lifecycle(&mut self) {
        let m = self.m;
        for (si, def) in m.services.iter().enumerate() {
            if def.failures.is_some() {
                for pi in 0..self.services[si].pods.len() {
                    self.schedule_crash(si, pi);
                }
            }
            if let Some(a) = def.autoscaling {
                self.cx
                    .q
                    .push(SimTime(a.sync_period.0), Ev::Autoscale(si as u32));
            }
        }
        for (li, def) in m.load_balancers.iter().enumerate() {
            if let Some(h) = def.health_check {
                self.cx
                    .q
                    .push(SimTime(h.interval.0), Ev::HealthCheck(li as u32));
            }
        }
        for (fi, f) in m.faults.iter().enumerate() {
            let at = match f {
                FaultDef::KillPods { at, .. }
                | FaultDef::SlowDown { at, .. }
                | FaultDef::Outage { at, .. }
                | FaultDef::PartitionConsumers { at, .. } => *at,
            };
            self.cx.q.push(SimTime(at), Ev::Fault(fi as u32));
        }
        self.schedule_db_failures();
        self.schedule_cache_failures();
        self.schedule_consumer_failures();
    }

    /// Draws the pod's next random crash (exponential, mean `mtbf`).
    fn schedule_crash(&mut self, s: usize, pod: usize) {
        let Some((mtbf, _)) = self.m.services[s].failures else {
            return;
        };
        let now = self.now();
        let p = &mut self.services[s].pods[pod];
        let rng = p.fail_rng.as_mut().expect("a failure stream");
        let dt = exponential(rng, mtbf);
        self.cx.q.push(
            SimTime(now.saturating_add(dt)),
            Ev::PodCrash {
                svc: s as u32,
                pod: pod as u32,
                life: p.life,
            },
        );
    }

    /// A scheduled fault starts.
    pub(super) fn fault(&mut self, f: usize) {
        match self.m.faults[f] {
            FaultDef::KillPods { service, count, .. } => {
                let victims: Vec<usize> = self.services[service]
                    .pods
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.phase == Phase::Ready)
                    .map(|(i, _)| i)
                    .take(count as usize)
                    .collect();
                for pod in victims {
                    self.crash_pod(service, pod);
                }
            }
            FaultDef::SlowDown {
                length,
                target,
                factor,
                ..
            } => {
                self.slow_down(target, factor, true);
                self.cx.q.push(
                    SimTime(self.now().saturating_add(length)),
                    Ev::FaultEnd(f as u32),
                );
            }
            FaultDef::Outage { length, target, .. } => {
                self.outage(target, true);
                self.cx.q.push(
                    SimTime(self.now().saturating_add(length)),
                    Ev::FaultEnd(f as u32),
                );
            }
            FaultDef::PartitionConsumers {
                queue,
                count,
                length,
                ..
            } => self.partition_consumers(queue, count, length),
        }
    }

    /// A scheduled fault's window ends.
    pub(super) fn fault_end(&mut self, f: usize) {
        match self.m.faults[f] {
            FaultDef::KillPods { .. } => {}
            FaultDef::SlowDown { target, factor, .. } => self.slow_down(target, factor, false),
            FaultDef::Outage { target, .. } => self.outage(target, false),
            // Each cut-off consumer heals on its own event (queue.rs).
            FaultDef::PartitionConsumers { .. } => {}
        }
    }

    /// The pod crashes: what it holds fails, and it restarts later.
    pub(super) fn crash_pod(&mut self, s: usize, pod: usize) {
        let now = self.now();
        let def = &self.m.services[s];
        let was = self.services[s].pods[pod].phase;
        if !matches!(was, Phase::Ready | Phase::Starting | Phase::Draining) {
            return;
        }
        // The requests it was executing: their pending events will find
        // them killed. The ones waiting: gone at once.
        let waiting: Vec<u32> = self.services[s].pods[pod].queue.drain(..).collect();
        let mut queued = waiting.clone();
        queued.sort_unstable();
        let mut executing = Vec::new();
        for (j, job) in self.cx.jobs.iter().enumerate() {
            if let Owner::Request {
                service, pod: p, ..
            } = job.owner
                && job.live
                && !job.killed
                && service as usize == s
                && p as usize == pod
                && queued.binary_search(&(j as u32)).is_err()
            {
                executing.push(j as u32);
            }
        }
        {
            let svc = &mut self.services[s];
            let p = &mut svc.pods[pod];
            p.crashes += 1;
            p.life += 1;
            svc.busy_total -= u64::from(p.busy);
            svc.queued_total -= waiting.len() as u64;
            p.busy = 0;
            p.busy_tw.set(SimTime(now), 0.0);
            p.queue_tw.set(SimTime(now), 0.0);
            p.aborted += (executing.len() + waiting.len()) as u64;
            if svc.hpa {
                svc.hpa_busy.set(SimTime(now), svc.busy_total as f64);
            }
            if svc.hpa {
                svc.hpa_queued.set(SimTime(now), svc.queued_total as f64);
            }
            svc.queued_tw.set(SimTime(now), svc.queued_total as f64);
            svc.queue_series.set(SimTime(now), svc.queued_total as f64);
        }
        self.set_phase(
            s,
            pod,
            if was == Phase::Draining {
                Phase::Gone
            } else {
                Phase::Down
            },
        );
        let cap = self.services[s].capacity(def.concurrency);
        let svc = &mut self.services[s];
        svc.util_series
            .set(SimTime(now), svc.busy_total as f64 / cap);
        for j in waiting {
            self.abort(j);
        }
        for j in executing {
            self.count_abort(j);
            self.cx.jobs[j as usize].killed = true;
        }
        if was == Phase::Draining {
            return;
        }
        // Down for a repair time (random failures), then the container
        // restarts after the restart delay.
        let mttr = def.failures.map_or(0.0, |f| f.1);
        let p = &mut self.services[s].pods[pod];
        let repair = match (&mut p.fail_rng, mttr > 0.0) {
            (Some(rng), true) => exponential(rng, mttr),
            _ => 0,
        };
        let at = now.saturating_add(repair).saturating_add(def.restart_delay);
        let life = p.life;
        self.cx.q.push(
            SimTime(at),
            Ev::PodRestart {
                svc: s as u32,
                pod: pod as u32,
                life,
            },
        );
    }

    /// A crashed pod's container starts again.
    pub(super) fn pod_restart(&mut self, s: usize, pod: usize, life: u32) {
        let p = &self.services[s].pods[pod];
        if p.life != life || p.phase != Phase::Down {
            return;
        }
        self.set_phase(s, pod, Phase::Starting);
        self.start_up(s, pod);
    }

    /// Schedules the end of the pod's start-up.
    fn start_up(&mut self, s: usize, pod: usize) {
        let now = self.now();
        let def = &self.m.services[s];
        let svc = &mut self.services[s];
        let delay = match (&def.startup_time, &mut svc.startup_rng) {
            (Some(d), Some(rng)) => d.sample(rng),
            _ => 0,
        };
        let life = svc.pods[pod].life;
        self.cx.q.push(
            SimTime(now + delay),
            Ev::PodReady {
                svc: s as u32,
                pod: pod as u32,
                life,
            },
        );
    }

    /// The pod is ready: balancers send to it.
    pub(super) fn pod_ready(&mut self, s: usize, pod: usize, life: u32) {
        let p = &self.services[s].pods[pod];
        if p.life != life || p.phase != Phase::Starting {
            return;
        }
        let fresh = !p.registered;
        self.set_phase(s, pod, Phase::Ready);
        self.services[s].pods[pod].registered = true;
        if fresh {
            // A new backend is registered as healthy.
            for (l, def) in self.m.load_balancers.iter().enumerate() {
                if def.service == s {
                    let v = &mut self.lbs[l].views;
                    PodView::cover(v, pod + 1);
                    v[pod] = PodView::FRESH;
                }
            }
        }
        self.schedule_crash(s, pod);
        // Requests may be waiting for a ready pod elsewhere: nothing to
        // hand over (each pod has its own queue).
    }

    /// A drained or cancelled pod goes.
    pub(super) fn pod_gone(&mut self, s: usize, pod: usize) {
        self.services[s].pods[pod].life += 1;
        self.set_phase(s, pod, Phase::Gone);
    }

    /// Moves a pod to `to`, keeping the service's counts and gauges.
    fn set_phase(&mut self, s: usize, pod: usize, to: Phase) {
        let now = SimTime(self.now());
        let svc = &mut self.services[s];
        let p = &mut svc.pods[pod];
        let from = p.phase;
        if from == to {
            return;
        }
        let billed = |ph: Phase| ph != Phase::Gone;
        if from == Phase::Ready {
            svc.ready -= 1;
        }
        if to == Phase::Ready {
            svc.ready += 1;
        }
        if billed(from) && !billed(to) {
            svc.billed -= 1;
        }
        if !billed(from) && billed(to) {
            svc.billed += 1;
        }
        if matches!(to, Phase::Draining | Phase::Gone) {
            p.registered = false;
        }
        p.phase = to;
        svc.ready_tw.set(now, f64::from(svc.ready));
        svc.hpa_ready.set(now, f64::from(svc.ready));
        svc.billed_tw.set(now, f64::from(svc.billed));
        svc.ready_series.set(now, f64::from(svc.ready));
        svc.billed_series.set(now, f64::from(svc.billed));
    }

    /// Counts a request as failed by its pod (HTTP 502) and lets go of
    /// its balancer slot; the job itself is released by the caller or at
    /// its next event.
    fn count_abort(&mut self, j: u32) {
        let now = self.now();
        let job = self.cx.jobs[j as usize];
        let Owner::Request { lb, service, .. } = job.owner else {
            unreachable!("only requests run on pods")
        };
        self.services[service as usize].aborted += 1;
        self.count_failure(j, super::clients::Outcome::Aborted);
        self.leave_lb(lb, now);
        if let Owner::Request { lb, .. } = &mut self.cx.jobs[j as usize].owner {
            *lb = NONE;
        }
    }

    /// A request fails at once because its pod is down.
    pub(super) fn abort(&mut self, j: u32) {
        self.count_abort(j);
        self.release(j);
    }

    /// A request fails because a dependency failed (a statement on a
    /// shard that is down): the service answers with an error at once,
    /// counted as `aborted`; its worker and balancer slot are freed now.
    /// The job is marked killed and released by the caller, or at its next
    /// event (a statement of it still running elsewhere).
    pub(super) fn fail_request(&mut self, j: u32) {
        let Owner::Request { service, pod, .. } = self.cx.jobs[j as usize].owner else {
            unreachable!("only requests run on pods")
        };
        self.count_abort(j);
        self.cx.jobs[j as usize].killed = true;
        self.free_worker(service as usize, pod as usize);
    }

    /// A balancer checks every pod registered with it.
    pub(super) fn health_check(&mut self, l: usize) {
        let def = &self.m.load_balancers[l];
        let h = def.health_check.expect("scheduled only with health checks");
        let now = self.now();
        let pods = &self.services[def.service].pods;
        let st = &mut self.lbs[l];
        PodView::cover(&mut st.views, pods.len());
        for (i, p) in pods.iter().enumerate() {
            if !p.registered {
                continue;
            }
            let v = &mut st.views[i];
            if p.phase == Phase::Ready {
                v.fails = 0;
                v.oks = v.oks.saturating_add(1);
                if !v.healthy && v.oks >= h.healthy_threshold {
                    v.healthy = true;
                }
            } else {
                v.oks = 0;
                v.fails = v.fails.saturating_add(1);
                if v.healthy && v.fails >= h.unhealthy_threshold {
                    v.healthy = false;
                    st.marked_down += 1;
                }
            }
        }
        self.cx
            .q
            .push(SimTime(now + h.interval.0), Ev::HealthCheck(l as u32));
    }

    /// The service's autoscaler decides.
    pub(super) fn autoscale(&mut self, s: usize) {
        let def = &self.m.services[s];
        let a = def.autoscaling.expect("scheduled only with an autoscaler");
        let now = self.now();
        let t = SimTime(now);
        let svc = &mut self.services[s];
        let busy = svc.hpa_busy.integral(t);
        let ready = svc.hpa_ready.integral(t);
        let queued = svc.hpa_queued.integral(t);
        let (b0, r0, q0) = svc.hpa_last;
        svc.hpa_last = (busy, ready, queued);
        let pod_time = ready - r0;
        if pod_time <= 0.0 {
            svc.hpa_last_at = now;
        }
        let current = svc
            .pods
            .iter()
            .filter(|p| matches!(p.phase, Phase::Ready | Phase::Starting | Phase::Down))
            .count() as u32;
        self.cx
            .q
            .push(SimTime(now + a.sync_period.0), Ev::Autoscale(s as u32));
        if pod_time <= 0.0 || svc.ready == 0 {
            return;
        }
        let metric = match a.metric {
            ScaleMetric::Utilisation => (busy - b0) / pod_time / f64::from(def.concurrency),
            ScaleMetric::InFlight => ((busy - b0) + (queued - q0)) / pod_time,
            ScaleMetric::Queue => (queued - q0) / pod_time,
        };
        let ratio = metric / a.target;
        // Pods that carried the load over the period (time-averaged): a pod
        // that became ready at the end has no usage to report yet, as the
        // HPA ignores pods without metrics.
        let period = (now - svc.hpa_last_at) as f64;
        svc.hpa_last_at = now;
        let carried = pod_time / period;
        let mut desired = if (ratio - 1.0).abs() <= a.tolerance {
            current
        } else {
            (carried * ratio - 1e-9).ceil().max(0.0) as u32
        };
        desired = desired.clamp(a.min_replicas, a.max_replicas);
        // Scale-down stabilisation: the highest recommendation in the window.
        svc.hpa_recs.push_back((now, desired));
        while svc
            .hpa_recs
            .front()
            .is_some_and(|&(at, _)| at + a.scale_down_stabilization.0 < now)
        {
            svc.hpa_recs.pop_front();
        }
        let stable = svc
            .hpa_recs
            .iter()
            .map(|&(_, d)| d)
            .max()
            .unwrap_or(desired);
        let target = if desired > current {
            desired
        } else {
            stable.min(current)
        };
        if target == current {
            return;
        }
        if svc.scale_events.len() < MAX_SCALE_EVENTS {
            svc.scale_events.push((now, current, target, metric));
        }
        if target > current {
            for _ in current..target {
                self.add_pod(s);
            }
        } else {
            for _ in target..current {
                self.remove_pod(s);
            }
        }
    }

    /// A new pod: paid from now, ready after its start-up. Reuses the slot
    /// of a pod that has gone.
    fn add_pod(&mut self, s: usize) {
        let def = &self.m.services[s];
        let svc = &mut self.services[s];
        let slot = match svc.pods.iter().position(|p| p.phase == Phase::Gone) {
            Some(i) => i,
            None => {
                let mut p = Pod::new(Phase::Gone);
                if def.failures.is_some() {
                    p.fail_rng = Some(RngStream::new(
                        self.cx.seed,
                        &format!("service/{}/pod/{}/failures", def.name, svc.pods.len()),
                    ));
                }
                svc.pods.push(p);
                svc.pods.len() - 1
            }
        };
        let p = &mut svc.pods[slot];
        p.life += 1;
        p.registered = false;
        self.set_phase(s, slot, Phase::Starting);
        self.start_up(s, slot);
    }

    /// Removes one pod: a starting one if any (Kubernetes deletes unready
    /// pods first), else the newest ready one, which drains.
    fn remove_pod(&mut self, s: usize) {
        let pods = &self.services[s].pods;
        let pick = pods
            .iter()
            .rposition(|p| p.phase == Phase::Starting)
            .or_else(|| pods.iter().rposition(|p| p.phase == Phase::Down))
            .or_else(|| pods.iter().rposition(|p| p.phase == Phase::Ready));
        let Some(i) = pick else { return };
        match self.services[s].pods[i].phase {
            Phase::Ready if self.services[s].pods[i].load() > 0 => {
                self.set_phase(s, i, Phase::Draining);
            }
            _ => self.pod_gone(s, i),
        }
    }
}
