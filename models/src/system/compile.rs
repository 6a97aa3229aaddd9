//! The compile driver: a scenario's text in, the resolved [`Model`] out,
//! or the first error in a fixed order — unprintable text (the first
//! string or key in the document holding a control character), names,
//! the traffic knobs
//! (`load_factor`, `profiles` and the workloads' references to them),
//! durations, keys, then each
//! section (services with their programs, balancers, caches, databases,
//! queues), cache invalidations, workloads, CDN edges, objectives, faults,
//! and stability last. The order is a promise to users: the first error
//! reported for a bad file does not change from one release to the next.

use sim_core::SimDuration;

use super::limits::{self, Limits};
use super::model::Model;
use super::program::{Builder, reachable_keys};
use super::scenario::Scenario;
use super::topology::TopologyDef;
use super::{faults, objectives, price, printable, stability};
use crate::kernel::resolve::{Path, Resolve, Sender};
use crate::kinds::balancer::{self, LbDef};
use crate::kinds::call::{self, CallDef};
use crate::kinds::client::{Traffic, WorkloadDef};
use crate::kinds::queue::QueueDef;
use crate::kinds::service::{self, EndpointDef, ServiceDef};
use crate::kinds::{cache, cdn, client, database, queue};
use crate::model::faults::{FaultDef, FaultTarget};
use crate::model::ids::{EndpointId, ProgramId};
use crate::model::ids::{LbId, ServiceId};
use crate::model::keys::KeyGen;
use crate::model::program::Instr;
use crate::model::vocab::{Destination, Target};
use crate::scenario::{PathSeg, ScenarioError, parse_document, parse_value};

/// Most time-series buckets per run.
pub const MAX_BUCKETS: u64 = 10_000;

/// Parses, overrides and validates a scenario.
///
/// `file` names the file in messages and tells JSON from YAML (`.yaml`
/// or `.yml`: YAML, `.json`: JSON, any other name such as `<stdin>`:
/// JSON if `text` starts with `{`, else YAML); `sets` are `PATH=VALUE` overrides applied before validation (as
/// `capsim run --set`).
pub fn load(file: &str, text: &str, sets: &[String]) -> Result<(Scenario, Model), ScenarioError> {
    load_within(file, text, sets, &Limits::default())
}

/// [`load`], refusing a scenario whose run would take more memory or send
/// more requests than `limits` allow (see [`limits`](super::limits)).
pub fn load_within(
    file: &str,
    text: &str,
    sets: &[String],
    limits: &Limits,
) -> Result<(Scenario, Model), ScenarioError> {
    let parsed = parse_document(file, text, sets)?;
    compile_parsed(file, text, parsed, sets, limits)
}

/// [`load`] for a document already parsed (with
/// [`parse_text`](crate::scenario::parse_text)); errors are located in
/// `text`. A sweep parses its file once and builds every variant from a
/// clone of the document, so a variant costs the same however large the
/// file is.
pub fn load_value(
    file: &str,
    text: &str,
    doc: serde_json::Value,
    sets: &[String],
    limits: &Limits,
) -> Result<(Scenario, Model), ScenarioError> {
    let parsed = parse_value(file, text, doc, sets)?;
    compile_parsed(file, text, parsed, sets, limits)
}

/// Validates a parsed, overridden document into a [`Model`]: its memory
/// estimate first, from its counts (nothing is built yet, so a file that
/// asks for 2^31 range shards is refused before their boundaries are),
/// its expected requests last.
fn compile_parsed(
    file: &str,
    text: &str,
    (scenario, doc): (Scenario, serde_json::Value),
    sets: &[String],
    limits: &Limits,
) -> Result<(Scenario, Model), ScenarioError> {
    let mut cx = Resolve::new(file, text, &doc, sets);
    limits::check_memory(&cx, &scenario, limits)?;
    let model = compile(&mut cx, &scenario)?;
    limits::check_requests(&cx, &scenario, &model, limits)?;
    Ok((scenario, model))
}

/// Reads `path` (UTF-8, a byte-order mark dropped: see
/// [`read_file`](crate::scenario::read_file)) and [`load`]s it.
pub fn load_file(
    path: &std::path::Path,
    sets: &[String],
) -> Result<(Scenario, Model), ScenarioError> {
    let (file, text) = crate::scenario::read_file(path)?;
    load(&file, &text, sets)
}

/// The sections whose entries have names, unique across all of them, in
/// the order they are registered (and listed in "did you mean" hints).
fn named_sections(sc: &Scenario) -> [(&'static str, Vec<&str>); 6] {
    [
        (
            balancer::SECTION,
            sc.load_balancers.iter().map(|c| c.name.as_str()).collect(),
        ),
        (
            service::SECTION,
            sc.services.iter().map(|c| c.name.as_str()).collect(),
        ),
        (
            cache::SECTION,
            sc.caches.iter().map(|c| c.name.as_str()).collect(),
        ),
        (
            database::SECTION,
            sc.databases.iter().map(|c| c.name.as_str()).collect(),
        ),
        (
            queue::SECTION,
            sc.queues.iter().map(|c| c.name.as_str()).collect(),
        ),
        (
            cdn::SECTION,
            sc.cdns.iter().map(|c| c.name.as_str()).collect(),
        ),
    ]
}

/// Where requests sent to `name` (at `at`) go: a balancer (and the
/// service behind it) or a service, with the service's endpoints.
fn destination<'a>(
    cx: &Resolve<'_>,
    at: &Path,
    name: &str,
    lbs: &[LbDef],
    services: &'a [ServiceDef],
    endpoints: &'a [EndpointDef],
) -> Result<Destination<'a>, ScenarioError> {
    let (section, i) = cx.component(
        at,
        name,
        &[balancer::SECTION, service::SECTION],
        "load balancer or service",
    )?;
    let (target, service) = if section == balancer::SECTION {
        (Target::Lb(LbId::new(i)), lbs[i].service)
    } else {
        (Target::Service(ServiceId::new(i)), ServiceId::new(i))
    };
    Ok(Destination {
        target,
        service,
        service_name: &services[service].name,
        endpoints: services[service]
            .endpoints
            .iter()
            .map(|&e| (e, endpoints[e].name.as_str()))
            .collect(),
    })
}

/// Validates `sc` and resolves it into a [`Model`].
pub fn compile(cx: &mut Resolve<'_>, sc: &Scenario) -> Result<Model, ScenarioError> {
    printable::check(cx)?;
    if sc.name.trim().is_empty() {
        return Err(cx.err(&Path::root("name"), "the scenario needs a non-empty name"));
    }

    // ---- unique component names
    for (section, list) in named_sections(sc) {
        for (i, n) in list.iter().enumerate() {
            let path = Path::root(section).i(i).k("name");
            if n.trim().is_empty() {
                return Err(cx.err(&path, "a component needs a non-empty name"));
            }
            if !cx.names.insert(n, section, i) {
                return Err(cx.err(
                    &path,
                    format!("the name `{n}` is used twice; component names must be unique"),
                ));
            }
        }
    }
    if sc.workloads.is_empty() {
        return Err(cx.err(
            &Path::root(client::SECTION),
            "at least one workload is needed",
        ));
    }
    if sc.services.is_empty() {
        return Err(cx.err(
            &Path::root(service::SECTION),
            "at least one service is needed",
        ));
    }

    // ---- traffic: the load factor, the shared rate profiles and the
    // workloads' references to them
    let traffic = client::traffic::resolve(cx, sc.load_factor, &sc.profiles, &sc.workloads)?;

    // ---- durations
    let (duration, interval) = durations(cx, sc)?;

    // ---- keys: interned from every workload's key list
    for w in &sc.workloads {
        for (k, spec) in &w.keys {
            let space = KeyGen::space(spec, duration.0);
            let e = cx.keys.entry(k.clone()).or_insert(space);
            *e = match (*e, space) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
    }
    cx.senders = sc
        .workloads
        .iter()
        .map(|w| Sender {
            name: w.name.clone(),
            target: w.target.clone(),
            mix: w.mix.keys().cloned().collect(),
            keys: w.keys.keys().cloned().collect(),
        })
        .collect();
    let cx: &Resolve<'_> = cx;
    let mut b = Builder::new(sc);

    // ---- services and endpoints
    let mut services = Vec::new();
    let mut endpoints = Vec::new();
    for (si, s) in sc.services.iter().enumerate() {
        let p = Path::root(service::SECTION).i(si);
        services.push(service::resolve(s, &p, si, cx, &mut b, &mut endpoints)?);
    }

    // ---- load balancers
    let mut lbs = Vec::new();
    for (i, l) in sc.load_balancers.iter().enumerate() {
        let p = Path::root(balancer::SECTION).i(i);
        let service = cx.index_in(&p.k("target"), &l.target, service::SECTION, "service")?;
        lbs.push(balancer::resolve(l, &p, ServiceId::new(service), cx)?);
    }

    // ---- service calls: their targets, then no cycles
    let calls = resolve_calls(cx, &b, &lbs, &services, &endpoints)?;
    check_call_cycles(cx, &b, &calls, &endpoints, &services)?;

    // ---- caches
    let mut caches = Vec::new();
    for (i, c) in sc.caches.iter().enumerate() {
        caches.push(cache::resolve(c, &Path::root(cache::SECTION).i(i), cx)?);
    }

    // ---- databases
    let mut dbs = Vec::new();
    for (i, d) in sc.databases.iter().enumerate() {
        dbs.push(database::resolve(
            d,
            &Path::root(database::SECTION).i(i),
            cx,
        )?);
    }

    // ---- queues
    let mut queues = Vec::new();
    for (i, q) in sc.queues.iter().enumerate() {
        queues.push(queue::resolve(cx, &mut b, &sc.queues, i, q)?);
    }

    b.check_invalidations(cx)?;

    // ---- workloads
    let workloads = workloads(
        cx, sc, &traffic, &b, &calls, &lbs, &services, &endpoints, &queues,
    )?;
    let key_names: Vec<String> = cx.keys.keys().cloned().collect();

    // ---- CDN edges
    let mut cdns = Vec::new();
    for (i, c) in sc.cdns.iter().enumerate() {
        let p = Path::root(cdn::SECTION).i(i);
        let dest = destination(cx, &p.k("origin"), &c.origin, &lbs, &services, &endpoints)?;
        let def = cdn::resolve(c, &p, &dest, &cdns, cx)?;
        cdns.push(def);
    }

    let Builder {
        programs,
        step_dists,
        branches,
        ..
    } = b;
    let objectives = objectives::resolve(cx, sc, duration)?;
    let faults = faults::resolve(cx, sc, duration)?;
    // What faults touch keeps the state they need: pods that come and go,
    // keys mapped to cache nodes.
    for f in &faults {
        match *f {
            FaultDef::KillPods { service, .. } => services[service].faulted = true,
            FaultDef::SlowDown {
                target: FaultTarget::Cache { cache, .. },
                ..
            }
            | FaultDef::Outage {
                target: FaultTarget::Cache { cache, .. },
                ..
            } => caches[cache].faulted = true,
            FaultDef::SlowDown { .. }
            | FaultDef::Outage { .. }
            | FaultDef::PartitionConsumers { .. } => {}
        }
    }
    let mut model = Model {
        name: sc.name.clone(),
        description: sc.description.clone(),
        seed: sc.seed,
        duration,
        warmup: sc.warmup,
        interval,
        keys: key_names,
        workloads,
        load_balancers: lbs,
        services,
        endpoints,
        caches,
        cdns,
        databases: dbs,
        queues,
        programs,
        step_dists,
        calls,
        branches,
        objectives,
        faults,
        topology: TopologyDef::default(),
    };
    model.topology = TopologyDef::build(&model);
    price::check_finite(cx, sc, &model)?;
    stability::check(cx, &model)?;
    Ok(model)
}

/// Each call step's target and endpoint, in the order the steps were
/// compiled.
fn resolve_calls(
    cx: &Resolve<'_>,
    b: &Builder<'_>,
    lbs: &[LbDef],
    services: &[ServiceDef],
    endpoints: &[EndpointDef],
) -> Result<Vec<CallDef>, ScenarioError> {
    let mut calls = Vec::new();
    for pc in &b.calls {
        let dest = destination(
            cx,
            &pc.path.k("target"),
            &pc.spec.target,
            lbs,
            services,
            endpoints,
        )?;
        let from = endpoints
            .iter()
            .find(|e| e.program == pc.root)
            .map(|e| format!("{}.{}", services[e.service].name, e.name))
            .expect("calls are compiled in endpoints only");
        calls.push(call::resolve(
            &pc.spec,
            &pc.path,
            from,
            pc.stream.clone(),
            &dest,
            cx,
        )?);
    }
    Ok(calls)
}

/// The calls a program makes, directly or in its parallel branches.
fn calls_in(programs: &[crate::model::program::Program], prog: ProgramId, out: &mut Vec<u32>) {
    for ins in &programs[prog].instrs {
        match ins {
            Instr::Call { call } => out.push(*call),
            Instr::Parallel { programs: subs } => {
                for &p in subs {
                    calls_in(programs, p, out);
                }
            }
            _ => {}
        }
    }
}

/// Refuses a cycle in the call graph (an endpoint that calls itself,
/// directly or through others): its requests would never end. The error
/// is at the call step that closes the cycle, with the cycle's path.
fn check_call_cycles(
    cx: &Resolve<'_>,
    b: &Builder<'_>,
    calls: &[CallDef],
    endpoints: &[EndpointDef],
    services: &[ServiceDef],
) -> Result<(), ScenarioError> {
    if calls.is_empty() {
        return Ok(());
    }
    let edges: Vec<Vec<u32>> = endpoints
        .iter()
        .map(|e| {
            let mut out = Vec::new();
            calls_in(&b.programs, e.program, &mut out);
            out
        })
        .collect();
    let name = |e: EndpointId| {
        format!(
            "{}.{}",
            services[endpoints[e].service].name, endpoints[e].name
        )
    };
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; endpoints.len()];
    for start in 0..endpoints.len() {
        if state[start] != 0 {
            continue;
        }
        // Depth-first, with the path as (endpoint, next edge) frames.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (e, ref mut next)) = stack.last_mut() {
            let Some(&c) = edges[e].get(*next) else {
                state[e] = 2;
                stack.pop();
                continue;
            };
            *next += 1;
            let to = calls[c as usize].ep.ix();
            match state[to] {
                0 => {
                    state[to] = 1;
                    stack.push((to, 0));
                }
                1 => {
                    let from = stack
                        .iter()
                        .position(|&(x, _)| x == to)
                        .expect("on the path");
                    let mut cycle: Vec<String> = stack[from..]
                        .iter()
                        .map(|&(x, _)| name(EndpointId::new(x)))
                        .collect();
                    cycle.push(name(EndpointId::new(to)));
                    return Err(cx.err(
                        &b.calls[c as usize].path,
                        format!(
                            "this call closes a cycle ({}): a request would call itself without end",
                            cycle.join(" -> ")
                        ),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The workloads: unique names, their destinations, and every key the
/// programs their requests reach (through publishes and calls too) drawn
/// by each.
#[allow(clippy::too_many_arguments)]
fn workloads(
    cx: &Resolve<'_>,
    sc: &Scenario,
    traffic: &Traffic,
    b: &Builder<'_>,
    calls: &[CallDef],
    lbs: &[LbDef],
    services: &[ServiceDef],
    endpoints: &[EndpointDef],
    queues: &[QueueDef],
) -> Result<Vec<WorkloadDef>, ScenarioError> {
    let mut workloads = Vec::new();
    let mut wnames: Vec<&str> = Vec::new();
    for (wi, w) in sc.workloads.iter().enumerate() {
        let p = Path::root(client::SECTION).i(wi);
        if w.name.trim().is_empty() {
            return Err(cx.err(&p.k("name"), "a workload needs a non-empty name"));
        }
        if wnames.contains(&w.name.as_str()) {
            return Err(cx.err(
                &p.k("name"),
                format!("the workload name `{}` is used twice", w.name),
            ));
        }
        wnames.push(&w.name);
        let dest = destination(cx, &p.k("target"), &w.target, lbs, services, endpoints)?;
        let def = client::resolve(w, &p, &dest, traffic, cx)?;
        // Every key the reachable programs use must be drawn here.
        for &(e, _) in &def.mix {
            let ep = &endpoints[e];
            let callee = |c: u32| endpoints[calls[c as usize].ep].program;
            let reach = reachable_keys(&b.programs, &b.key_uses, queues, &callee, ep.program);
            for (kid, kpath) in reach {
                if !def.keys.iter().any(|(id, _, _)| *id == kid) {
                    // What reads the key: a step, a queue's partitioning or
                    // a service's sessions.
                    let last = |k: &str| matches!(kpath.0.last(), Some(PathSeg::Key(x)) if x == k);
                    let user = if last("partition_key") {
                        "this queue partitions by"
                    } else if last("key")
                        && kpath
                            .0
                            .iter()
                            .any(|s| *s == PathSeg::Key("sessions".into()))
                    {
                        "this service keeps its sessions by"
                    } else {
                        "this step routes by"
                    };
                    return Err(cx.err(
                        &kpath,
                        format!(
                            "{user} key `{}`, but workload `{}` (which calls endpoint `{}`) does not draw it; add it to workloads[{wi}].keys",
                            cx.key_name(kid), w.name, ep.name
                        ),
                    ));
                }
            }
        }
        workloads.push(def);
    }
    Ok(workloads)
}

/// The run's duration (given, or the longest rate profile) and its
/// time-series interval (given, or about 120 buckets).
fn durations(cx: &Resolve<'_>, sc: &Scenario) -> Result<(SimDuration, SimDuration), ScenarioError> {
    let mut profile_end: Option<u64> = Some(0);
    for w in &sc.workloads {
        // Closed-loop users (no `rate`) send until the end: open-ended.
        let total: Option<u64> = w
            .rate
            .segments(&sc.profiles)
            .iter()
            .map(|s| s.length.map(|d| d.0))
            .try_fold(0u64, |acc, d| d.map(|d| acc.saturating_add(d)))
            .filter(|_| w.users.is_none());
        profile_end = match (profile_end, total) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    let duration = match (sc.duration, profile_end) {
        (Some(d), _) => d,
        (None, Some(d)) => SimDuration(d),
        (None, None) => {
            return Err(cx.err(
                &Path::root("duration"),
                "set `duration`: a workload's rate profile ends with an open-ended segment",
            ));
        }
    };
    if duration.0 == 0 {
        return Err(cx.err(&Path::root("duration"), "the duration must be positive"));
    }
    if sc.warmup >= duration {
        return Err(cx.err(
            &Path::root("warmup"),
            format!(
                "the warm-up ({}) must be shorter than the duration ({duration})",
                sc.warmup
            ),
        ));
    }
    let interval = match sc.time_series_interval {
        Some(i) => {
            if i.0 == 0 {
                return Err(cx.err(&Path::root("time_series_interval"), "must be positive"));
            }
            i
        }
        None => {
            // About 120 buckets: whole seconds for runs of two minutes or
            // more, whole milliseconds below.
            let s = sim_core::time::SECS;
            let ms = sim_core::time::MILLIS;
            if duration.0 >= 120 * s {
                SimDuration((duration.0 / 120 / s).max(1) * s)
            } else {
                SimDuration(duration.0.div_ceil(120).div_ceil(ms).max(1) * ms)
            }
        }
    };
    let buckets = duration.0.div_ceil(interval.0);
    if buckets > MAX_BUCKETS {
        return Err(cx.err(
            &Path::root("time_series_interval"),
            format!(
                "{interval} gives {buckets} time-series buckets over {duration}; the limit is {MAX_BUCKETS}"
            ),
        ));
    }
    Ok((duration, interval))
}

/// What the refusal tables beside each kind share: a valid scenario with
/// one of every section, and the error a change to it gets.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::{Value, json};

    use super::{Model, load};

    /// A valid scenario with one of every section: workloads drawing two
    /// keys, a balancer, a service with sessions whose endpoints use
    /// compute, cache, read, write (with an invalidation) and publish
    /// steps, a cache, a CDN edge, a database, a queue, a fault and an
    /// objective.
    pub(crate) fn base() -> Value {
        json!({
            "name": "base", "duration": "20s",
            "workloads": [{
                "name": "users", "target": "lb", "rate": [{ "rps": 50 }],
                "mix": { "get": 3, "put": 1 },
                "keys": { "user_id": { "uniform": { "n": 1000 } },
                          "item_id": { "uniform": { "n": 100 } } }
            }],
            "load_balancers": [{ "name": "lb", "target": "app", "max_connections": 1000 }],
            "services": [{
                "name": "app", "replicas": 2, "concurrency": 4, "restart_delay": "10s",
                "sessions": { "store": "local", "key": "user_id", "ttl": "30m" },
                "endpoints": {
                    "get": [{ "compute": { "exponential": { "mean": "2ms" } } },
                            { "cache": { "cache": "c", "key": "user_id",
                                         "on_miss": [{ "read": { "db": "d" } }] } }],
                    "put": [{ "write": { "db": "d", "key": "user_id", "invalidate": ["c"] } },
                            { "publish": { "queue": "q" } }]
                }
            }],
            "caches": [{ "name": "c", "capacity": 100, "hit_latency": "1ms" }],
            "cdns": [{ "name": "edge", "origin": "lb", "endpoints": ["get"],
                       "capacity": 10, "hit_latency": "5ms" }],
            "databases": [{ "name": "d", "shards": 2, "shard_key": "user_id",
                            "connections": 4, "read_time": "1ms", "write_time": "2ms" }],
            "queues": [{ "name": "q", "partitions": 2, "consumers": 1,
                         "work": [{ "compute": "1ms" }] }],
            "faults": [{ "at": "5s", "kill_pods": { "service": "app", "count": 1 } }],
            "slo": [{ "endpoint": "get", "p99": "100ms" }]
        })
    }

    /// A second workload, `bots`, sending `get` to the balancer and
    /// drawing `user_id` only: the sender that lacks `item_id`.
    pub(crate) fn bots() -> Value {
        json!({ "name": "bots", "target": "lb", "rate": [{ "rps": 1 }],
                "mix": { "get": 1 }, "keys": { "user_id": { "uniform": { "n": 10 } } } })
    }

    /// The object `v` with `fields` set; a null field is removed.
    pub(crate) fn merged(v: &Value, fields: Value) -> Value {
        let mut v = v.clone();
        let obj = v.as_object_mut().expect("an object");
        for (k, x) in fields.as_object().expect("fields") {
            if x.is_null() {
                obj.shift_remove(k);
            } else {
                obj.insert(k.clone(), x.clone());
            }
        }
        v
    }

    /// `base` with each value put at its JSON pointer; the last segment
    /// may name a new field of an object or the next element of an array.
    pub(crate) fn changed(base: &Value, changes: &[(&str, Value)]) -> Value {
        let mut doc = base.clone();
        for (pointer, value) in changes {
            let (parent, last) = pointer.rsplit_once('/').expect("a JSON pointer");
            let last = last.replace("~1", "/").replace("~0", "~");
            match doc.pointer_mut(parent) {
                Some(Value::Object(o)) => {
                    o.insert(last, value.clone());
                }
                Some(Value::Array(a)) => {
                    let i: usize = last.parse().expect("an index");
                    if i == a.len() {
                        a.push(value.clone());
                    } else {
                        a[i] = value.clone();
                    }
                }
                _ => panic!("{pointer}: no object or array at {parent:?}"),
            }
        }
        doc
    }

    /// `doc` loaded as `bad.json`.
    pub(crate) fn accepted(doc: &Value) -> Model {
        let text = serde_json::to_string_pretty(doc).expect("json");
        load("bad.json", &text, &[])
            .unwrap_or_else(|e| panic!("refused: {e}"))
            .1
    }

    /// The error `doc` gets as `bad.json` (pretty-printed), as displayed;
    /// panics if it loads or if the message does not start with
    /// `bad.json:LINE:COLUMN: `.
    pub(crate) fn error(doc: &Value) -> String {
        let text = serde_json::to_string_pretty(doc).expect("json");
        let err = match load("bad.json", &text, &[]) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        };
        let located = err.strip_prefix("bad.json:").and_then(|rest| {
            let mut parts = rest.splitn(3, ':');
            let line: usize = parts.next()?.parse().ok()?;
            let column: usize = parts.next()?.parse().ok()?;
            (line > 0 && column > 0 && parts.next()?.starts_with(' ')).then_some(())
        });
        assert!(located.is_some(), "no bad.json:LINE:COLUMN in: {err}");
        err
    }

    /// `base` with `value` at `pointer` (see [`changed`]) is refused: the
    /// error as displayed.
    pub(crate) fn refused(base: &Value, pointer: &str, value: Value) -> String {
        error(&changed(base, &[(pointer, value)]))
    }

    /// Each case `(pointer, bad value, want)`: `base` with the value at
    /// the pointer is refused with a located message whose text after
    /// `bad.json:LINE:COLUMN: ` starts with `want` (the field's path, then
    /// what is wrong with it). Every case is tried; the panic lists each
    /// one that failed.
    pub(crate) fn assert_refused(base: &Value, cases: Vec<(&str, Value, &str)>) {
        let failed: Vec<String> = cases
            .into_iter()
            .filter_map(|(pointer, value, want)| {
                let err = refused(base, pointer, value.clone());
                let message = err.splitn(4, ':').nth(3).unwrap_or_default();
                (!message.trim_start().starts_with(want)).then(|| {
                    let value: String = value.to_string().chars().take(200).collect();
                    let err: String = err.chars().take(1000).collect();
                    format!("{pointer} = {value}:\n got: {err}\nwant: bad.json:LINE:COLUMN: {want}")
                })
            })
            .collect();
        assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::load;
    use super::testing::{accepted, assert_refused, base, bots, changed, merged};

    /// The base of every refusal table loads, and has one of every kind.
    #[test]
    fn the_base_loads() {
        let m = accepted(&base());
        let counts = [
            m.workloads.len(),
            m.load_balancers.len(),
            m.services.len(),
            m.caches.len(),
            m.cdns.len(),
            m.databases.len(),
            m.queues.len(),
            m.faults.len(),
            m.objectives.len(),
        ];
        assert_eq!(counts, [1; 9]);
    }

    /// What the driver refuses itself: names, durations, workloads'
    /// names and targets, and keys a workload's requests need but it does
    /// not draw.
    #[test]
    fn refusals() {
        let b = base();
        let keyless = merged(&bots(), json!({ "keys": {} }));
        assert_refused(
            &b,
            vec![
                (
                    "/name",
                    json!(""),
                    "name: the scenario needs a non-empty name",
                ),
                (
                    "/name",
                    json!("  "),
                    "name: the scenario needs a non-empty name",
                ),
                (
                    "/caches/0/name",
                    json!(" "),
                    "caches[0].name: a component needs a non-empty name",
                ),
                (
                    "/caches/0/name",
                    json!("app"),
                    "caches[0].name: the name `app` is used twice; component names must be unique",
                ),
                (
                    "/cdns/0/name",
                    json!("lb"),
                    "cdns[0].name: the name `lb` is used twice",
                ),
                (
                    "/workloads",
                    json!([]),
                    "workloads: at least one workload is needed",
                ),
                (
                    "/services",
                    json!([]),
                    "services: at least one service is needed",
                ),
                (
                    "/duration",
                    Value::Null,
                    "duration: set `duration`: a workload's rate profile ends with an open-ended segment",
                ),
                (
                    "/duration",
                    json!("0s"),
                    "duration: the duration must be positive",
                ),
                (
                    "/warmup",
                    json!("20s"),
                    "warmup: the warm-up (20s) must be shorter than the duration (20s)",
                ),
                (
                    "/time_series_interval",
                    json!("0s"),
                    "time_series_interval: must be positive",
                ),
                (
                    "/time_series_interval",
                    json!("1ms"),
                    "time_series_interval: 1ms gives 20000 time-series buckets over 20s; the limit is 10000",
                ),
                (
                    "/workloads/0/name",
                    json!(""),
                    "workloads[0].name: a workload needs a non-empty name",
                ),
                (
                    "/workloads/1",
                    merged(&bots(), json!({ "name": "users" })),
                    "workloads[1].name: the workload name `users` is used twice",
                ),
                (
                    "/workloads/0/target",
                    json!("ap"),
                    "workloads[0].target: no load balancer or service named `ap` (known: lb, app)\n  help: did you mean `app`?",
                ),
                (
                    "/workloads/0/target",
                    json!("c"),
                    "workloads[0].target: no load balancer or service named `c` (known: lb, app)",
                ),
                (
                    "/workloads/1",
                    keyless.clone(),
                    "services[0].endpoints.get[1].cache.key: this step routes by key `user_id`, but workload `bots` (which calls endpoint `get`) does not draw it; add it to workloads[1].keys",
                ),
            ],
        );
        // Keys reached through a publish: the queue's work, and a
        // dead-letter queue's partition key.
        let puts = merged(&bots(), json!({ "mix": { "put": 1 } }));
        let dead = json!({ "name": "dl", "partitions": 2, "partition_key": "item_id",
                           "consumers": 1, "work": [{ "compute": "1ms" }] });
        assert_refused(
            &changed(&b, &[("/workloads/1", puts)]),
            vec![
                (
                    "/queues/0/work/0",
                    json!({ "read": { "db": "d", "key": "item_id" } }),
                    "queues[0].work[0].read.key: this step routes by key `item_id`, but workload `bots` (which calls endpoint `put`) does not draw it; add it to workloads[1].keys",
                ),
                (
                    "/queues",
                    json!([
                        merged(&b["queues"][0], json!({ "dead_letter_queue": "dl" })),
                        dead
                    ]),
                    "queues[1].partition_key: this queue partitions by key `item_id`, but workload `bots` (which calls endpoint `put`)",
                ),
            ],
        );
    }

    /// With many errors in one file, validation reports the first in a fixed
    /// order — names, durations, services (their steps and sessions included),
    /// balancers, caches, databases, queues, cache invalidations, workloads,
    /// CDN edges, objectives, faults, stability — so a user fixing a file
    /// meets its errors in the same order from one release to the next. The
    /// ladder breaks every field at once, then mends them one by one and
    /// checks that each time the next one is reported.
    #[test]
    fn validation_reports_errors_in_a_fixed_order() {
        let ladder: &[(&str, Value, &str)] = &[
            (
                "/name",
                "".into(),
                "name: the scenario needs a non-empty name",
            ),
            (
                "/caches/0/name",
                "app".into(),
                "caches[0].name: the name `app` is used twice",
            ),
            (
                "/duration",
                "0s".into(),
                "duration: the duration must be positive",
            ),
            (
                "/services/0/replicas",
                0.into(),
                "services[0].replicas: a service needs at least 1 replica",
            ),
            (
                "/services/0/concurrency",
                0.into(),
                "services[0].concurrency: a pod needs at least 1 worker",
            ),
            (
                "/services/0/endpoints/get/1/cache/cache",
                "cc".into(),
                "services[0].endpoints.get[1].cache.cache: no cache named `cc`",
            ),
            (
                "/services/0/endpoints/put/0/write/invalidate/0",
                "c2".into(),
                "services[0].endpoints.put[0].write.invalidate[0]: no cache named `c2`",
            ),
            (
                "/services/0/sessions/ttl",
                "0s".into(),
                "services[0].sessions.ttl: must be positive",
            ),
            (
                "/services/0/restart_delay",
                json!(true),
                "services[0].restart_delay: invalid type",
            ),
            (
                "/load_balancers/0/max_connections",
                0.into(),
                "load_balancers[0].max_connections: must be at least 1",
            ),
            (
                "/caches/0/capacity",
                0.into(),
                "caches[0].capacity: a cache needs a capacity of at least 1 key",
            ),
            (
                "/databases/0/connections",
                0.into(),
                "databases[0].connections: a shard needs at least 1 connection",
            ),
            (
                "/queues/0/partitions",
                0.into(),
                "queues[0].partitions: a queue needs at least 1 partition",
            ),
            (
                "/services/0/endpoints/put/0/write/key",
                "item_id".into(),
                "services[0].endpoints.put[0].write.invalidate[0]: this write routes by `item_id` but cache `c` holds `user_id` values",
            ),
            (
                "/workloads/0/mix/get",
                0.into(),
                "workloads[0].mix.get: a mix weight must be a positive number",
            ),
            (
                "/cdns/0/capacity",
                0.into(),
                "cdns[0].capacity: a CDN needs a capacity of at least 1 response",
            ),
            (
                "/slo/0/endpoint",
                "gett".into(),
                "slo[0].endpoint: no endpoint named `gett`",
            ),
            (
                "/faults/0/at",
                "30s".into(),
                "faults[0].at: the fault starts at 30s but the run lasts 20s",
            ),
            (
                "/workloads/0/rate/0/rps",
                5000.into(),
                "services[0]: unstable: arrival rate exceeds capacity at service `app`",
            ),
        ];
        let mut doc = base();
        let first = load("ladder.json", &doc.to_string(), &[]);
        assert!(first.is_ok(), "the base is valid: {:?}", first.err());
        let good: Vec<Value> = ladder
            .iter()
            .map(|(at, _, _)| doc.pointer(at).cloned().unwrap_or(Value::Null))
            .collect();
        // The serde-level error (a wrong type) comes before every check of
        // values; it is mended first.
        for (at, bad, _) in ladder {
            *doc.pointer_mut(at).unwrap_or_else(|| panic!("{at}")) = bad.clone();
        }
        let serde_first = load("ladder.json", &doc.to_string(), &[])
            .expect_err("refused")
            .to_string();
        assert!(
            serde_first.contains("services[0].restart_delay: invalid type"),
            "{serde_first}"
        );
        let restart = ladder
            .iter()
            .position(|(at, _, _)| at.ends_with("restart_delay"))
            .unwrap();
        *doc.pointer_mut(ladder[restart].0).unwrap() = good[restart].clone();
        for (i, (at, _, want)) in ladder.iter().enumerate() {
            if i == restart {
                continue;
            }
            let err = load("ladder.json", &doc.to_string(), &[])
                .expect_err("refused")
                .to_string();
            assert!(
                err.contains(want),
                "step {i} ({at}): expected `{want}` first, got: {err}"
            );
            assert!(err.starts_with("ladder.json:"), "{err}");
            *doc.pointer_mut(at).unwrap() = good[i].clone();
        }
        assert!(load("ladder.json", &doc.to_string(), &[]).is_ok());
    }
}
