//! Stability: a service whose queue is unbounded must have the workers
//! its peak arrival rate needs.

use sim_core::{Dist, SimDuration};

use super::model::Model;
use crate::kernel::resolve::{Path, Resolve};
use crate::kinds::service::ServiceDef;
use crate::model::ids::ProgramId;
use crate::model::program::Instr;
use crate::scenario::ScenarioError;

/// Minimum mean time a program holds its worker: compute, cache, database
/// service and publish acknowledgement means, taking the cheaper branch of
/// each cache lookup, and no queueing; a call holds it for the callee's
/// minimum plus the round trip (at most the call's timeout), a parallel
/// step for its longest branch, a branch step for the weighted mean of its
/// arms.
pub(super) fn min_holding_ns(m: &Model, prog: ProgramId) -> f64 {
    let instrs = &m.programs[prog].instrs;
    walk(m, instrs, 0, instrs.len()).0
}

/// The minimum holding time from `from` up to `to` or a jump, and where
/// the walk stopped (`to`, or the jump's target).
fn walk(m: &Model, instrs: &[Instr], from: usize, to: usize) -> (f64, usize) {
    let mut t = 0.0;
    let mut pc = from;
    while pc < to {
        match &instrs[pc] {
            Instr::Compute { dist } => t += m.step_dists[*dist].0.mean_ns(),
            Instr::CacheGet { cache, skip_to, .. } => {
                let c = &m.caches[*cache];
                let hit = c.hit.mean_ns();
                let miss = c.miss.mean_ns()
                    + walk(m, instrs, pc + 1, skip_to - 1).0
                    + c.fill.as_ref().map_or(0.0, Dist::mean_ns);
                t += hit.min(miss);
                pc = *skip_to;
                continue;
            }
            Instr::CacheFill { .. } => {}
            Instr::Read { db, .. } => t += m.databases[*db].read.mean_ns(),
            // The slowest of several reads takes at least a read's mean.
            Instr::Scatter { db, .. } => t += m.databases[*db].read.mean_ns(),
            Instr::Write { db, .. } => t += m.databases[*db].write.mean_ns(),
            Instr::Publish { queue, .. } => {
                t += m.queues[*queue]
                    .publish_latency
                    .as_ref()
                    .map_or(0.0, Dist::mean_ns)
            }
            Instr::Call { call } => {
                let c = &m.calls[*call as usize];
                let answer = c.latency.as_ref().map_or(0.0, Dist::mean_ns)
                    + min_holding_ns(m, m.endpoints[c.ep].program);
                // The caller gives up on an attempt at its timeout.
                t += c.timeout.map_or(answer, |to| answer.min(to.0 as f64));
            }
            Instr::Parallel { programs } => {
                t += programs
                    .iter()
                    .map(|&p| min_holding_ns(m, p))
                    .fold(0.0, f64::max);
            }
            Instr::Branch { branch, arms } => {
                let (arm, end) =
                    weighted_arms(m, *branch, arms, to, |start| walk(m, instrs, start, to));
                t += arm;
                pc = end;
                continue;
            }
            Instr::Jump { to } => return (t, *to as usize),
        }
        pc += 1;
    }
    (t, to)
}

/// A branch step's arms measured by `arm` (a figure, and where the arm
/// ended): their mean by the arms' weights, and where the step ends
/// (`to` if it has no arm).
fn weighted_arms(
    m: &Model,
    branch: u32,
    arms: &[u32],
    to: usize,
    mut arm: impl FnMut(usize) -> (f64, usize),
) -> (f64, usize) {
    let (mut t, mut prev, mut end) = (0.0, 0.0, to);
    for (&cum, &start) in m.branches[branch as usize].cum.iter().zip(arms) {
        let (x, stop) = arm(start as usize);
        t += (cum - prev) * x;
        prev = cum;
        end = stop;
    }
    (t, end)
}

/// Mean compute time of a program on its own pod's cores (an event
/// loop's demand): its compute steps, every parallel branch's, the
/// weighted mean of a branch step's arms; waits hold no core. Compute in a
/// cache's `on_miss` is left out (it may not run).
fn compute_ns(m: &Model, prog: ProgramId) -> f64 {
    let instrs = &m.programs[prog].instrs;
    compute_from(m, instrs, 0).0
}

/// Compute from `pc` to the end or a jump, and where it stopped.
fn compute_from(m: &Model, instrs: &[Instr], mut pc: usize) -> (f64, usize) {
    let mut t = 0.0;
    while let Some(ins) = instrs.get(pc) {
        match ins {
            Instr::Compute { dist } => t += m.step_dists[*dist].0.mean_ns(),
            Instr::CacheGet { skip_to, .. } => {
                pc = *skip_to;
                continue;
            }
            Instr::Parallel { programs } => {
                t += programs.iter().map(|&p| compute_ns(m, p)).sum::<f64>();
            }
            Instr::Branch { branch, arms } => {
                let (arm, end) = weighted_arms(m, *branch, arms, instrs.len(), |start| {
                    compute_from(m, instrs, start)
                });
                t += arm;
                pc = end;
                continue;
            }
            Instr::Jump { to } => return (t, *to as usize),
            _ => {}
        }
        pc += 1;
    }
    (t, instrs.len())
}

/// Adds to `rates` (per endpoint) the calls a program run `rate` times a
/// second surely makes — its own and its callees', to any depth; calls
/// behind a cache miss or a retry may not happen and are left out.
///
/// A `throttled` program runs for a [`bounded`] service, or for a callee
/// whose every caller up the chain waits for it on a bounded service's
/// workers: it cannot hold more requests than those workers, so its
/// calls cannot pile up anywhere and are left out — except calls the
/// caller may give up on (a `timeout` or a hedge), whose abandoned
/// attempts keep running at the callee; those count at the rate sent.
fn push_calls(m: &Model, prog: ProgramId, rate: f64, throttled: bool, rates: &mut [f64]) {
    let instrs = &m.programs[prog].instrs;
    let mut pc = 0;
    let mut weight = 1.0;
    push_from(m, instrs, &mut pc, &mut weight, rate, throttled, rates);
}

fn push_from(
    m: &Model,
    instrs: &[Instr],
    pc: &mut usize,
    weight: &mut f64,
    rate: f64,
    throttled: bool,
    rates: &mut [f64],
) {
    while let Some(ins) = instrs.get(*pc) {
        match ins {
            Instr::CacheGet { skip_to, .. } => {
                *pc = *skip_to;
                continue;
            }
            Instr::Call { call } => {
                let c = &m.calls[*call as usize];
                let abandoned = c.timeout.is_some() || c.hedge.is_some();
                if !throttled || abandoned {
                    rates[c.ep.ix()] += rate * *weight;
                }
                let callee_throttled =
                    bounded(&m.services[m.endpoints[c.ep].service]) || (throttled && !abandoned);
                push_calls(
                    m,
                    m.endpoints[c.ep].program,
                    rate * *weight,
                    callee_throttled,
                    rates,
                );
            }
            Instr::Parallel { programs } => {
                for &p in programs {
                    push_calls(m, p, rate * *weight, throttled, rates);
                }
            }
            Instr::Branch { branch, arms } => {
                let mut prev = 0.0;
                let mut end = instrs.len();
                for (&cum, &start) in m.branches[*branch as usize].cum.iter().zip(arms) {
                    let mut at = start as usize;
                    let mut w = *weight * (cum - prev);
                    push_from(m, instrs, &mut at, &mut w, rate, throttled, rates);
                    prev = cum;
                    end = at;
                }
                *pc = end;
                continue;
            }
            Instr::Jump { to } => {
                *pc = *to as usize;
                return;
            }
            _ => {}
        }
        *pc += 1;
    }
}

/// Whether the requests a service holds at once are bounded: a thread
/// pool with a `queue_capacity`, an event loop with one and with
/// `max_in_flight` (its run queue is bounded only by that).
///
/// Such a service cannot be unstable, and the rate at which it makes calls
/// is not a known share of what it is sent: overload is rejected, and a
/// slow callee holds its workers longer, so it admits less (back
/// pressure). Its calls are not counted at its callees, unless it may
/// give up on them (see [`push_calls`]).
fn bounded(s: &ServiceDef) -> bool {
    if s.event_loop {
        s.queue_capacity.is_some() && s.slots != u32::MAX
    } else {
        s.queue_capacity.is_some()
    }
}

/// A service with an unbounded queue whose peak arrival rate needs more
/// busy workers than it has would grow its queue without bound: refuse it.
pub fn check(cx: &Resolve<'_>, m: &Model) -> Result<(), ScenarioError> {
    // The calls open-loop workloads' requests surely make, per callee
    // endpoint: a bounded service rejects what it cannot take, and the
    // calls it waits for are throttled by its workers (left out).
    let mut called = vec![0.0; m.endpoints.len()];
    if !m.calls.is_empty() {
        for w in m.workloads.iter().filter(|w| w.users.is_none()) {
            let throttled = bounded(&m.services[w.service]);
            let (peak, _) = w.profile.peak(m.duration.0);
            let mut prev = 0.0;
            for &(e, cum) in &w.mix {
                let rate = peak * (cum - prev);
                push_calls(m, m.endpoints[e].program, rate, throttled, &mut called);
                prev = cum;
            }
        }
    }
    for (si, s) in m.services.iter().enumerate() {
        if bounded(s) {
            continue;
        }
        // What a request holds: a worker for its whole life, or an event
        // loop's core while it computes.
        let holding = |p: ProgramId| {
            if s.event_loop {
                compute_ns(m, p)
            } else {
                min_holding_ns(m, p)
            }
        };
        let mut rate = 0.0;
        let mut demand = 0.0;
        let mut at = 0;
        // Closed-loop users cannot overload a queue: each waits for its
        // outcome before sending again, so they slow down instead.
        for w in m
            .workloads
            .iter()
            .filter(|w| w.service.ix() == si && w.users.is_none())
        {
            let (peak, t) = w.profile.peak(m.duration.0);
            rate += peak;
            at = t;
            let mut prev = 0.0;
            for &(e, cum) in &w.mix {
                demand += peak * (cum - prev) * holding(m.endpoints[e].program) / 1e9;
                prev = cum;
            }
        }
        for &e in &s.endpoints {
            if called[e.ix()] > 0.0 {
                rate += called[e.ix()];
                demand += called[e.ix()] * holding(m.endpoints[e].program) / 1e9;
            }
        }
        let workers = f64::from(s.replicas) * f64::from(s.concurrency);
        if demand >= workers {
            return Err(cx.unstable(
                &Path::root("services").i(si),
                format!(
                    "unstable: arrival rate exceeds capacity at service `{}`: {rate:.0} requests/s at {} need at least {demand:.1} busy workers on average, but it has {} x {} = {workers:.0}, and its queue is unbounded; add replicas or concurrency, or set queue_capacity so overload is rejected and counted",
                    s.name,
                    SimDuration(at),
                    s.replicas,
                    s.concurrency
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::system::compile::testing::{accepted, assert_refused, base, changed};

    /// A service with an unbounded queue is refused when its peak arrival
    /// rate needs more workers than it has, whether the peak is constant
    /// or the top of a ramp; with a bounded queue it is accepted (the
    /// overload is rejected and counted).
    #[test]
    fn refusals() {
        let b = base();
        let unstable = "services[0]: unstable: arrival rate exceeds capacity at service `app`: 5000 requests/s at ";
        assert_refused(
            &b,
            vec![
                ("/workloads/0/rate/0/rps", json!(5000), unstable),
                (
                    "/workloads/0/rate",
                    json!([{ "for": "10s", "ramp_to": 5000 }, { "rps": 10 }]),
                    unstable,
                ),
            ],
        );
        let overloaded = changed(&b, &[("/workloads/0/rate/0/rps", json!(5000))]);
        accepted(&changed(
            &overloaded,
            &[("/services/0/queue_capacity", json!(10))],
        ));
    }

    /// A front calling a backend ten times too small: refused when the
    /// front's queue is unbounded (it serves all 1000 requests/s, so the
    /// backend is sent 1000 calls/s) or when it may give up on the call
    /// (a timeout), run when the front bounds its queue and waits (the
    /// backend's slowness holds the front's workers, the front rejects
    /// the rest, and the backend's queue never exceeds the front's 4
    /// workers). Found by the conservation property (a bounded station
    /// with parallel calls was refused as unstable at its callee).
    #[test]
    fn calls_from_a_bounded_service_are_throttled_not_unstable() {
        let doc = |front_queue: Option<u64>| {
            let mut front = json!({
                "name": "front", "replicas": 1, "concurrency": 4,
                "endpoints": { "serve": [
                    { "compute": "1ms" },
                    { "call": { "target": "backend", "endpoint": "get" } }
                ] }
            });
            match front_queue {
                Some(q) => front["queue_capacity"] = json!(q),
                None => front["concurrency"] = json!(20),
            }
            json!({
                "name": "calls", "duration": "5s",
                "workloads": [{ "name": "users", "target": "front", "rate": [{ "rps": 1000 }],
                                "mix": { "serve": 1 } }],
                "services": [front, {
                    "name": "backend", "replicas": 1, "concurrency": 1,
                    "endpoints": { "get": [{ "compute": "10ms" }] }
                }]
            })
            .to_string()
        };
        let err = crate::load("calls.json", &doc(None), &[]).unwrap_err();
        assert_eq!(err.path, "services[1]", "{err}");
        assert!(
            err.message.starts_with(
                "unstable: arrival rate exceeds capacity at service `backend`: 1000 requests/s"
            ),
            "{err}"
        );
        // A call the front may give up on leaves its attempt running at
        // the backend, where abandoned attempts can pile up: counted
        // (refused) again.
        let mut abandoning: serde_json::Value = serde_json::from_str(&doc(Some(10))).unwrap();
        abandoning["services"][0]["endpoints"]["serve"][1]["call"]["timeout"] = json!("50ms");
        let err = crate::load("calls.json", &abandoning.to_string(), &[]).unwrap_err();
        assert_eq!(err.path, "services[1]", "{err}");
        let (_, model) =
            crate::load("calls.json", &doc(Some(10)), &[]).unwrap_or_else(|e| panic!("{e}"));
        let r = crate::simulate(&model).unwrap_or_else(|e| panic!("{e:?}"));
        // The backend answers about 100 calls a second; the front rejects
        // most of its 1000 requests a second instead of piling them up.
        let backend = r.services.iter().find(|s| s.name == "backend").unwrap();
        let front = r.services.iter().find(|s| s.name == "front").unwrap();
        assert!(backend.utilisation > 0.9, "{}", backend.utilisation);
        assert!(
            backend.queue_length_max <= 3.0,
            "{}",
            backend.queue_length_max
        );
        assert!(front.rejected > 4000, "{}", front.rejected);
    }
}
