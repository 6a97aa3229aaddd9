//! Requests: arrivals, balancing to a pod, rejection, and handing a freed
//! worker the next waiting request.

use sim_core::SimTime;

use super::{Ev, Job, NONE, Owner, World};
use crate::model::Target;
use crate::scenario::LbPolicy;

impl World<'_> {
    // ------------------------------------------------------------ arrivals

    pub(super) fn arrival(&mut self, w: usize) {
        let m = self.m;
        let wdef = &m.workloads[w];
        let now = self.now();
        if let Some(t) = self.workloads[w].arrivals.next(&wdef.profile, self.end) {
            self.q.push(SimTime(t), Ev::Arrival(w as u32));
        }
        self.ledger.generated += 1;
        self.workloads[w].offered.add(SimTime(now), 1.0);
        let u = self.workloads[w].mix_rng.unit();
        let ep = wdef
            .mix
            .iter()
            .find(|(_, c)| u < *c)
            .unwrap_or(&wdef.mix[wdef.mix.len() - 1])
            .0;
        let measured = now >= self.warmup && now < self.measure_end;
        let lb = match wdef.target {
            Target::Lb(l) => l as u32,
            Target::Service(_) => NONE,
        };
        let j = self.alloc(Job {
            owner: Owner::Request {
                workload: w as u32,
                ep: ep as u32,
                service: wdef.service as u32,
                pod: NONE,
                lb,
            },
            program: m.endpoints[ep].program as u32,
            pc: 0,
            born: now,
            wait_from: now,
            shard: 0,
            measured,
            live: true,
        });
        let base = j as usize * self.nkeys;
        for (id, kgen, rng) in &mut self.workloads[w].keys {
            self.job_keys[base + *id] = kgen.sample(rng, now);
        }
        if measured {
            self.eps[ep].count += 1;
        }
        match wdef.target {
            Target::Service(_) => self.dispatch(j),
            Target::Lb(l) => {
                let ldef = &m.load_balancers[l];
                let st = &mut self.lbs[l];
                st.requests += 1;
                if let Some(max) = ldef.max_connections
                    && st.in_flight >= max
                {
                    st.rejected += 1;
                    if let Owner::Request { lb, .. } = &mut self.jobs[j as usize].owner {
                        *lb = NONE;
                    }
                    self.reject(j);
                    return;
                }
                st.in_flight += 1;
                st.tw.set(SimTime(now), st.in_flight as f64);
                match (&ldef.latency, &mut st.rng) {
                    (Some(d), Some(rng)) => {
                        let delay = d.sample(rng);
                        self.q.push(SimTime(now + delay), Ev::Dispatch(j));
                    }
                    _ => self.dispatch(j),
                }
            }
        }
    }

    /// Picks a pod and hands the request to it.
    pub(super) fn dispatch(&mut self, j: u32) {
        let now = self.now();
        let Owner::Request { service, lb, .. } = self.jobs[j as usize].owner else {
            unreachable!("only requests are dispatched")
        };
        let s = service as usize;
        let svc = &mut self.services[s];
        let n = svc.pods.len();
        let pod = if lb == NONE {
            svc.rr = (svc.rr + 1) % n;
            svc.rr
        } else {
            let st = &mut self.lbs[lb as usize];
            match self.m.load_balancers[lb as usize].policy {
                LbPolicy::RoundRobin => {
                    st.rr = (st.rr + 1) % n;
                    st.rr
                }
                LbPolicy::LeastConnections => {
                    // Fewest in flight; ties go to the next in turn so that
                    // an idle pool is used evenly.
                    let start = st.rr;
                    st.rr = (st.rr + 1) % n;
                    let mut best = start % n;
                    for k in 0..n {
                        let i = (start + k) % n;
                        if svc.pods[i].load() < svc.pods[best].load() {
                            best = i;
                        }
                    }
                    best
                }
            }
        };
        if let Owner::Request { pod: p, .. } = &mut self.jobs[j as usize].owner {
            *p = pod as u32;
        }
        let def = &self.m.services[s];
        let p = &mut svc.pods[pod];
        p.requests += 1;
        if p.busy < def.concurrency {
            svc.wait_n += 1; // served at once: a wait of zero
            p.busy += 1;
            p.busy_tw.set(SimTime(now), f64::from(p.busy));
            svc.busy_total += 1;
            svc.util_series.set(
                SimTime(now),
                svc.busy_total as f64 / (def.replicas as f64 * def.concurrency as f64),
            );
            self.run_program(j);
        } else if def
            .queue_capacity
            .is_none_or(|c| (p.queue.len() as u64) < c)
        {
            p.queue.push_back(j);
            p.queue_tw.set(SimTime(now), p.queue.len() as f64);
            svc.queued_total += 1;
            svc.queued_tw.set(SimTime(now), svc.queued_total as f64);
            svc.queue_series.set(SimTime(now), svc.queued_total as f64);
            self.jobs[j as usize].wait_from = now;
        } else {
            p.rejected += 1;
            if let Owner::Request { pod: p, .. } = &mut self.jobs[j as usize].owner {
                *p = NONE;
            }
            self.reject(j);
        }
    }

    /// A request refused with HTTP 503.
    pub(super) fn reject(&mut self, j: u32) {
        let now = self.now();
        let job = self.jobs[j as usize];
        let Owner::Request { ep, lb, .. } = job.owner else {
            unreachable!()
        };
        self.ledger.rejected += 1;
        let e = &mut self.eps[ep as usize];
        e.rejected_series.add(SimTime(now), 1.0);
        if job.measured {
            e.rejected += 1;
        }
        self.leave_lb(lb, now);
        self.release(j);
    }

    pub(super) fn leave_lb(&mut self, lb: u32, now: u64) {
        if lb != NONE {
            let st = &mut self.lbs[lb as usize];
            st.in_flight -= 1;
            st.tw.set(SimTime(now), st.in_flight as f64);
        }
    }

    /// A worker of `pod` is free: give it the next waiting request.
    pub(super) fn free_worker(&mut self, s: usize, pod: usize) {
        let now = self.now();
        let def = &self.m.services[s];
        let svc = &mut self.services[s];
        let p = &mut svc.pods[pod];
        if let Some(n) = p.queue.pop_front() {
            p.queue_tw.set(SimTime(now), p.queue.len() as f64);
            svc.queued_total -= 1;
            svc.queued_tw.set(SimTime(now), svc.queued_total as f64);
            svc.queue_series.set(SimTime(now), svc.queued_total as f64);
            svc.wait_sum_ns += (now - self.jobs[n as usize].wait_from) as f64;
            svc.wait_n += 1;
            // Continue through the event queue, not by recursion: a chain of
            // zero-time requests must not grow the stack.
            self.q.push(SimTime(now), Ev::Resume(n));
        } else {
            p.busy -= 1;
            p.busy_tw.set(SimTime(now), f64::from(p.busy));
            svc.busy_total -= 1;
            svc.util_series.set(
                SimTime(now),
                svc.busy_total as f64 / (def.replicas as f64 * def.concurrency as f64),
            );
        }
    }
}
