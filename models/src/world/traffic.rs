//! Requests: arrivals, balancing to a pod, rejection, and handing a freed
//! worker the next waiting request.

use sim_core::SimTime;

use super::state::{Phase, PodView};
use super::{Ev, Job, NONE, Owner, World};
use crate::kinds::balancer::LbPolicy;
use crate::model::vocab::Target;

impl World<'_> {
    // ------------------------------------------------------------ arrivals

    pub(super) fn arrival(&mut self, w: usize) {
        let m = self.m;
        let wdef = &m.workloads[w];
        let now = self.now();
        if let Some(t) = self.workloads[w].arrivals.next(&wdef.profile, self.cx.end) {
            self.cx.q.push(SimTime(t), Ev::Arrival(w as u32));
        }
        self.cx.ledger.generated += 1;
        self.workloads[w].offered.add(SimTime(now), 1.0);
        let u = self.workloads[w].mix_rng.unit();
        let ep = wdef
            .mix
            .iter()
            .find(|(_, c)| u < *c)
            .unwrap_or(&wdef.mix[wdef.mix.len() - 1])
            .0;
        let measured = now >= self.cx.warmup && now < self.cx.measure_end;
        let lb = match wdef.target {
            Target::Lb(l) => l as u32,
            Target::Service(_) => NONE,
        };
        let j = self.cx.alloc(Job {
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
            fanout: 0,
            measured,
            live: true,
            killed: false,
            call: NONE,
        });
        let base = j as usize * self.cx.nkeys;
        for (id, kgen, rng) in &mut self.workloads[w].keys {
            self.cx.job_keys[base + *id] = kgen.sample(rng, now);
        }
        if measured {
            self.eps[ep].count += 1;
        }
        // ---- the client's state (clients.rs): retries, closed-loop users.
        self.open_call(j, w, ep);
        self.send(j, w, ep);
    }

    /// Sends request `j` of workload `w` for endpoint `ep` — a new request
    /// or a client's retry (clients.rs) — through the workload's path: the
    /// CDN edge, the balancer (or straight to the service), a pod.
    pub(super) fn send(&mut self, j: u32, w: usize, ep: usize) {
        let m = self.m;
        let wdef = &m.workloads[w];
        let now = self.now();
        // ---- CDN edge (cdn.rs): a hit is answered there, a miss goes on.
        if self.edge(j, w, ep) {
            return;
        }
        match wdef.target {
            Target::Service(_) => self.dispatch(j),
            Target::Lb(l) => {
                let ldef = &m.load_balancers[l];
                self.lbs[l].requests += 1;
                // ---- the gateway's rate limiter (gateway.rs): HTTP 429.
                if !self.rate_limit(l, j) {
                    return;
                }
                let st = &mut self.lbs[l];
                if let Some(max) = ldef.max_connections
                    && st.in_flight >= max
                {
                    st.rejected += 1;
                    if let Owner::Request { lb, .. } = &mut self.cx.jobs[j as usize].owner {
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
                        self.cx.q.push(SimTime(now + delay), Ev::Dispatch(j));
                    }
                    _ => self.dispatch(j),
                }
            }
        }
    }

    /// Picks a pod and hands the request to it.
    pub(super) fn dispatch(&mut self, j: u32) {
        let now = self.now();
        let Owner::Request { service, lb, .. } = self.cx.jobs[j as usize].owner else {
            unreachable!("only requests are dispatched")
        };
        let s = service as usize;
        let picked = if lb == NONE {
            self.pick_direct(s)
        } else {
            self.pick_balanced(lb as usize, j)
        };
        let Some(pod) = picked else {
            // No pod to send to: the balancer (or the service's proxy)
            // answers 503.
            if lb != NONE {
                self.lbs[lb as usize].rejected += 1;
            }
            self.reject(j);
            return;
        };
        if let Owner::Request { pod: p, .. } = &mut self.cx.jobs[j as usize].owner {
            *p = pod as u32;
        }
        let def = &self.m.services[s];
        let svc = &mut self.services[s];
        let p = &mut svc.pods[pod];
        if p.phase != Phase::Ready {
            // A crashed pod the balancer still believes in: the connection
            // is refused (HTTP 502).
            p.aborted += 1;
            if lb != NONE {
                self.lbs[lb as usize].sent_to_down += 1;
            }
            if let Owner::Request { pod: p, .. } = &mut self.cx.jobs[j as usize].owner {
                *p = NONE;
            }
            self.abort(j);
            return;
        }
        let runs = p.busy < def.concurrency;
        let waits = !runs
            && def
                .queue_capacity
                .is_none_or(|c| (p.queue.len() as u64) < c);
        if (runs || waits) && def.sessions.is_some() {
            // Taken by the pod: its session is found or not (sessions.rs).
            self.session(s, pod, j);
        }
        let svc = &mut self.services[s];
        let p = &mut svc.pods[pod];
        p.requests += 1;
        if runs {
            svc.wait_n += 1; // served at once: a wait of zero
            p.busy += 1;
            p.busy_tw.set(SimTime(now), f64::from(p.busy));
            svc.busy_total += 1;
            if svc.hpa {
                svc.hpa_busy.set(SimTime(now), svc.busy_total as f64);
            }
            let cap = svc.capacity(def.concurrency);
            svc.util_series
                .set(SimTime(now), svc.busy_total as f64 / cap);
            self.run_program(j);
        } else if waits {
            p.queue.push_back(j);
            p.queue_tw.set(SimTime(now), p.queue.len() as f64);
            svc.queued_total += 1;
            svc.queued_tw.set(SimTime(now), svc.queued_total as f64);
            if svc.hpa {
                svc.hpa_queued.set(SimTime(now), svc.queued_total as f64);
            }
            svc.queue_series.set(SimTime(now), svc.queued_total as f64);
            self.cx.jobs[j as usize].wait_from = now;
        } else {
            p.rejected += 1;
            if let Owner::Request { pod: p, .. } = &mut self.cx.jobs[j as usize].owner {
                *p = NONE;
            }
            self.reject(j);
        }
    }

    /// A workload aimed straight at a service: its ready pods in turn (as a
    /// Kubernetes Service, which only lists ready endpoints).
    fn pick_direct(&mut self, s: usize) -> Option<usize> {
        let svc = &mut self.services[s];
        let n = svc.pods.len();
        for k in 1..=n {
            let i = (svc.rr + k) % n;
            if svc.pods[i].phase == Phase::Ready {
                svc.rr = i;
                return Some(i);
            }
        }
        None
    }

    /// A balancer's choice among the pods it believes healthy.
    fn pick_balanced(&mut self, l: usize, j: u32) -> Option<usize> {
        let def = &self.m.load_balancers[l];
        let s = def.service;
        let pods = &self.services[s].pods;
        let st = &mut self.lbs[l];
        PodView::cover(&mut st.views, pods.len());
        let n = pods.len();
        let routable = |i: usize| pods[i].registered && st.views[i].healthy;
        match def.policy {
            LbPolicy::RoundRobin => {
                for k in 1..=n {
                    let i = (st.rr + k) % n;
                    if routable(i) {
                        st.rr = i;
                        return Some(i);
                    }
                }
                None
            }
            LbPolicy::WeightedRoundRobin => {
                // nginx's smooth weighted round robin: every routable pod
                // gains its weight, the largest wins and pays the total.
                if st.current.len() < n {
                    st.current.resize(n, 0);
                }
                let mut total = 0i64;
                let mut best: Option<usize> = None;
                for (i, pod) in pods.iter().enumerate() {
                    if !(pod.registered && st.views[i].healthy) {
                        continue;
                    }
                    let w = i64::from(def.weights.get(i).copied().unwrap_or(1));
                    st.current[i] += w;
                    total += w;
                    if best.is_none_or(|b| st.current[i] > st.current[b]) {
                        best = Some(i);
                    }
                }
                if let Some(b) = best {
                    st.current[b] -= total;
                }
                best
            }
            LbPolicy::LeastConnections => {
                // Fewest in flight; ties go to the next in turn so that an
                // idle pool is used evenly.
                let start = st.rr;
                st.rr = (st.rr + 1) % n;
                let mut best: Option<usize> = None;
                for k in 0..n {
                    let i = (start + k) % n;
                    if routable(i) && best.is_none_or(|b| pods[i].load() < pods[b].load()) {
                        best = Some(i);
                    }
                }
                best
            }
            LbPolicy::Random | LbPolicy::PowerOfTwoChoices => {
                routable_into(&mut st.scratch, pods, &st.views);
                let k = st.scratch.len() as u64;
                let rng = st.pick_rng.as_mut().expect("a pick stream");
                match k {
                    0 => None,
                    1 => Some(st.scratch[0] as usize),
                    _ if def.policy == LbPolicy::Random => {
                        Some(st.scratch[rng.below(k) as usize] as usize)
                    }
                    _ => {
                        // Two distinct pods: the second drawn among the
                        // other k - 1.
                        let a = rng.below(k);
                        let mut b = rng.below(k - 1);
                        if b >= a {
                            b += 1;
                        }
                        let (a, b) = (
                            st.scratch[a as usize] as usize,
                            st.scratch[b as usize] as usize,
                        );
                        Some(if pods[b].load() < pods[a].load() {
                            b
                        } else {
                            a
                        })
                    }
                }
            }
            LbPolicy::Hash => {
                let key = def.hash_key.expect("validated: hash needs a key");
                let value =
                    sim_core::stable_hash(self.cx.job_keys[j as usize * self.cx.nkeys + key]);
                if def.consistent {
                    pods_ring(&mut st.ring, n);
                    let start = st.ring.partition_point(|&(p, _)| p < value);
                    let len = st.ring.len();
                    (0..len)
                        .map(|k| st.ring[(start + k) % len].1 as usize)
                        .find(|&i| pods[i].registered && st.views[i].healthy)
                } else {
                    routable_into(&mut st.scratch, pods, &st.views);
                    let k = st.scratch.len() as u64;
                    (k > 0).then(|| st.scratch[(value % k) as usize] as usize)
                }
            }
        }
    }

    /// A request refused with HTTP 503.
    pub(super) fn reject(&mut self, j: u32) {
        let now = self.now();
        let Owner::Request { lb, .. } = self.cx.jobs[j as usize].owner else {
            unreachable!()
        };
        self.count_failure(j, super::clients::Outcome::Rejected);
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
            if svc.hpa {
                svc.hpa_queued.set(SimTime(now), svc.queued_total as f64);
            }
            svc.queue_series.set(SimTime(now), svc.queued_total as f64);
            svc.wait_sum_ns += (now - self.cx.jobs[n as usize].wait_from) as f64;
            svc.wait_n += 1;
            // Continue through the event queue, not by recursion: a chain of
            // zero-time requests must not grow the stack.
            self.cx.q.push(SimTime(now), Ev::Resume(n));
        } else {
            p.busy -= 1;
            p.busy_tw.set(SimTime(now), f64::from(p.busy));
            let drained = p.phase == Phase::Draining && p.busy == 0;
            svc.busy_total -= 1;
            if svc.hpa {
                svc.hpa_busy.set(SimTime(now), svc.busy_total as f64);
            }
            let cap = svc.capacity(def.concurrency);
            svc.util_series
                .set(SimTime(now), svc.busy_total as f64 / cap);
            if drained {
                self.pod_gone(s, pod);
            }
        }
    }
}

/// The pods a balancer may send to: registered and healthy in its view.
fn routable_into(out: &mut Vec<u32>, pods: &[super::state::Pod], views: &[PodView]) {
    out.clear();
    for (i, (p, v)) in pods.iter().zip(views).enumerate() {
        if p.registered && v.healthy {
            out.push(i as u32);
        }
    }
}

/// Places pod slots `0..n` on a consistent-hash ring (160 points each, as
/// ketama), adding the slots not placed yet; slots are never removed, so a
/// pod's points stay put while it comes and goes.
fn pods_ring(ring: &mut Vec<(u64, u32)>, n: usize) {
    const POINTS: u64 = 160;
    let placed = ring.len() / POINTS as usize;
    if placed >= n {
        return;
    }
    for slot in placed..n {
        for v in 0..POINTS {
            let point = sim_core::stable_hash(((slot as u64) << 32) | v);
            ring.push((point, slot as u32));
        }
    }
    ring.sort_unstable();
}

#[cfg(test)]
mod tests {
    use super::pods_ring;

    fn owner(ring: &[(u64, u32)], key: u64) -> u32 {
        let h = sim_core::stable_hash(key);
        let i = ring.partition_point(|&(p, _)| p < h);
        ring[i % ring.len()].1
    }

    /// Adding a fifth pod to a ring of four moves only the keys the new
    /// pod takes: about 1/5 of them (160 points per pod: the new pod's
    /// share has a coefficient of variation of about 1/sqrt(160) = 8%, so
    /// 0.2 ± 0.05 holds for any layout worth the name), and every moved key
    /// moves to the new pod. `hash mod n` would move 4/5.
    #[test]
    fn a_new_pod_takes_about_its_share_and_nothing_else_moves() {
        let mut ring = Vec::new();
        pods_ring(&mut ring, 4);
        let before: Vec<u32> = (0..20_000).map(|k| owner(&ring, k)).collect();
        pods_ring(&mut ring, 5);
        let mut moved = 0;
        for (k, b) in before.iter().enumerate() {
            let a = owner(&ring, k as u64);
            if a != *b {
                assert_eq!(a, 4, "key {k} moved between old pods");
                moved += 1;
            }
        }
        let f = f64::from(moved) / 20_000.0;
        assert!((f - 0.2).abs() < 0.05, "{f}");
        let modulo = (0..20_000u64)
            .filter(|k| sim_core::stable_hash(*k) % 4 != sim_core::stable_hash(*k) % 5)
            .count() as f64
            / 20_000.0;
        assert!((modulo - 0.8).abs() < 0.02, "{modulo}");
    }
}
