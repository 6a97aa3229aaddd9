//! The compile driver: a scenario's text in, the resolved [`Model`] out,
//! or the first error in a fixed order — names, durations, keys, then each
//! section (services with their programs, balancers, caches, databases,
//! queues), cache invalidations, workloads, CDN edges, objectives, faults,
//! and stability last. The order is a promise to users: the first error
//! reported for a bad file does not change from one release to the next.

use sim_core::SimDuration;

use super::model::Model;
use super::program::{Builder, reachable_keys};
use super::scenario::Scenario;
use super::{faults, objectives, stability};
use crate::kernel::resolve::{Path, Resolve, Sender};
use crate::kinds::balancer::{self, LbDef};
use crate::kinds::client::WorkloadDef;
use crate::kinds::queue::QueueDef;
use crate::kinds::service::{self, EndpointDef, ServiceDef};
use crate::kinds::{cache, cdn, client, database, queue};
use crate::model::faults::{FaultDef, FaultTarget};
use crate::model::ids::{LbId, ServiceId};
use crate::model::keys::KeyGen;
use crate::model::vocab::{Destination, Target};
use crate::scenario::ScenarioError;
use crate::scenario::parse_document;

/// Most time-series buckets per run.
pub const MAX_BUCKETS: u64 = 10_000;

/// Parses, overrides and validates a scenario.
///
/// `file` names the file in messages; `sets` are `PATH=VALUE` overrides
/// applied before validation (as `capsim run --set`).
pub fn load(file: &str, text: &str, sets: &[String]) -> Result<(Scenario, Model), ScenarioError> {
    let (scenario, doc): (Scenario, serde_json::Value) = parse_document(file, text, sets)?;
    let mut cx = Resolve::new(file, text, &doc, sets);
    let model = compile(&mut cx, &scenario)?;
    Ok((scenario, model))
}

/// Reads `path` and [`load`]s it.
pub fn load_file(
    path: &std::path::Path,
    sets: &[String],
) -> Result<(Scenario, Model), ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(&file, &e))?;
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
    let workloads = workloads(cx, sc, &b, &lbs, &services, &endpoints, &queues)?;
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
    let model = Model {
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
        objectives,
        faults,
    };
    stability::check(cx, &model)?;
    Ok(model)
}

/// The workloads: unique names, their destinations, and every key the
/// programs their requests reach (through publishes too) drawn by each.
fn workloads(
    cx: &Resolve<'_>,
    sc: &Scenario,
    b: &Builder<'_>,
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
        let def = client::resolve(w, &p, &dest, cx)?;
        // Every key the reachable programs use must be drawn here.
        for &(e, _) in &def.mix {
            let ep = &endpoints[e];
            let reach = reachable_keys(&b.programs, &b.key_uses, queues, ep.program);
            for (kid, kpath) in reach {
                if !def.keys.iter().any(|(id, _, _)| *id == kid) {
                    return Err(cx.err(
                        &kpath,
                        format!(
                            "this step routes by key `{}`, but workload `{}` (which calls endpoint `{}`) does not draw it; add it to workloads[{wi}].keys",
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
