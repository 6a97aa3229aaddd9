//! Clients: the `workloads` section — open-loop arrivals with a rate
//! profile or closed-loop users, the endpoint mix, the keys each request
//! carries, timeouts and retries.

pub mod arrivals;
pub mod calls;
pub mod profile;
pub mod traffic;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::stats::CountSeries;
use sim_core::{Dist, DistSpec, RngStream, SimDuration, SimTime};

use crate::kernel::Cx;
use crate::kernel::cx::Event;
use crate::kernel::job::{Call, Job, Reply, Route};
use crate::model::ids::{EndpointId, JobId, ProgramId, ServiceId, WorkloadId};

use crate::kernel::resolve::{Path, Resolve};
use crate::kernel::retry::{self, Retry, RetryDef};
use crate::model::KeyId;
use crate::model::keys::{KeyGen, KeySpec};
use crate::model::vocab::{Destination, Target};
use crate::scenario::ScenarioError;
use arrivals::Arrivals;
pub use calls::Clients;
pub use profile::{RateProfile, RateSeg, RateSegment};
pub use traffic::{Rate, Traffic};

/// The section's name in the file.
pub const SECTION: &str = "workloads";

/// A traffic source: open-loop Poisson arrivals whose rate follows a
/// profile (`rate`), or closed-loop users who send, wait and think
/// (`users`); each request carries keys and is aimed at one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Name, unique among workloads.
    pub name: String,
    /// The load balancer or service that receives the requests.
    pub target: String,
    /// Open loop: the arrival-rate profile, a list of segments played in
    /// order, or `{"profile": NAME, "share": NUMBER}`, a share of a named
    /// profile of the top-level `profiles`. Exactly one of `rate` and
    /// `users`.
    #[serde(default, skip_serializing_if = "Rate::is_empty")]
    pub rate: Rate,
    /// Closed loop: this many users, each sending a request, waiting for
    /// its outcome (retries included), thinking for a draw of
    /// `think_time`, and sending the next. Exactly one of `rate` and
    /// `users`.
    #[serde(default)]
    pub users: Option<u64>,
    /// Closed loop: a user's pause between an outcome and its next
    /// request (required with `users`).
    #[serde(default)]
    pub think_time: Option<DistSpec>,
    /// Endpoint name -> relative weight. Endpoints belong to the target
    /// service (or the service behind the target load balancer).
    pub mix: IndexMap<String, f64>,
    /// Key name -> how its values are drawn. Steps route by these keys.
    #[serde(default)]
    pub keys: IndexMap<String, KeySpec>,
    /// The client gives up after this long and counts a timeout; the system
    /// keeps working on the request (it does not know the client left).
    /// With `retry`, each attempt has this long (a per-try timeout).
    #[serde(default)]
    pub timeout: Option<SimDuration>,
    /// Client retries of failed attempts, with exponential backoff, jitter
    /// and an optional retry budget.
    #[serde(default)]
    pub retry: Option<Retry>,
}

/// A resolved workload.
#[derive(Debug, Clone)]
pub struct WorkloadDef {
    /// Name.
    pub name: String,
    /// Receiver.
    pub target: Target,
    /// The service that executes the requests.
    pub service: ServiceId,
    /// Rate profile.
    pub profile: RateProfile,
    /// (endpoint index, cumulative probability) pairs.
    pub mix: Vec<(EndpointId, f64)>,
    /// Keys this workload draws, with their generators.
    pub keys: Vec<(KeyId, KeySpec, KeyGen)>,
    /// Client timeout (per attempt).
    pub timeout: Option<SimDuration>,
    /// Closed loop: users and their think time (None: open loop, arrivals
    /// from `profile`). A closed-loop workload's `profile` is its offered
    /// rate's upper bound, `users / mean think time`, for readers that
    /// estimate volumes; the simulator does not draw arrivals from it.
    pub users: Option<ClosedLoop>,
    /// Retry policy.
    pub retry: Option<RetryDef>,
}

/// Closed-loop users of a workload.
#[derive(Debug, Clone)]
pub struct ClosedLoop {
    /// Users.
    pub users: u64,
    /// Pause between an outcome and the next request.
    pub think_time: Dist,
}

/// Most closed-loop users of one workload.
pub const MAX_USERS: u64 = 1_000_000;

/// A workload's source of requests, scaled by the scenario's `traffic`:
/// its rate profile (open loop), or its users (closed loop) with the
/// profile of their highest possible rate.
fn workload_source(
    cx: &Resolve<'_>,
    p: &Path,
    w: &Workload,
    traffic: &Traffic,
) -> Result<(RateProfile, Option<ClosedLoop>), ScenarioError> {
    let Some(users) = w.users else {
        if w.think_time.is_some() {
            return Err(cx.err(
                &p.k("think_time"),
                "think_time applies to closed-loop workloads: set `users` instead of `rate`",
            ));
        }
        if w.rate.is_empty() && !cx.has_field(p, "rate") {
            return Err(cx.err(
                p,
                "a workload needs `rate` (open loop: a rate profile) or `users` and `think_time` (closed loop)",
            ));
        }
        return Ok((traffic.offered(cx, &p.k("rate"), &w.rate)?, None));
    };
    if !w.rate.is_empty() || cx.has_field(p, "rate") {
        return Err(cx.err(
            &p.k("users"),
            "a workload has either `rate` (open loop) or `users` (closed loop), not both",
        ));
    }
    if users == 0 || users > MAX_USERS {
        return Err(cx.err(
            &p.k("users"),
            format!("users must be 1 to {MAX_USERS}, got {users}"),
        ));
    }
    let Some(spec) = &w.think_time else {
        return Err(cx.err(
            &p.k("users"),
            "closed-loop users need a `think_time` (e.g. {\"exponential\": {\"mean\": \"5s\"}})",
        ));
    };
    let think_time = cx.dist(&p.k("think_time"), spec)?;
    let users = traffic.users(cx, &p.k("users"), users)?;
    let mean = think_time.mean_ns();
    if !(mean.is_finite() && mean > 0.0) {
        return Err(cx.err(
            &p.k("think_time"),
            "the think time needs a positive, finite mean (users that never pause would send without time passing)",
        ));
    }
    // Users never send faster than one request per think time each.
    let bound = users as f64 / (mean / 1e9);
    let profile = RateProfile {
        segments: vec![RateSeg {
            start: 0,
            end: u64::MAX,
            from: bound,
            to: bound,
            diurnal: None,
            label: Some("closed loop: at most users / mean think time".to_string()),
        }],
    };
    Ok((profile, Some(ClosedLoop { users, think_time })))
}

/// Checks workload `spec` (at `p`), whose name and target the driver has
/// checked, and resolves it, its rate or users scaled by `traffic`.
pub fn resolve(
    spec: &Workload,
    p: &Path,
    dest: &Destination<'_>,
    traffic: &Traffic,
    cx: &Resolve<'_>,
) -> Result<WorkloadDef, ScenarioError> {
    let w = spec;
    // ---- open or closed loop, retries
    let (profile, users) = workload_source(cx, p, w, traffic)?;
    let retry = w
        .retry
        .as_ref()
        .map(|r| retry::resolve(cx, &p.k("retry"), r))
        .transpose()?;
    if w.mix.is_empty() {
        return Err(cx.err(&p.k("mix"), "the mix needs at least one endpoint"));
    }
    let total: f64 = w.mix.values().sum();
    let mut cum = 0.0;
    let mut mix = Vec::new();
    let svc_eps: Vec<&str> = dest.endpoints.iter().map(|(_, n)| *n).collect();
    for (ename, weight) in &w.mix {
        let mp = p.k("mix").k(ename);
        if !(weight.is_finite() && *weight > 0.0) {
            return Err(cx.err(
                &mp,
                format!("a mix weight must be a positive number, got {weight}"),
            ));
        }
        let Some(pos) = svc_eps.iter().position(|e| e == ename) else {
            return Err(cx.unknown(
                &mp,
                &format!("endpoint of service `{}`", dest.service_name),
                ename,
                &svc_eps,
            ));
        };
        cum += weight / total;
        mix.push((dest.endpoints[pos].0, cum));
    }
    if let Some(last) = mix.last_mut() {
        last.1 = 1.0;
    }
    let mut wkeys = Vec::new();
    for (kname, spec) in &w.keys {
        let kgen = KeyGen::new(spec).map_err(|m| cx.err(&p.k("keys").k(kname), m))?;
        let id = cx.keys.get_index_of(kname).expect("interned above");
        wkeys.push((id, spec.clone(), kgen));
    }
    if let Some(t) = w.timeout
        && t.0 == 0
    {
        return Err(cx.err(
            &p.k("timeout"),
            "a timeout must be positive (omit it for none)",
        ));
    }
    Ok(WorkloadDef {
        name: w.name.clone(),
        target: dest.target,
        service: dest.service,
        profile,
        mix,
        keys: wkeys,
        timeout: w.timeout,
        users,
        retry,
    })
}

/// A client's own events.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// Workload `w` sends a request (an open-loop arrival, or a
    /// closed-loop user done thinking).
    Arrival(WorkloadId),
    /// A client's timeout for the attempt of call `call` it sent as its
    /// `serial`-th expires (ignored if that attempt was settled).
    Timeout {
        /// The call (a slot of the call table).
        call: u32,
        /// The attempt's serial number within the call.
        serial: u32,
    },
    /// A client's backoff ended: it sends the next attempt of this call.
    Retry(u32),
}

/// The world's events, as this kind schedules its own ([`Ev`]) and resumes
/// jobs.
pub trait Sink: Event + From<Ev> {}

impl<E: Event + From<Ev>> Sink for E {}

/// One workload's arrivals, endpoint mix, key generators and offered load.
#[derive(Clone)]
pub struct WorkloadState {
    arrivals: Arrivals,
    mix_rng: RngStream,
    keys: Vec<(KeyId, KeyGen, RngStream)>,
    /// Requests generated per time-series bucket (retries excluded).
    pub offered: CountSeries,
}

impl WorkloadState {
    /// Workload `def` at time 0; its streams are named
    /// `workload/NAME/arrivals`, `/mix`, `/key/KEY`.
    pub fn start(def: &WorkloadDef, key_names: &[String], cx: &Cx<impl Event>) -> Self {
        let rng = |what: String| cx.stream(&format!("workload/{}/{what}", def.name));
        WorkloadState {
            arrivals: Arrivals::of(def, rng("arrivals".to_string())),
            mix_rng: rng("mix".to_string()),
            keys: def
                .keys
                .iter()
                .map(|(id, _, kgen)| (*id, kgen.clone(), rng(format!("key/{}", key_names[*id]))))
                .collect(),
            offered: CountSeries::new(cx.spec),
        }
    }

    /// Schedules the workload's first arrival (none for closed-loop
    /// users: see [`Clients::start_users`]).
    pub fn schedule_first(&mut self, w: WorkloadId, def: &WorkloadDef, cx: &mut Cx<impl Sink>) {
        if let Some(t) = self.arrivals.next(&def.profile, cx.period.end.0) {
            cx.at(SimTime(t), Ev::Arrival(w));
        }
    }

    /// Workload `w`'s next request arrives now: schedules the one after,
    /// counts it as generated, draws its endpoint and its keys, and returns
    /// the new job (its route: the workload's balancer, if any).
    #[inline]
    pub fn arrive(
        &mut self,
        w: WorkloadId,
        def: &WorkloadDef,
        programs: &[ProgramId],
        cx: &mut Cx<impl Sink>,
    ) -> JobId {
        let now = cx.now();
        if let Some(t) = self.arrivals.next(&def.profile, cx.period.end.0) {
            cx.at(SimTime(t), Ev::Arrival(w));
        }
        cx.ledger.generated += 1;
        self.offered.add(now, 1.0);
        let u = self.mix_rng.unit();
        let ep = def
            .mix
            .iter()
            .find(|(_, c)| u < *c)
            .unwrap_or(&def.mix[def.mix.len() - 1])
            .0;
        let measured = cx.measures_now();
        let lb = match def.target {
            Target::Lb(l) => Some(l),
            Target::Service(_) => None,
        };
        let route = Route::new(ep, def.service, lb);
        let reply = Reply::Client {
            workload: w,
            call: Call::Untracked,
        };
        let j = cx
            .jobs
            .alloc(Job::new(reply, route, programs[ep], now, measured));
        let keys = cx.jobs.keys_mut(j);
        for (id, kgen, rng) in &mut self.keys {
            keys[*id] = kgen.sample(rng, now.0);
        }
        j
    }
}

/// A workload's offered load over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkloadSeries {
    /// Workload name.
    pub name: String,
    /// Arrivals per second in each bucket.
    pub offered_rps: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{accepted, assert_refused, base, changed, merged};

    /// What a workload refuses: open and closed loop mixed up, closed-loop
    /// users without a think time, a bad mix, bad keys, a zero timeout.
    /// (Rate segments: `profile`; retries: `retries`.)
    #[test]
    fn refusals() {
        let b = base();
        let w = |fields: Value| merged(&b["workloads"][0], fields);
        let users = |fields: Value| {
            w(merged(
                &json!({ "rate": null, "users": 10, "think_time": "1s" }),
                fields,
            ))
        };
        let key = |spec: Value| json!({ "user_id": spec, "item_id": { "uniform": { "n": 100 } } });
        assert_refused(
            &b,
            vec![
                (
                    "/workloads/0",
                    w(json!({ "users": 10, "think_time": "1s" })),
                    "workloads[0].users: a workload has either `rate` (open loop) or `users` (closed loop), not both",
                ),
                (
                    "/workloads/0",
                    w(json!({ "rate": null })),
                    "workloads[0]: a workload needs `rate` (open loop: a rate profile) or `users` and `think_time` (closed loop)",
                ),
                (
                    "/workloads/0/think_time",
                    json!("1s"),
                    "workloads[0].think_time: think_time applies to closed-loop workloads: set `users` instead of `rate`",
                ),
                (
                    "/workloads/0",
                    users(json!({ "users": 0 })),
                    "workloads[0].users: users must be 1 to 1000000, got 0",
                ),
                (
                    "/workloads/0",
                    users(json!({ "users": 1_000_001 })),
                    "workloads[0].users: users must be 1 to 1000000, got 1000001",
                ),
                (
                    "/workloads/0",
                    users(json!({ "users": -3 })),
                    "workloads[0].users: invalid value: integer `-3`",
                ),
                (
                    "/workloads/0",
                    users(json!({ "think_time": null })),
                    "workloads[0].users: closed-loop users need a `think_time`",
                ),
                (
                    "/workloads/0",
                    users(json!({ "think_time": "-1s" })),
                    "workloads[0].think_time: invalid duration \"-1s\"",
                ),
                (
                    "/workloads/0",
                    users(json!({ "think_time": "0s" })),
                    "workloads[0].think_time: the think time needs a positive, finite mean",
                ),
                (
                    "/workloads/0",
                    users(json!({ "think_time": { "exponential": { "mean": "0s" } } })),
                    "workloads[0].think_time: exponential: mean (0s) must be positive",
                ),
                (
                    "/workloads/0/mix",
                    json!({}),
                    "workloads[0].mix: the mix needs at least one endpoint",
                ),
                (
                    "/workloads/0/mix/get",
                    json!(0),
                    "workloads[0].mix.get: a mix weight must be a positive number, got 0",
                ),
                (
                    "/workloads/0/mix/put",
                    json!(-1),
                    "workloads[0].mix.put: a mix weight must be a positive number, got -1",
                ),
                (
                    "/workloads/0/mix/gte",
                    json!(1),
                    "workloads[0].mix.gte: no endpoint of service `app` named `gte` (known: get, put)\n  help: did you mean `get`?",
                ),
                (
                    "/workloads/0/keys",
                    key(json!({ "uniform": { "n": 0 } })),
                    "workloads[0].keys.user_id: n must be at least 1",
                ),
                (
                    "/workloads/0/keys",
                    key(json!({ "zipf": { "n": 10, "s": -1 } })),
                    "workloads[0].keys.user_id: s must be a finite number >= 0, got -1",
                ),
                (
                    "/workloads/0/keys",
                    key(json!({ "hot_set": { "n": 1, "hot_fraction": 0.1, "hot_share": 0.9 } })),
                    "workloads[0].keys.user_id: n must be at least 2 for a hot set",
                ),
                (
                    "/workloads/0/keys",
                    key(json!({ "hot_set": { "n": 10, "hot_fraction": 1, "hot_share": 0.9 } })),
                    "workloads[0].keys.user_id: hot_fraction must be in (0, 1), got 1",
                ),
                (
                    "/workloads/0/keys",
                    key(json!({ "hot_set": { "n": 10, "hot_fraction": 0.1, "hot_share": 2 } })),
                    "workloads[0].keys.user_id: hot_share must be in [0, 1], got 2",
                ),
                (
                    "/workloads/0/keys",
                    key(json!({ "timestamp": { "resolution": "0s" } })),
                    "workloads[0].keys.user_id: resolution must be positive",
                ),
                (
                    "/workloads/0/timeout",
                    json!("0s"),
                    "workloads[0].timeout: a timeout must be positive (omit it for none)",
                ),
            ],
        );
    }

    /// Closed-loop users with a think time load.
    #[test]
    fn closed_loop_users_load() {
        let b = base();
        let users = merged(
            &b["workloads"][0],
            json!({ "rate": null, "users": 10, "think_time": "1s" }),
        );
        accepted(&changed(&b, &[("/workloads/0", users)]));
    }
}
