//! Validation: turns the file form ([`Scenario`]) into the resolved
//! [`Model`], or explains, with the file location and field path, what is
//! wrong. Checks names and references (with suggestions), value ranges,
//! distributions, keys that steps use but no workload draws, and stability
//! of services whose queue is unbounded.

use indexmap::IndexMap;
use sim_core::{Dist, DistSpec, SimDuration};

use super::error::suggest;
use super::schema::*;
use super::{PathSeg, ScenarioError};
use crate::keys::KeyGen;
use crate::model::*;

/// Where errors are reported: the file, its text (to locate paths), and the
/// `--set` overrides with the document they produced (values they wrote
/// are not in the file and are reported against the `--set`).
pub struct Ctx<'a> {
    /// File name as given by the user.
    pub file: &'a str,
    /// The file's text.
    pub text: &'a str,
    /// The document after the overrides.
    pub doc: &'a serde_json::Value,
    /// The `--set` assignments, in order.
    pub sets: &'a [String],
}

/// A field path under construction.
#[derive(Clone, Debug, Default)]
struct P(Vec<PathSeg>);

impl P {
    fn k(&self, key: &str) -> P {
        let mut v = self.0.clone();
        v.push(PathSeg::Key(key.to_string()));
        P(v)
    }
    fn i(&self, index: usize) -> P {
        let mut v = self.0.clone();
        v.push(PathSeg::Index(index));
        P(v)
    }
}

fn root(key: &str) -> P {
    P(vec![PathSeg::Key(key.to_string())])
}

impl Ctx<'_> {
    fn err(&self, path: &P, message: impl Into<String>) -> ScenarioError {
        ScenarioError::invalid(self.file, self.text, &path.0, message.into())
            .attribute_to_sets(self.text, self.doc, self.sets)
    }

    fn unstable(&self, path: &P, message: impl Into<String>) -> ScenarioError {
        ScenarioError::unstable(self.file, self.text, &path.0, message.into())
            .attribute_to_sets(self.text, self.doc, self.sets)
    }

    fn unknown(&self, path: &P, what: &str, name: &str, known: &[&str]) -> ScenarioError {
        let list = if known.is_empty() {
            "there are none".to_string()
        } else {
            format!("known: {}", known.join(", "))
        };
        let e = self.err(path, format!("no {what} named `{name}` ({list})"));
        match suggest(name, known.iter().copied()) {
            Some(s) => e.with_suggestion(s),
            None => e,
        }
    }

    fn dist(&self, path: &P, spec: &DistSpec) -> Result<Dist, ScenarioError> {
        Dist::from_spec(spec).map_err(|e| self.err(path, e.to_string()))
    }

    fn price(&self, path: &P, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.err(
                path,
                format!("a price must be a finite number >= 0, got {v}"),
            ))
        }
    }
}

/// Component kinds, for unique-name checks and messages.
#[derive(Clone, Copy)]
enum Kind {
    Lb(usize),
    Service(usize),
    Cache(usize),
    Db(usize),
    Queue(usize),
    Cdn,
}

struct Names {
    all: IndexMap<String, Kind>,
}

impl Names {
    fn of_kind(&self, f: fn(Kind) -> bool) -> Vec<&str> {
        self.all
            .iter()
            .filter(|(_, k)| f(**k))
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// Validates `sc` and resolves it into a [`Model`].
pub fn validate(ctx: &Ctx<'_>, sc: &Scenario) -> Result<Model, ScenarioError> {
    if sc.name.trim().is_empty() {
        return Err(ctx.err(&root("name"), "the scenario needs a non-empty name"));
    }

    // ---- unique component names
    let mut names = Names {
        all: IndexMap::new(),
    };
    type Group<'a> = (&'a str, Vec<&'a str>, fn(usize) -> Kind);
    let groups: [Group<'_>; 6] = [
        (
            "load_balancers",
            sc.load_balancers.iter().map(|c| c.name.as_str()).collect(),
            Kind::Lb,
        ),
        (
            "services",
            sc.services.iter().map(|c| c.name.as_str()).collect(),
            Kind::Service,
        ),
        (
            "caches",
            sc.caches.iter().map(|c| c.name.as_str()).collect(),
            Kind::Cache,
        ),
        (
            "databases",
            sc.databases.iter().map(|c| c.name.as_str()).collect(),
            Kind::Db,
        ),
        (
            "queues",
            sc.queues.iter().map(|c| c.name.as_str()).collect(),
            Kind::Queue,
        ),
        (
            "cdns",
            sc.cdns.iter().map(|c| c.name.as_str()).collect(),
            |_| Kind::Cdn,
        ),
    ];
    for (group, list, mk) in groups {
        for (i, n) in list.iter().enumerate() {
            let path = root(group).i(i).k("name");
            if n.trim().is_empty() {
                return Err(ctx.err(&path, "a component needs a non-empty name"));
            }
            if names.all.insert((*n).to_string(), mk(i)).is_some() {
                return Err(ctx.err(
                    &path,
                    format!("the name `{n}` is used twice; component names must be unique"),
                ));
            }
        }
    }
    if sc.workloads.is_empty() {
        return Err(ctx.err(&root("workloads"), "at least one workload is needed"));
    }
    if sc.services.is_empty() {
        return Err(ctx.err(&root("services"), "at least one service is needed"));
    }

    // ---- durations
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
            return Err(ctx.err(
                &root("duration"),
                "set `duration`: a workload's rate profile ends with an open-ended segment",
            ));
        }
    };
    if duration.0 == 0 {
        return Err(ctx.err(&root("duration"), "the duration must be positive"));
    }
    if sc.warmup >= duration {
        return Err(ctx.err(
            &root("warmup"),
            format!(
                "the warm-up ({}) must be shorter than the duration ({duration})",
                sc.warmup
            ),
        ));
    }
    let interval = match sc.time_series_interval {
        Some(i) => {
            if i.0 == 0 {
                return Err(ctx.err(&root("time_series_interval"), "must be positive"));
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
        return Err(ctx.err(
            &root("time_series_interval"),
            format!(
                "{interval} gives {buckets} time-series buckets over {duration}; the limit is {MAX_BUCKETS}"
            ),
        ));
    }

    // ---- keys: interned from every workload's key list
    let mut keys: IndexMap<String, Option<u64>> = IndexMap::new();
    for w in &sc.workloads {
        for (k, spec) in &w.keys {
            let space = KeyGen::space(spec, duration.0);
            let e = keys.entry(k.clone()).or_insert(space);
            *e = match (*e, space) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
    }

    let mut b = Builder {
        ctx,
        sc,
        names: &names,
        keys: &keys,
        programs: Vec::new(),
        key_uses: Vec::new(),
        step_dists: Vec::new(),
        root_len: 0,
        cache_keys: IndexMap::new(),
        invalidations: Vec::new(),
    };

    // ---- services and endpoints
    let mut services = Vec::new();
    let mut endpoints = Vec::new();
    for (si, s) in sc.services.iter().enumerate() {
        let p = root("services").i(si);
        if s.replicas == 0 {
            return Err(ctx.err(&p.k("replicas"), "a service needs at least 1 replica"));
        }
        if s.concurrency == 0 {
            return Err(ctx.err(&p.k("concurrency"), "a pod needs at least 1 worker"));
        }
        if s.endpoints.is_empty() {
            return Err(ctx.err(&p.k("endpoints"), "a service needs at least one endpoint"));
        }
        let mut eps = Vec::new();
        for (ename, steps) in &s.endpoints {
            let ep = p.k("endpoints").k(ename);
            let stream = format!("service/{}/endpoint/{ename}", s.name);
            let prog = b.compile(&ep, steps, &stream, false)?;
            eps.push(endpoints.len());
            endpoints.push(EndpointDef {
                name: ename.clone(),
                service: si,
                program: prog,
            });
        }
        let sessions = match &s.sessions {
            None => None,
            Some(ss) => {
                let sp = p.k("sessions");
                let key = b.key(&sp.k("key"), &ss.key)?;
                // Every endpoint needs the key: workloads calling any of
                // them must draw it (checked with the steps' keys).
                for &e in &eps {
                    let prog: usize = endpoints[e].program;
                    b.key_uses[prog].push((key, sp.k("key")));
                }
                let ttl = ss.ttl.map_or(30 * 60 * sim_core::time::SECS, |d| d.0);
                if ttl == 0 {
                    return Err(ctx.err(&sp.k("ttl"), "must be positive"));
                }
                match (ss.store, &ss.latency) {
                    (SessionStore::External, Some(spec)) => {
                        // The store's round trip opens every endpoint.
                        let dist = ctx.dist(&sp.k("latency"), spec)?;
                        b.step_dists
                            .push((dist, format!("service/{}/sessions", s.name)));
                        let d = b.step_dists.len() - 1;
                        for &e in &eps {
                            prepend(
                                &mut b.programs[endpoints[e].program],
                                Instr::Compute { dist: d },
                            );
                        }
                    }
                    (SessionStore::External, None) => {
                        return Err(ctx.err(
                            &sp,
                            "external sessions need a `latency`: the round trip to the session store every request makes",
                        ));
                    }
                    (SessionStore::Local, Some(_)) => {
                        return Err(ctx.err(
                            &sp.k("latency"),
                            "local sessions live in the pod's memory and cost no round trip; `latency` is for \"store\": \"external\"",
                        ));
                    }
                    (SessionStore::Local, None) => {}
                }
                Some(SessionsDef {
                    store: ss.store,
                    key,
                    ttl,
                })
            }
        };
        services.push(ServiceDef {
            sessions,
            name: s.name.clone(),
            replicas: s.replicas,
            concurrency: s.concurrency,
            queue_capacity: s.queue_capacity,
            endpoints: eps,
            price_per_replica_hour: ctx
                .price(&p.k("price_per_replica_hour"), s.price_per_replica_hour)?,
            startup_time: s
                .startup_time
                .as_ref()
                .map(|d| ctx.dist(&p.k("startup_time"), d))
                .transpose()?,
            restart_delay: s.restart_delay.map_or(10 * sim_core::time::SECS, |d| d.0),
            failures: match s.failures {
                None => None,
                Some(f) => {
                    if f.mtbf.0 == 0 {
                        return Err(ctx.err(&p.k("failures").k("mtbf"), "must be positive"));
                    }
                    Some((f.mtbf.0 as f64, f.mttr.0 as f64))
                }
            },
            autoscaling: match s.autoscaling {
                None => None,
                Some(a) => Some(autoscaling(ctx, &p.k("autoscaling"), s, a)?),
            },
        });
    }

    // ---- load balancers
    let mut lbs = Vec::new();
    for (i, l) in sc.load_balancers.iter().enumerate() {
        let p = root("load_balancers").i(i);
        let service = match names.all.get(&l.target) {
            Some(Kind::Service(s)) => *s,
            _ => {
                return Err(ctx.unknown(
                    &p.k("target"),
                    "service",
                    &l.target,
                    &names.of_kind(|k| matches!(k, Kind::Service(_))),
                ));
            }
        };
        if l.max_connections == Some(0) {
            return Err(ctx.err(
                &p.k("max_connections"),
                "must be at least 1 (or absent for no limit)",
            ));
        }
        if !l.weights.is_empty() && l.policy != LbPolicy::WeightedRoundRobin {
            return Err(ctx.err(
                &p.k("weights"),
                "`weights` needs \"policy\": \"weighted_round_robin\"",
            ));
        }
        if let Some(i) = l.weights.iter().position(|w| *w == 0) {
            return Err(ctx.err(
                &p.k("weights").i(i),
                "a weight must be at least 1 (scale a replica down instead)",
            ));
        }
        // A key the balancer reads: drawn by every workload sending here.
        let lb_key = |kp: &P, k: &str| -> Result<KeyId, ScenarioError> {
            let id = match keys.get_index_of(k) {
                Some(id) => id,
                None => {
                    let known: Vec<&str> = keys.keys().map(String::as_str).collect();
                    return Err(ctx.unknown(kp, "key drawn by any workload", k, &known));
                }
            };
            if let Some(w) = sc
                .workloads
                .iter()
                .find(|w| w.target == l.name && !w.keys.contains_key(k))
            {
                return Err(ctx.err(
                    kp,
                    format!(
                        "workload `{}` sends requests here but does not draw `{k}`",
                        w.name
                    ),
                ));
            }
            Ok(id)
        };
        let hash_key = match (&l.hash_key, l.policy) {
            (Some(k), LbPolicy::Hash) => Some(lb_key(&p.k("hash_key"), k)?),
            (None, LbPolicy::Hash) => {
                return Err(ctx.err(
                    &p.k("policy"),
                    "\"policy\": \"hash\" needs a `hash_key`: the request key that picks the replica",
                ));
            }
            (Some(_), _) => {
                return Err(ctx.err(&p.k("hash_key"), "`hash_key` needs \"policy\": \"hash\""));
            }
            (None, _) => None,
        };
        if l.consistent && l.policy != LbPolicy::Hash {
            return Err(ctx.err(
                &p.k("consistent"),
                "`consistent` needs \"policy\": \"hash\"",
            ));
        }
        if let Some(h) = l.health_check {
            let hp = p.k("health_check");
            if h.interval.0 == 0 {
                return Err(ctx.err(&hp.k("interval"), "must be positive"));
            }
            if h.unhealthy_threshold == 0 {
                return Err(ctx.err(&hp.k("unhealthy_threshold"), "must be at least 1"));
            }
            if h.healthy_threshold == 0 {
                return Err(ctx.err(&hp.k("healthy_threshold"), "must be at least 1"));
            }
        }
        let rate_limit = match &l.rate_limit {
            None => None,
            Some(r) => {
                let rp = p.k("rate_limit");
                if !(r.requests_per_second.is_finite() && r.requests_per_second > 0.0) {
                    return Err(ctx.err(
                        &rp.k("requests_per_second"),
                        "must be a positive number of requests per second",
                    ));
                }
                let burst = match r.burst {
                    Some(b) if !(b.is_finite() && b >= 1.0) => {
                        return Err(
                            ctx.err(&rp.k("burst"), "must be at least 1 token (one request)")
                        );
                    }
                    Some(b) => b,
                    None => r.requests_per_second.max(1.0),
                };
                let key = match &r.key {
                    Some(k) => Some(lb_key(&rp.k("key"), k)?),
                    None => None,
                };
                Some(RateLimitDef {
                    rate: r.requests_per_second,
                    burst,
                    key,
                })
            }
        };
        lbs.push(LbDef {
            rate_limit,
            name: l.name.clone(),
            service,
            policy: l.policy,
            weights: l.weights.clone(),
            hash_key,
            consistent: l.consistent,
            health_check: l.health_check,
            latency: l
                .latency
                .as_ref()
                .map(|d| ctx.dist(&p.k("latency"), d))
                .transpose()?,
            max_connections: l.max_connections,
            price_per_hour: ctx.price(&p.k("price_per_hour"), l.price_per_hour)?,
        });
    }

    // ---- caches
    let mut caches = Vec::new();
    for (i, c) in sc.caches.iter().enumerate() {
        let p = root("caches").i(i);
        if c.capacity == 0 {
            return Err(ctx.err(
                &p.k("capacity"),
                "a cache needs a capacity of at least 1 key",
            ));
        }
        if c.capacity > MAX_CACHE_KEYS {
            return Err(ctx.err(
                &p.k("capacity"),
                format!(
                    "at most {MAX_CACHE_KEYS} keys per cache are simulated (memory is per key)"
                ),
            ));
        }
        if c.nodes == 0 {
            return Err(ctx.err(&p.k("nodes"), "a cache needs at least 1 node"));
        }
        if c.ttl == Some(SimDuration::ZERO) {
            return Err(ctx.err(
                &p.k("ttl"),
                "a TTL must be positive (omit it for no expiry)",
            ));
        }
        if c.ttl_mode == TtlMode::Access && c.ttl.is_none() {
            return Err(ctx.err(
                &p.k("ttl_mode"),
                "ttl_mode \"access\" needs a ttl: without one entries never expire",
            ));
        }
        let coalesce = match (c.coalesce, c.lock_timeout) {
            (false, Some(_)) => {
                return Err(ctx.err(
                    &p.k("lock_timeout"),
                    "lock_timeout applies with \"coalesce\": true only",
                ));
            }
            (_, Some(SimDuration::ZERO)) => {
                return Err(ctx.err(
                    &p.k("lock_timeout"),
                    "a lock_timeout must be positive (without coalescing, set coalesce to false)",
                ));
            }
            (false, None) => None,
            (true, t) => Some(t.unwrap_or(DEFAULT_LOCK_TIMEOUT)),
        };
        let hit = ctx.dist(&p.k("hit_latency"), &c.hit_latency)?;
        caches.push(CacheDef {
            name: c.name.clone(),
            capacity: c.capacity,
            policy: c.policy,
            ttl: c.ttl,
            ttl_mode: c.ttl_mode,
            write_policy: c.write_policy,
            coalesce,
            miss: match &c.miss_latency {
                Some(d) => ctx.dist(&p.k("miss_latency"), d)?,
                None => hit.clone(),
            },
            hit,
            fill: c
                .fill_latency
                .as_ref()
                .map(|d| ctx.dist(&p.k("fill_latency"), d))
                .transpose()?,
            nodes: c.nodes,
            price_per_node_hour: ctx.price(&p.k("price_per_node_hour"), c.price_per_node_hour)?,
            failures: component_failures(ctx, &p.k("failures"), c.failures)?,
        });
    }

    // ---- databases
    let mut dbs = Vec::new();
    for (i, d) in sc.databases.iter().enumerate() {
        let p = root("databases").i(i);
        if d.shards == 0 {
            return Err(ctx.err(&p.k("shards"), "a database needs at least 1 shard"));
        }
        if d.connections == 0 {
            return Err(ctx.err(&p.k("connections"), "a shard needs at least 1 connection"));
        }
        let shard_key = b.key(&p.k("shard_key"), &d.shard_key)?;
        let router = db_router(ctx, &p, d, &keys)?;
        if d.replicas > MAX_REPLICAS {
            return Err(ctx.err(
                &p.k("replicas"),
                format!(
                    "at most {MAX_REPLICAS} read replicas per shard are simulated, got {}",
                    d.replicas
                ),
            ));
        }
        if d.read_from == ReadFrom::Replicas && d.replicas == 0 {
            return Err(ctx.err(
                &p.k("read_from"),
                "read_from \"replicas\" needs replicas >= 1 (there is no replica to read from)",
            ));
        }
        dbs.push(DbDef {
            name: d.name.clone(),
            shard_key,
            router,
            connections: d.connections,
            read: ctx.dist(&p.k("read_time"), &d.read_time)?,
            write: ctx.dist(&p.k("write_time"), &d.write_time)?,
            price_per_shard_hour: ctx
                .price(&p.k("price_per_shard_hour"), d.price_per_shard_hour)?,
            replicas: d.replicas,
            replication_lag: d
                .replication_lag
                .as_ref()
                .map(|l| ctx.dist(&p.k("replication_lag"), l))
                .transpose()?,
            read_from: d.read_from,
            price_per_replica_hour: match d.price_per_replica_hour {
                Some(v) => ctx.price(&p.k("price_per_replica_hour"), v)?,
                None => d.price_per_shard_hour,
            },
            failures: component_failures(ctx, &p.k("failures"), d.failures)?,
        });
    }

    // ---- queues
    let mut queues = Vec::new();
    for (i, q) in sc.queues.iter().enumerate() {
        queues.push(queue(ctx, &mut b, &names, sc, i, q)?);
    }

    // A write invalidates the written key's value: only meaningful in a
    // cache that holds that key.
    for (cache, key, path) in &b.invalidations {
        let kname = &b.keys.get_index(*key).expect("interned").0;
        match b.cache_keys.get(cache) {
            Some((k, _)) if k == key => {}
            Some((k, _)) => {
                return Err(ctx.err(
                    path,
                    format!(
                        "this write routes by `{kname}` but cache `{}` holds `{}` values; it would delete unrelated entries",
                        sc.caches[*cache].name,
                        b.keys.get_index(*k).expect("interned").0
                    ),
                ));
            }
            None => {
                return Err(ctx.err(
                    path,
                    format!("cache `{}` is never read by a `cache` step, so there is nothing to invalidate", sc.caches[*cache].name),
                ));
            }
        }
    }

    // ---- workloads
    let key_names: Vec<String> = keys.keys().cloned().collect();
    let mut workloads = Vec::new();
    let mut wnames: Vec<&str> = Vec::new();
    for (wi, w) in sc.workloads.iter().enumerate() {
        let p = root("workloads").i(wi);
        if w.name.trim().is_empty() {
            return Err(ctx.err(&p.k("name"), "a workload needs a non-empty name"));
        }
        if wnames.contains(&w.name.as_str()) {
            return Err(ctx.err(
                &p.k("name"),
                format!("the workload name `{}` is used twice", w.name),
            ));
        }
        wnames.push(&w.name);
        let (target, service) = match names.all.get(&w.target) {
            Some(Kind::Lb(l)) => (Target::Lb(*l), lbs[*l].service),
            Some(Kind::Service(s)) => (Target::Service(*s), *s),
            _ => {
                return Err(ctx.unknown(
                    &p.k("target"),
                    "load balancer or service",
                    &w.target,
                    &names.of_kind(|k| matches!(k, Kind::Lb(_) | Kind::Service(_))),
                ));
            }
        };
        // ---- open or closed loop, retries (clients.rs)
        let (profile, users) = workload_source(ctx, &p, w)?;
        let retry = w
            .retry
            .as_ref()
            .map(|r| retry_policy(ctx, &p.k("retry"), r))
            .transpose()?;
        if w.mix.is_empty() {
            return Err(ctx.err(&p.k("mix"), "the mix needs at least one endpoint"));
        }
        let total: f64 = w.mix.values().sum();
        let mut cum = 0.0;
        let mut mix = Vec::new();
        let svc_eps: Vec<&str> = services[service]
            .endpoints
            .iter()
            .map(|&e| endpoints[e].name.as_str())
            .collect();
        for (ename, weight) in &w.mix {
            let mp = p.k("mix").k(ename);
            if !(weight.is_finite() && *weight > 0.0) {
                return Err(ctx.err(
                    &mp,
                    format!("a mix weight must be a positive number, got {weight}"),
                ));
            }
            let Some(pos) = svc_eps.iter().position(|e| e == ename) else {
                return Err(ctx.unknown(
                    &mp,
                    &format!("endpoint of service `{}`", services[service].name),
                    ename,
                    &svc_eps,
                ));
            };
            cum += weight / total;
            mix.push((services[service].endpoints[pos], cum));
        }
        if let Some(last) = mix.last_mut() {
            last.1 = 1.0;
        }
        let mut wkeys = Vec::new();
        for (kname, spec) in &w.keys {
            let kgen = KeyGen::new(spec).map_err(|m| ctx.err(&p.k("keys").k(kname), m))?;
            let id = keys.get_index_of(kname).expect("interned above");
            wkeys.push((id, spec.clone(), kgen));
        }
        if let Some(t) = w.timeout
            && t.0 == 0
        {
            return Err(ctx.err(
                &p.k("timeout"),
                "a timeout must be positive (omit it for none)",
            ));
        }
        // Every key the reachable programs use must be drawn here.
        for &(e, _) in &mix {
            let ep = &endpoints[e];
            let reach = reachable_keys(&b.programs, &b.key_uses, &queues, ep.program);
            for (kid, kpath) in reach {
                if !wkeys.iter().any(|(id, _, _)| *id == kid) {
                    let e = ctx.err(
                        &kpath,
                        format!(
                            "this step routes by key `{}`, but workload `{}` (which calls endpoint `{}`) does not draw it; add it to workloads[{wi}].keys",
                            key_names[kid], w.name, ep.name
                        ),
                    );
                    return Err(e);
                }
            }
        }
        workloads.push(WorkloadDef {
            name: w.name.clone(),
            target,
            service,
            profile,
            mix,
            keys: wkeys,
            timeout: w.timeout,
            users,
            retry,
        });
    }

    let cdns = cdns(ctx, sc, &names, &lbs, &endpoints, &workloads, &key_names)?;
    let Builder {
        programs,
        step_dists,
        ..
    } = b;
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
        objectives: objectives(ctx, sc, &names, duration)?,
        faults: faults(ctx, sc, &names, duration)?,
    };
    check_stability(ctx, &model)?;
    Ok(model)
}

/// Most read replicas per shard.
pub const MAX_REPLICAS: u32 = 64;
/// Most tokens (shards x virtual nodes) on a consistent-hash ring.
pub const MAX_RING_TOKENS: u64 = 10_000_000;

/// Resolves a database's sharding strategy and its settings into a
/// [`Router`], checking that every strategy-specific field applies.
fn db_router(
    ctx: &Ctx<'_>,
    p: &P,
    d: &Database,
    keys: &IndexMap<String, Option<u64>>,
) -> Result<Router, ScenarioError> {
    use crate::sharding::{Directory, Fallback, Ring};
    // The strategy that places values (for a directory: its fallback too).
    let fallback = match (d.strategy, d.directory_default) {
        (ShardStrategy::Directory, None) => Some(ShardStrategy::Hash),
        (ShardStrategy::Directory, Some(DirectoryDefault::Strategy(s))) => Some(s),
        _ => None,
    };
    let uses = |s: ShardStrategy| d.strategy == s || fallback == Some(s);
    let only = |field: &str, what: &str| -> ScenarioError {
        ctx.err(
            &p.k(field),
            format!("{field} applies to strategy \"{what}\" only (or a directory whose directory_default is \"{what}\")"),
        )
    };
    if d.range_boundaries.is_some() && !uses(ShardStrategy::Range) {
        return Err(only("range_boundaries", "range"));
    }
    if d.virtual_nodes.is_some() && !uses(ShardStrategy::Ring) {
        return Err(only("virtual_nodes", "ring"));
    }
    for (field, set) in [
        ("directory", d.directory.is_some()),
        ("directory_default", d.directory_default.is_some()),
    ] {
        if set && d.strategy != ShardStrategy::Directory {
            return Err(ctx.err(
                &p.k(field),
                format!("{field} applies to strategy \"directory\" only"),
            ));
        }
    }
    // `strategy` is where an error about the placing strategy points: the
    // `strategy` field, or the directory's fallback.
    let build = |strategy: ShardStrategy, at: &str| -> Result<Router, ScenarioError> {
        Ok(match strategy {
            ShardStrategy::Hash => Router::Hash { shards: d.shards },
            ShardStrategy::Jump => Router::Jump { shards: d.shards },
            ShardStrategy::Ring => {
                let v = d
                    .virtual_nodes
                    .unwrap_or(crate::sharding::ring::DEFAULT_VNODES);
                if v == 0 {
                    return Err(ctx.err(
                        &p.k("virtual_nodes"),
                        "a shard needs at least 1 virtual node",
                    ));
                }
                if u64::from(v) * u64::from(d.shards) > MAX_RING_TOKENS {
                    return Err(ctx.err(
                        &p.k("virtual_nodes"),
                        format!(
                            "{} shards x {v} virtual nodes is {} tokens; the limit is {MAX_RING_TOKENS}",
                            d.shards,
                            u64::from(v) * u64::from(d.shards)
                        ),
                    ));
                }
                Router::Ring(Ring::new(d.shards, v))
            }
            ShardStrategy::Range => match &d.range_boundaries {
                Some(bounds) => {
                    if bounds.len() + 1 != d.shards as usize {
                        return Err(ctx.err(
                            &p.k("range_boundaries"),
                            format!(
                                "{} shards need {} split points, got {}",
                                d.shards,
                                d.shards - 1,
                                bounds.len()
                            ),
                        ));
                    }
                    if let Some(w) = bounds.windows(2).position(|w| w[0] >= w[1]) {
                        return Err(ctx.err(
                            &p.k("range_boundaries").i(w + 1),
                            "split points must be strictly ascending",
                        ));
                    }
                    Router::Range {
                        bounds: bounds.clone(),
                    }
                }
                None => match keys.get(&d.shard_key).copied().flatten() {
                    Some(n) => Router::Range {
                        bounds: (1..d.shards as u64)
                            .map(|i| {
                                ((u128::from(n) * u128::from(i)) / u128::from(d.shards)) as u64
                            })
                            .collect(),
                    },
                    None => {
                        return Err(ctx.err(
                            &p.k(at),
                            format!(
                                "range sharding on `{}` needs range_boundaries: the key is sequential, so its value space has no known size",
                                d.shard_key
                            ),
                        ));
                    }
                },
            },
            ShardStrategy::Directory => unreachable!("a directory's fallback is never a directory"),
        })
    };
    if d.strategy != ShardStrategy::Directory {
        return build(d.strategy, "strategy");
    }
    let Some(table) = &d.directory else {
        return Err(ctx.err(
            &p.k("strategy"),
            "strategy \"directory\" needs a `directory`: key value -> shard, e.g. {\"1\": 0, \"2\": 0, \"3\": 5}",
        ));
    };
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(table.len());
    let mut seen: IndexMap<u64, &str> = IndexMap::new();
    for (k, &shard) in table {
        let kp = p.k("directory").k(k);
        let Ok(v) = k.trim().parse::<u64>() else {
            return Err(ctx.err(
                &kp,
                format!("`{k}` is not a key value: directory keys are integers >= 0 written as strings, like \"42\""),
            ));
        };
        if let Some(first) = seen.insert(v, k) {
            return Err(ctx.err(
                &kp,
                format!("`{k}` is the key value {v} again (first written `{first}`)"),
            ));
        }
        if shard >= d.shards {
            return Err(ctx.err(
                &kp,
                format!(
                    "shard {shard} does not exist: shards are numbered 0 to {}",
                    d.shards - 1
                ),
            ));
        }
        entries.push((v, shard));
    }
    let fallback = match d.directory_default {
        Some(DirectoryDefault::Shard(s)) => {
            if s >= d.shards {
                return Err(ctx.err(
                    &p.k("directory_default"),
                    format!(
                        "shard {s} does not exist: shards are numbered 0 to {}",
                        d.shards - 1
                    ),
                ));
            }
            Fallback::Shard(s)
        }
        Some(DirectoryDefault::Strategy(s)) => {
            Fallback::Router(Box::new(build(s, "directory_default")?))
        }
        None => Fallback::Router(Box::new(build(ShardStrategy::Hash, "directory_default")?)),
    };
    Ok(Router::Directory(Directory::new(
        d.shards, entries, fallback,
    )))
}

/// Most time-series buckets per run.
pub const MAX_BUCKETS: u64 = 10_000;
/// Largest cache simulated, in keys.
pub const MAX_CACHE_KEYS: u64 = 50_000_000;
/// Default retention of a queue partition, messages.
pub const DEFAULT_RETENTION: u64 = 1_000_000;
/// Most queues in a scenario.
pub const MAX_QUEUES: usize = 10_000;
/// Default wait before a queue's first retry (Spring's `@RetryableTopic`).
pub const DEFAULT_BACKOFF: SimDuration = SimDuration(1_000_000_000);
/// Default longest wait between retries (Spring's `ExponentialBackOff`).
pub const DEFAULT_MAX_BACKOFF: SimDuration = SimDuration(30_000_000_000);
/// Default session timeout of a topic's consumer group (Kafka's
/// `session.timeout.ms` since 3.0).
pub const DEFAULT_SESSION_TIMEOUT: SimDuration = SimDuration(45_000_000_000);
/// Default heartbeat timeout of a work queue's broker (RabbitMQ).
pub const DEFAULT_HEARTBEAT: SimDuration = SimDuration(60_000_000_000);
/// Default stop of a topic's consumers on a rebalance.
pub const DEFAULT_REBALANCE_PAUSE: SimDuration = SimDuration(3_000_000_000);
/// Default longest wait of a coalesced cache miss (nginx's
/// `proxy_cache_lock_timeout`).
pub const DEFAULT_LOCK_TIMEOUT: SimDuration = SimDuration(5_000_000_000);

// ---- cdns

/// Resolves the CDN edges: the origin is a workload target, the endpoints
/// are the origin service's, at most one edge per origin, and every
/// workload that sends a cached endpoint to the origin draws the key.
fn cdns(
    ctx: &Ctx<'_>,
    sc: &Scenario,
    names: &Names,
    lbs: &[LbDef],
    endpoints: &[EndpointDef],
    workloads: &[WorkloadDef],
    key_names: &[String],
) -> Result<Vec<CdnDef>, ScenarioError> {
    let mut out: Vec<CdnDef> = Vec::new();
    for (i, c) in sc.cdns.iter().enumerate() {
        let p = root("cdns").i(i);
        let (origin, service) = match names.all.get(&c.origin) {
            Some(Kind::Lb(l)) => (Target::Lb(*l), lbs[*l].service),
            Some(Kind::Service(s)) => (Target::Service(*s), *s),
            _ => {
                return Err(ctx.unknown(
                    &p.k("origin"),
                    "load balancer or service",
                    &c.origin,
                    &names.of_kind(|k| matches!(k, Kind::Lb(_) | Kind::Service(_))),
                ));
            }
        };
        if let Some(other) = out.iter().find(|o| o.origin == origin) {
            return Err(ctx.err(
                &p.k("origin"),
                format!(
                    "`{}` is already behind CDN `{}`; one edge per origin — list the endpoints in that CDN",
                    c.origin, other.name
                ),
            ));
        }
        if c.endpoints.is_empty() {
            return Err(ctx.err(
                &p.k("endpoints"),
                "a CDN needs at least one endpoint to cache",
            ));
        }
        let svc_eps: Vec<usize> = endpoints
            .iter()
            .enumerate()
            .filter(|(_, e)| e.service == service)
            .map(|(i, _)| i)
            .collect();
        let mut eps = Vec::new();
        for (k, name) in c.endpoints.iter().enumerate() {
            let ep = p.k("endpoints").i(k);
            let Some(&e) = svc_eps.iter().find(|&&e| endpoints[e].name == *name) else {
                let known: Vec<&str> = svc_eps
                    .iter()
                    .map(|&e| endpoints[e].name.as_str())
                    .collect();
                return Err(ctx.unknown(
                    &ep,
                    &format!("endpoint of service `{}`", sc.services[service].name),
                    name,
                    &known,
                ));
            };
            if eps.contains(&e) {
                return Err(ctx.err(&ep, format!("endpoint `{name}` is listed twice")));
            }
            eps.push(e);
        }
        let key = match &c.key {
            None => None,
            Some(k) => match key_names.iter().position(|n| n == k) {
                Some(id) => Some(id),
                None => {
                    let known: Vec<&str> = key_names.iter().map(String::as_str).collect();
                    return Err(ctx.unknown(&p.k("key"), "key drawn by any workload", k, &known));
                }
            },
        };
        if let Some(kid) = key {
            for (wi, w) in workloads.iter().enumerate() {
                let sends = w.mix.iter().find(|(e, _)| eps.contains(e));
                if w.target == origin
                    && let Some(&(e, _)) = sends
                    && !w.keys.iter().any(|(id, _, _)| *id == kid)
                {
                    return Err(ctx.err(
                        &p.k("key"),
                        format!(
                            "CDN `{}` names responses by key `{}`, but workload `{}` (which sends endpoint `{}` through it) does not draw it; add it to workloads[{wi}].keys",
                            c.name, key_names[kid], w.name, endpoints[e].name
                        ),
                    ));
                }
            }
        }
        if c.capacity == 0 {
            return Err(ctx.err(
                &p.k("capacity"),
                "a CDN needs a capacity of at least 1 response",
            ));
        }
        if c.capacity > MAX_CACHE_KEYS {
            return Err(ctx.err(
                &p.k("capacity"),
                format!("at most {MAX_CACHE_KEYS} responses per CDN are simulated (memory is per response)"),
            ));
        }
        if c.ttl == Some(SimDuration::ZERO) {
            return Err(ctx.err(
                &p.k("ttl"),
                "a TTL must be positive (omit it for no expiry)",
            ));
        }
        let hit = ctx.dist(&p.k("hit_latency"), &c.hit_latency)?;
        out.push(CdnDef {
            name: c.name.clone(),
            origin,
            endpoints: eps,
            key,
            capacity: c.capacity,
            policy: c.policy,
            ttl: c.ttl,
            miss: match &c.miss_latency {
                Some(d) => ctx.dist(&p.k("miss_latency"), d)?,
                None => hit.clone(),
            },
            hit,
            origin_latency: c
                .origin_latency
                .as_ref()
                .map(|d| ctx.dist(&p.k("origin_latency"), d))
                .transpose()?,
            price_per_million_requests: ctx.price(
                &p.k("price_per_million_requests"),
                c.price_per_million_requests,
            )?,
        });
    }
    Ok(out)
}

/// A diurnal segment's sinusoid.
fn diurnal(ctx: &Ctx<'_>, p: &P, d: &Diurnal) -> Result<DiurnalDef, ScenarioError> {
    for (name, v) in [("min", d.min), ("max", d.max)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(ctx.err(
                &p.k(name),
                format!("a rate must be a finite number of requests per second >= 0, got {v}"),
            ));
        }
    }
    if d.min > d.max {
        return Err(ctx.err(
            &p.k("min"),
            format!(
                "the trough (min {}) is above the peak (max {})",
                d.min, d.max
            ),
        ));
    }
    let period = d.period.map_or(24 * 3_600_000_000_000, |x| x.0);
    if period == 0 {
        return Err(ctx.err(&p.k("period"), "the period must be positive"));
    }
    if d.peak_at.0 >= period {
        return Err(ctx.err(
            &p.k("peak_at"),
            format!(
                "the peak ({}) must fall within the first period ({})",
                d.peak_at,
                SimDuration(period)
            ),
        ));
    }
    Ok(DiurnalDef {
        min: d.min,
        max: d.max,
        period,
        peak_at: d.peak_at.0,
    })
}

/// Most closed-loop users of one workload.
pub const MAX_USERS: u64 = 1_000_000;
/// Most attempts of a retry policy.
pub const MAX_ATTEMPTS: u32 = 100;

/// A workload's source of requests: its rate profile (open loop), or its
/// users (closed loop) with the profile of their highest possible rate.
fn workload_source(
    ctx: &Ctx<'_>,
    p: &P,
    w: &Workload,
) -> Result<(RateProfile, Option<ClosedLoop>), ScenarioError> {
    let Some(users) = w.users else {
        if w.think_time.is_some() {
            return Err(ctx.err(
                &p.k("think_time"),
                "think_time applies to closed-loop workloads: set `users` instead of `rate`",
            ));
        }
        if w.rate.is_empty() && !has_key(ctx, p, "rate") {
            return Err(ctx.err(
                p,
                "a workload needs `rate` (open loop: a rate profile) or `users` and `think_time` (closed loop)",
            ));
        }
        return Ok((rate_profile(ctx, &p.k("rate"), &w.rate)?, None));
    };
    if !w.rate.is_empty() || has_key(ctx, p, "rate") {
        return Err(ctx.err(
            &p.k("users"),
            "a workload has either `rate` (open loop) or `users` (closed loop), not both",
        ));
    }
    if users == 0 || users > MAX_USERS {
        return Err(ctx.err(
            &p.k("users"),
            format!("users must be 1 to {MAX_USERS}, got {users}"),
        ));
    }
    let Some(spec) = &w.think_time else {
        return Err(ctx.err(
            &p.k("users"),
            "closed-loop users need a `think_time` (e.g. {\"exponential\": {\"mean\": \"5s\"}})",
        ));
    };
    let think_time = ctx.dist(&p.k("think_time"), spec)?;
    let mean = think_time.mean_ns();
    if !(mean.is_finite() && mean > 0.0) {
        return Err(ctx.err(
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

/// The field `key` is written in the object at `p` (after the overrides).
fn has_key(ctx: &Ctx<'_>, p: &P, key: &str) -> bool {
    let mut v = ctx.doc;
    for seg in &p.0 {
        v = match seg {
            PathSeg::Key(k) => &v[k.as_str()],
            PathSeg::Index(i) => &v[*i],
        };
    }
    v.get(key).is_some()
}

/// A workload's retry policy.
fn retry_policy(ctx: &Ctx<'_>, p: &P, r: &Retry) -> Result<RetryDef, ScenarioError> {
    if r.max_attempts == 0 || r.max_attempts > MAX_ATTEMPTS {
        return Err(ctx.err(
            &p.k("max_attempts"),
            format!(
                "max_attempts counts the first attempt too: 1 to {MAX_ATTEMPTS}, got {}",
                r.max_attempts
            ),
        ));
    }
    let bp = p.k("backoff");
    let b = r.backoff.clone().unwrap_or(Backoff {
        base_interval: None,
        max_interval: None,
        multiplier: None,
    });
    let base = b.base_interval.map_or(25_000_000, |d| d.0);
    if base == 0 {
        return Err(ctx.err(&bp.k("base_interval"), "the base interval must be positive"));
    }
    let max = b.max_interval.map_or(base.saturating_mul(10), |d| d.0);
    if max < base {
        return Err(ctx.err(
            &bp.k("max_interval"),
            format!(
                "the largest backoff ({}) is below the base interval ({})",
                SimDuration(max),
                SimDuration(base)
            ),
        ));
    }
    let multiplier = b.multiplier.unwrap_or(2.0);
    if !(multiplier.is_finite() && multiplier >= 1.0) {
        return Err(ctx.err(
            &bp.k("multiplier"),
            format!("the multiplier must be a finite number >= 1, got {multiplier}"),
        ));
    }
    let on = r
        .retry_on
        .clone()
        .unwrap_or(vec![RetryOn::Timeout, RetryOn::ServerError]);
    let has = |x: RetryOn| on.contains(&x);
    let budget = match &r.budget {
        None => None,
        Some(b) => {
            let bp = p.k("budget");
            let pct = b.percent_can_retry.map_or(0.2, |f| f.0);
            if !(pct.is_finite() && (0.0..=10.0).contains(&pct)) {
                return Err(ctx.err(
                    &bp.k("percent_can_retry"),
                    format!("percent_can_retry must be 0 to 10 retries per request (0% to 1000%), got {pct}"),
                ));
            }
            let min = b.min_retries_per_sec.unwrap_or(10.0);
            if !(min.is_finite() && min >= 0.0) {
                return Err(ctx.err(
                    &bp.k("min_retries_per_sec"),
                    format!("min_retries_per_sec must be a finite number >= 0, got {min}"),
                ));
            }
            let ttl = b.ttl.map_or(10_000_000_000, |d| d.0);
            if !(1_000_000_000..=60_000_000_000).contains(&ttl) {
                return Err(ctx.err(
                    &bp.k("ttl"),
                    format!("the ttl must be 1s to 60s, got {}", SimDuration(ttl)),
                ));
            }
            Some(BudgetDef {
                percent_can_retry: pct,
                min_retries_per_sec: min,
                ttl,
            })
        }
    };
    Ok(RetryDef {
        max_attempts: r.max_attempts,
        base_interval: base,
        max_interval: max,
        multiplier,
        jitter: r.jitter,
        on_timeout: has(RetryOn::Timeout),
        on_502: has(RetryOn::ServerError) || has(RetryOn::BadGateway),
        on_503: has(RetryOn::ServerError) || has(RetryOn::Unavailable),
        on_429: has(RetryOn::TooManyRequests),
        budget,
    })
}

fn rate_profile(ctx: &Ctx<'_>, p: &P, segs: &[RateSegment]) -> Result<RateProfile, ScenarioError> {
    if segs.is_empty() {
        return Err(ctx.err(p, "the rate profile needs at least one segment"));
    }
    let mut out = Vec::new();
    let mut t = 0u64;
    let mut prev = 0.0f64;
    for (i, s) in segs.iter().enumerate() {
        let sp = p.i(i);
        let last = i + 1 == segs.len();
        let kinds = [s.rps.is_some(), s.ramp_to.is_some(), s.diurnal.is_some()];
        let (from, to) = match (s.rps, s.ramp_to) {
            _ if kinds.iter().filter(|k| **k).count() > 1 => {
                return Err(ctx.err(
                    &sp,
                    "a segment has one of `rps` (constant), `ramp_to` (linear) or `diurnal` (sinusoid), not several",
                ));
            }
            (Some(r), None) => (r, r),
            (None, Some(r)) => (prev, r),
            _ if s.diurnal.is_some() => (0.0, 0.0), // set below
            _ => {
                return Err(ctx.err(
                    &sp,
                    "a segment needs `rps` (constant), `ramp_to` (linear ramp) or `diurnal` (daily cycle)",
                ));
            }
        };
        for (name, v) in [("rps", s.rps), ("ramp_to", s.ramp_to)] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(ctx.err(
                    &sp.k(name),
                    format!("a rate must be a finite number of requests per second >= 0, got {v}"),
                ));
            }
        }
        let end = match s.length {
            Some(d) if d.0 == 0 => {
                return Err(ctx.err(&sp.k("for"), "a segment must last more than 0s"));
            }
            Some(d) => t.saturating_add(d.0),
            None if last && s.ramp_to.is_none() => u64::MAX,
            None if last => return Err(ctx.err(&sp, "a ramp needs `for`: how long it takes")),
            None => return Err(ctx.err(&sp, "only the last segment may omit `for`")),
        };
        let diurnal = s
            .diurnal
            .as_ref()
            .map(|d| diurnal(ctx, &sp.k("diurnal"), d))
            .transpose()?;
        let (from, to) = match &diurnal {
            Some(d) => (d.rate_at(t), d.rate_at(end)),
            None => (from, to),
        };
        out.push(RateSeg {
            start: t,
            end,
            from,
            to,
            diurnal,
            label: s.label.clone(),
        });
        t = end;
        prev = to;
    }
    Ok(RateProfile { segments: out })
}

struct Builder<'a> {
    ctx: &'a Ctx<'a>,
    sc: &'a Scenario,
    names: &'a Names,
    keys: &'a IndexMap<String, Option<u64>>,
    programs: Vec<Program>,
    /// Keys each program uses, with the path of the step that uses them.
    key_uses: Vec<KeyUse>,
    step_dists: Vec<(Dist, String)>,
    /// Length of the path of the program being compiled.
    root_len: usize,
    /// The key each cache holds (from its first use), with that use's path.
    cache_keys: IndexMap<usize, (KeyId, P)>,
    /// Invalidations to check once every cache's key is known.
    invalidations: Vec<(usize, KeyId, P)>,
}

/// Key paths recorded per program for reachability checks.
type KeyUse = Vec<(KeyId, P)>;

impl Builder<'_> {
    fn key(&self, p: &P, name: &str) -> Result<KeyId, ScenarioError> {
        match self.keys.get_index_of(name) {
            Some(i) => Ok(i),
            None => {
                let known: Vec<&str> = self.keys.keys().map(String::as_str).collect();
                Err(self
                    .ctx
                    .unknown(p, "key drawn by any workload", name, &known))
            }
        }
    }

    fn component(
        &self,
        p: &P,
        name: &str,
        what: &str,
        pick: fn(Kind) -> Option<usize>,
    ) -> Result<usize, ScenarioError> {
        match self.names.all.get(name).and_then(|k| pick(*k)) {
            Some(i) => Ok(i),
            None => {
                let known: Vec<&str> = self
                    .names
                    .all
                    .iter()
                    .filter(|(_, k)| pick(**k).is_some())
                    .map(|(n, _)| n.as_str())
                    .collect();
                Err(self.ctx.unknown(p, what, name, &known))
            }
        }
    }

    /// Compiles `steps` into a new program and returns its index.
    fn compile(
        &mut self,
        p: &P,
        steps: &[Step],
        stream: &str,
        in_queue: bool,
    ) -> Result<usize, ScenarioError> {
        if steps.is_empty() {
            return Err(self.ctx.err(p, "a program needs at least one step"));
        }
        let mut instrs = Vec::new();
        let mut uses = Vec::new();
        // Streams are named by the step's place within its program, not in
        // the file, so adding a component elsewhere shifts no one's draws.
        self.root_len = p.0.len();
        self.emit(p, steps, stream, in_queue, &mut instrs, &mut uses)?;
        self.programs.push(Program { instrs });
        self.key_uses.push(uses);
        Ok(self.programs.len() - 1)
    }

    fn emit(
        &mut self,
        p: &P,
        steps: &[Step],
        stream: &str,
        in_queue: bool,
        out: &mut Vec<Instr>,
        uses: &mut KeyUse,
    ) -> Result<(), ScenarioError> {
        for (i, step) in steps.iter().enumerate() {
            let sp = p.i(i);
            match step {
                Step::Compute(spec) => {
                    let dp = sp.k("compute");
                    let dist = self.ctx.dist(&dp, spec)?;
                    self.step_dists.push((
                        dist,
                        format!(
                            "{stream}/{}",
                            super::locate::format_path(&sp.0[self.root_len..])
                        ),
                    ));
                    out.push(Instr::Compute {
                        dist: self.step_dists.len() - 1,
                    });
                }
                Step::Cache(c) => {
                    let cp = sp.k("cache");
                    let cache = self.component(&cp.k("cache"), &c.cache, "cache", |k| match k {
                        Kind::Cache(i) => Some(i),
                        _ => None,
                    })?;
                    let key = self.key(&cp.k("key"), &c.key)?;
                    uses.push((key, cp.k("key")));
                    // A cache holds values of one key: its entries are key
                    // values, so two keys would mix up equal values.
                    match self.cache_keys.get(&cache) {
                        Some((k, first)) if *k != key => {
                            return Err(self.ctx.err(
                                &cp.k("key"),
                                format!(
                                    "cache `{}` is already used with key `{}` (at {}); a cache holds one kind of key — use another cache for `{}`",
                                    c.cache,
                                    self.keys.get_index(*k).map_or("", |(n, _)| n.as_str()),
                                    super::locate::format_path(&first.0),
                                    c.key
                                ),
                            ));
                        }
                        Some(_) => {}
                        None => {
                            self.cache_keys.insert(cache, (key, cp.k("key")));
                        }
                    }
                    let at = out.len();
                    out.push(Instr::CacheGet {
                        cache,
                        key,
                        skip_to: 0,
                    });
                    self.emit(&cp.k("on_miss"), &c.on_miss, stream, in_queue, out, uses)?;
                    out.push(Instr::CacheFill { cache, key });
                    let skip = out.len();
                    if let Instr::CacheGet { skip_to, .. } = &mut out[at] {
                        *skip_to = skip;
                    }
                }
                Step::Read(r) => {
                    let rp = sp.k("read");
                    let db = self.db(&rp.k("db"), &r.db)?;
                    let key = self.db_key(&rp, db, r.key.as_deref())?;
                    uses.push((key, rp.k(if r.key.is_some() { "key" } else { "db" })));
                    out.push(Instr::Read { db, key });
                }
                Step::Write(w) => {
                    let wp = sp.k("write");
                    let db = self.db(&wp.k("db"), &w.db)?;
                    let key = self.db_key(&wp, db, w.key.as_deref())?;
                    uses.push((key, wp.k(if w.key.is_some() { "key" } else { "db" })));
                    let mut invalidate = Vec::new();
                    for (j, c) in w.invalidate.iter().enumerate() {
                        let ip = wp.k("invalidate").i(j);
                        let cache = self.component(&ip, c, "cache", |k| match k {
                            Kind::Cache(i) => Some(i),
                            _ => None,
                        })?;
                        self.invalidations.push((cache, key, ip));
                        invalidate.push(cache);
                    }
                    out.push(Instr::Write {
                        db,
                        key,
                        invalidate,
                    });
                }
                Step::Scatter(sg) => {
                    let gp = sp.k("scatter");
                    let db = self.db(&gp.k("db"), &sg.db)?;
                    let n = self.sc.databases[db].shards;
                    let (key, shards) = match sg.shards {
                        ScatterShards::All => {
                            if sg.key.is_some() {
                                return Err(self.ctx.err(
                                    &gp.k("key"),
                                    "`key` picks the first of a number of shards; with \"shards\": \"all\" every shard is read",
                                ));
                            }
                            (None, n)
                        }
                        ScatterShards::Count(k) => {
                            // A database without shards is reported with
                            // the database.
                            if k == 0 || (n > 0 && k > n) {
                                return Err(self.ctx.err(
                                    &gp.k("shards"),
                                    format!(
                                        "a scatter reads 1 to {n} shards of `{}` (\"all\" for every shard), got {k}",
                                        sg.db
                                    ),
                                ));
                            }
                            let key = self.db_key(&gp, db, sg.key.as_deref())?;
                            uses.push((key, gp.k(if sg.key.is_some() { "key" } else { "db" })));
                            (Some(key), k)
                        }
                    };
                    out.push(Instr::Scatter { db, key, shards });
                }
                Step::Publish(pb) => {
                    let pp = sp.k("publish");
                    if in_queue {
                        return Err(self.ctx.err(
                            &pp,
                            "publishing from a queue consumer's work is not supported in format v1",
                        ));
                    }
                    let queue =
                        self.component(&pp.k("queue"), &pb.queue, "queue", |k| match k {
                            Kind::Queue(i) => Some(i),
                            _ => None,
                        })?;
                    let qdef = &self.sc.queues[queue];
                    if qdef.kind == QueueKind::WorkQueue && pb.key.is_some() {
                        return Err(self.ctx.err(
                            &pp.k("key"),
                            format!("`{}` is a work queue: one FIFO without partitions, so a publish to it takes no `key`", pb.queue),
                        ));
                    }
                    let key = match (&pb.key, &qdef.partition_key) {
                        (Some(k), _) => Some(self.key(&pp.k("key"), k)?),
                        (None, Some(k)) => {
                            Some(self.key(&root("queues").i(queue).k("partition_key"), k)?)
                        }
                        (None, None) => None,
                    };
                    if let Some(k) = key {
                        uses.push((k, pp.k(if pb.key.is_some() { "key" } else { "queue" })));
                    }
                    out.push(Instr::Publish { queue, key });
                }
            }
        }
        Ok(())
    }

    fn db(&self, p: &P, name: &str) -> Result<usize, ScenarioError> {
        self.component(p, name, "database", |k| match k {
            Kind::Db(i) => Some(i),
            _ => None,
        })
    }

    fn db_key(&self, sp: &P, db: usize, key: Option<&str>) -> Result<KeyId, ScenarioError> {
        match key {
            Some(k) => self.key(&sp.k("key"), k),
            None => {
                let d = &self.sc.databases[db];
                self.key(&root("databases").i(db).k("shard_key"), &d.shard_key)
            }
        }
    }
}

/// Puts `ins` before a compiled program's first instruction.
fn prepend(prog: &mut Program, ins: Instr) {
    for i in &mut prog.instrs {
        if let Instr::CacheGet { skip_to, .. } = i {
            *skip_to += 1;
        }
    }
    prog.instrs.insert(0, ins);
}

/// Keys used by a program and, through its publishes, by queue work.
fn reachable_keys(
    programs: &[Program],
    key_uses: &[KeyUse],
    queues: &[QueueDef],
    prog: usize,
) -> KeyUse {
    let mut out: KeyUse = key_uses[prog].clone();
    for ins in &programs[prog].instrs {
        if let Instr::Publish { queue, .. } = ins
            && let Some(q) = queues.get(*queue)
        {
            out.extend(key_uses[q.program].iter().cloned());
            // Dead letters carry the message's keys on to their queue
            // (validation refused cycles), routed by its partition key.
            let mut dlq = q.dead_letter;
            while let Some(d) = dlq.and_then(|d| queues.get(d).map(|x| (d, x))) {
                out.extend(key_uses[d.1.program].iter().cloned());
                if let Some(k) = d.1.partition_key {
                    out.push((k, root("queues").i(d.0).k("partition_key")));
                }
                dlq = d.1.dead_letter;
            }
        }
    }
    out
}

/// Minimum mean time a program holds its worker: compute, cache, database
/// service and publish acknowledgement means, taking the cheaper branch of
/// each cache lookup, and no queueing.
fn min_holding_ns(m: &Model, prog: usize) -> f64 {
    let instrs = &m.programs[prog].instrs;
    fn walk(m: &Model, instrs: &[Instr], from: usize, to: usize) -> f64 {
        let mut t = 0.0;
        let mut pc = from;
        while pc < to {
            match &instrs[pc] {
                Instr::Compute { dist } => t += m.step_dists[*dist].0.mean_ns(),
                Instr::CacheGet { cache, skip_to, .. } => {
                    let c = &m.caches[*cache];
                    let hit = c.hit.mean_ns();
                    let miss = c.miss.mean_ns()
                        + walk(m, instrs, pc + 1, skip_to - 1)
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
            }
            pc += 1;
        }
        t
    }
    walk(m, instrs, 0, instrs.len())
}

/// A service with an unbounded queue whose peak arrival rate needs more
/// busy workers than it has would grow its queue without bound: refuse it.
fn check_stability(ctx: &Ctx<'_>, m: &Model) -> Result<(), ScenarioError> {
    for (si, s) in m.services.iter().enumerate() {
        if s.queue_capacity.is_some() {
            continue;
        }
        let mut rate = 0.0;
        let mut demand = 0.0;
        let mut at = 0;
        // Closed-loop users cannot overload a queue: each waits for its
        // outcome before sending again, so they slow down instead.
        for w in m
            .workloads
            .iter()
            .filter(|w| w.service == si && w.users.is_none())
        {
            let (peak, t) = w.profile.peak(m.duration.0);
            rate += peak;
            at = t;
            let mut prev = 0.0;
            for &(e, cum) in &w.mix {
                demand += peak * (cum - prev) * min_holding_ns(m, m.endpoints[e].program) / 1e9;
                prev = cum;
            }
        }
        let workers = f64::from(s.replicas) * f64::from(s.concurrency);
        if demand >= workers {
            return Err(ctx.unstable(
                &root("services").i(si),
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

/// Checks a queue's settings and resolves it (its work program included).
fn queue(
    ctx: &Ctx<'_>,
    b: &mut Builder<'_>,
    names: &Names,
    sc: &Scenario,
    i: usize,
    q: &Queue,
) -> Result<QueueDef, ScenarioError> {
    let p = root("queues").i(i);
    if i >= MAX_QUEUES {
        return Err(ctx.err(&p, format!("at most {MAX_QUEUES} queues per scenario")));
    }
    let work_queue = q.kind == QueueKind::WorkQueue;
    let topic_only = |field: &str, given: bool| {
        if work_queue && given {
            Err(ctx.err(
                &p.k(field),
                format!("`{field}` is for topics; a work queue (\"kind\": \"work_queue\") is one FIFO that any idle consumer takes from, with no partitions and no consumer-group rebalancing"),
            ))
        } else {
            Ok(())
        }
    };
    topic_only("partitions", q.partitions.is_some())?;
    topic_only("partition_key", q.partition_key.is_some())?;
    topic_only("session_timeout", q.session_timeout.is_some())?;
    topic_only("rebalance_pause", q.rebalance_pause.is_some())?;
    topic_only("assignor", q.assignor.is_some())?;
    if !work_queue {
        for (field, given, instead) in [
            (
                "prefetch",
                q.prefetch.is_some(),
                "a topic's consumer reads its partitions in order, one message at a time",
            ),
            (
                "heartbeat",
                q.heartbeat.is_some(),
                "a topic's group notices a silent consumer after `session_timeout`",
            ),
        ] {
            if given {
                return Err(ctx.err(
                    &p.k(field),
                    format!("`{field}` is for work queues (\"kind\": \"work_queue\"); {instead}"),
                ));
            }
        }
    }
    let partitions = match (work_queue, q.partitions) {
        (true, _) => 1,
        (false, None) => {
            return Err(ctx.err(
                &p,
                "a topic needs `partitions` (or \"kind\": \"work_queue\" for one FIFO without partitions)",
            ));
        }
        (false, Some(0)) => {
            return Err(ctx.err(&p.k("partitions"), "a queue needs at least 1 partition"));
        }
        (false, Some(n)) => n,
    };
    if q.retention == Some(0) {
        return Err(ctx.err(&p.k("retention"), "retention must be at least 1 message"));
    }
    let probability = |field: &str, v: Option<Fraction>| match v {
        None => Ok(0.0),
        Some(f) if f.0.is_finite() && (0.0..=1.0).contains(&f.0) => Ok(f.0),
        Some(f) => Err(ctx.err(
            &p.k(field),
            format!("a probability is in [0, 1] (0.02 or \"2%\"), got {}", f.0),
        )),
    };
    let failure_probability = probability("failure_probability", q.failure_probability)?;
    let poison_probability = probability("poison_probability", q.poison_probability)?;
    let retry = match q.retry {
        None => MessageRetryDef {
            max_attempts: 1,
            mode: RetryMode::Blocking,
            backoff: 0,
            multiplier: 1.0,
            max_backoff: 0,
        },
        Some(r) => {
            let rp = p.k("retry");
            if r.max_attempts == 0 {
                return Err(ctx.err(
                    &rp.k("max_attempts"),
                    "at least 1 attempt (the first); 1 means no retry",
                ));
            }
            if r.mode == RetryMode::Requeue {
                if !work_queue {
                    return Err(ctx.err(
                        &rp.k("mode"),
                        "`requeue` (basic.nack with requeue) is a work queue's; a topic retries in place (`blocking`) or through retry topics (`retry_topic`)",
                    ));
                }
                for (field, given) in [
                    ("backoff", r.backoff.is_some()),
                    ("multiplier", r.multiplier.is_some()),
                    ("max_backoff", r.max_backoff.is_some()),
                ] {
                    if given {
                        return Err(ctx.err(
                            &rp.k(field),
                            "a requeued message is redelivered at once, without a backoff; for a delay use \"mode\": \"retry_topic\" (a TTL queue) or \"blocking\"",
                        ));
                    }
                }
            }
            let multiplier = r.multiplier.unwrap_or(1.0);
            if !(multiplier.is_finite() && (1.0..=100.0).contains(&multiplier)) {
                return Err(ctx.err(
                    &rp.k("multiplier"),
                    format!(
                        "a backoff multiplier is in [1, 100] (1: a fixed backoff), got {multiplier}"
                    ),
                ));
            }
            let (backoff, max_backoff) = if r.mode == RetryMode::Requeue {
                (0, 0)
            } else {
                let backoff = r.backoff.map_or(DEFAULT_BACKOFF.0, |d| d.0);
                let max_backoff = r
                    .max_backoff
                    .map_or(DEFAULT_MAX_BACKOFF.0.max(backoff), |d| d.0);
                if max_backoff < backoff {
                    return Err(ctx.err(
                        &rp.k("max_backoff"),
                        format!(
                            "the longest backoff ({}) is shorter than the first ({})",
                            SimDuration(max_backoff),
                            SimDuration(backoff)
                        ),
                    ));
                }
                (backoff, max_backoff)
            };
            MessageRetryDef {
                max_attempts: r.max_attempts,
                mode: r.mode,
                backoff,
                multiplier,
                max_backoff,
            }
        }
    };
    let dead_letter = match &q.dead_letter_queue {
        None => None,
        Some(name) => {
            let dp = p.k("dead_letter_queue");
            let Some(Kind::Queue(d)) = names.all.get(name).copied() else {
                return Err(ctx.unknown(
                    &dp,
                    "queue",
                    name,
                    &names.of_kind(|k| matches!(k, Kind::Queue(_))),
                ));
            };
            if d == i {
                return Err(ctx.err(
                    &dp,
                    format!("queue `{name}` cannot be its own dead-letter queue: a message that failed for good would come back to fail again"),
                ));
            }
            // Dead letters must end somewhere: no cycle of dead-letter queues.
            let mut chain = vec![sc.queues[i].name.as_str()];
            let mut at = Some(d);
            while let Some(n) = at {
                chain.push(sc.queues[n].name.as_str());
                if n == i {
                    return Err(ctx.err(
                        &dp,
                        format!("dead-letter queues form a cycle ({}): a message that fails everywhere would circle for ever", chain.join(" -> ")),
                    ));
                }
                at = match sc.queues[n]
                    .dead_letter_queue
                    .as_ref()
                    .map(|x| names.all.get(x))
                {
                    Some(Some(Kind::Queue(x))) if chain.len() <= sc.queues.len() => Some(*x),
                    _ => None,
                };
            }
            Some(d)
        }
    };
    let consumer_failures = match q.consumer_failures {
        None => None,
        Some(f) => {
            if f.mtbf.0 == 0 {
                return Err(ctx.err(&p.k("consumer_failures").k("mtbf"), "must be positive"));
            }
            Some((f.mtbf.0 as f64, f.mttr.0 as f64))
        }
    };
    let session_timeout = if work_queue {
        q.heartbeat.map_or(DEFAULT_HEARTBEAT.0, |d| d.0)
    } else {
        q.session_timeout.map_or(DEFAULT_SESSION_TIMEOUT.0, |d| d.0)
    };
    if session_timeout == 0 {
        let field = if work_queue {
            "heartbeat"
        } else {
            "session_timeout"
        };
        return Err(ctx.err(&p.k(field), "must be positive"));
    }
    let partition_key = q
        .partition_key
        .as_ref()
        .map(|k| b.key(&p.k("partition_key"), k))
        .transpose()?;
    let stream = format!("queue/{}/work", q.name);
    let program = b.compile(&p.k("work"), &q.work, &stream, true)?;
    Ok(QueueDef {
        name: q.name.clone(),
        kind: q.kind,
        partitions,
        partition_key,
        consumers: q.consumers,
        program,
        publish_latency: q
            .publish_latency
            .as_ref()
            .map(|d| ctx.dist(&p.k("publish_latency"), d))
            .transpose()?,
        retention: q.retention.unwrap_or(DEFAULT_RETENTION),
        prefetch: if work_queue {
            q.prefetch.unwrap_or(1)
        } else {
            1
        },
        failure_probability,
        poison_probability,
        retry,
        dead_letter,
        consumer_failures,
        session_timeout,
        rebalance_pause: q.rebalance_pause.map_or(DEFAULT_REBALANCE_PAUSE.0, |d| d.0),
        assignor: q.assignor.unwrap_or_default(),
        price_per_consumer_hour: ctx
            .price(&p.k("price_per_consumer_hour"), q.price_per_consumer_hour)?,
        price_per_partition_hour: ctx
            .price(&p.k("price_per_partition_hour"), q.price_per_partition_hour)?,
        brokers: q.brokers,
        price_per_broker_hour: ctx.price(&p.k("price_per_broker_hour"), q.price_per_broker_hour)?,
    })
}

/// Checks an autoscaler's rules.
fn autoscaling(
    ctx: &Ctx<'_>,
    p: &P,
    s: &Service,
    a: Autoscaling,
) -> Result<Autoscaling, ScenarioError> {
    if a.min_replicas == 0 {
        return Err(ctx.err(&p.k("min_replicas"), "must be at least 1"));
    }
    if a.max_replicas < a.min_replicas {
        return Err(ctx.err(
            &p.k("max_replicas"),
            format!(
                "must be at least min_replicas ({}), got {}",
                a.min_replicas, a.max_replicas
            ),
        ));
    }
    if a.max_replicas > 10_000 {
        return Err(ctx.err(&p.k("max_replicas"), "at most 10000 pods"));
    }
    if s.replicas < a.min_replicas || s.replicas > a.max_replicas {
        return Err(ctx.err(
            &p.k("min_replicas"),
            format!(
                "the service starts with {} replicas, outside [min_replicas, max_replicas] = [{}, {}]",
                s.replicas, a.min_replicas, a.max_replicas
            ),
        ));
    }
    if !(a.target.is_finite() && a.target > 0.0) {
        return Err(ctx.err(&p.k("target"), "must be a positive number"));
    }
    if a.metric == ScaleMetric::Utilisation && a.target > 1.0 {
        return Err(ctx.err(
            &p.k("target"),
            format!(
                "a utilisation target is a busy fraction in (0, 1], got {}",
                a.target
            ),
        ));
    }
    if a.sync_period.0 == 0 {
        return Err(ctx.err(&p.k("sync_period"), "must be positive"));
    }
    if !(a.tolerance.is_finite() && (0.0..1.0).contains(&a.tolerance)) {
        return Err(ctx.err(&p.k("tolerance"), "must be in [0, 1)"));
    }
    Ok(a)
}

/// Resolves the scheduled faults.
fn faults(
    ctx: &Ctx<'_>,
    sc: &Scenario,
    names: &Names,
    duration: SimDuration,
) -> Result<Vec<FaultDef>, ScenarioError> {
    let mut out = Vec::new();
    for (i, f) in sc.faults.iter().enumerate() {
        let p = root("faults").i(i);
        if f.at >= duration {
            return Err(ctx.err(
                &p.k("at"),
                format!("the fault starts at {} but the run lasts {duration}", f.at),
            ));
        }
        // One action per fault.
        let actions: Vec<&str> = [
            ("kill_pods", f.kill_pods.is_some()),
            ("slow_down", f.slow_down.is_some()),
            ("outage", f.outage.is_some()),
            ("partition_consumers", f.partition_consumers.is_some()),
        ]
        .into_iter()
        .filter(|a| a.1)
        .map(|a| a.0)
        .collect();
        if let [first, second, ..] = actions[..] {
            return Err(ctx.err(
                &p.k(second),
                format!("a fault does one thing, and this one has `{first}` and `{second}`: write two faults with the same `at`"),
            ));
        }
        let window = |what: &str| match f.length {
            None => Err(ctx.err(
                &p,
                format!("{what} lasts for a window: set `for`, e.g. \"for\": \"30s\""),
            )),
            Some(SimDuration::ZERO) => Err(ctx.err(&p.k("for"), "must be positive")),
            Some(d) => Ok(d.0),
        };
        if let Some(sd) = &f.slow_down {
            let sp = p.k("slow_down");
            let length = window("a slow-down")?;
            let target = fault_target(
                ctx,
                &sp,
                sc,
                names,
                (sd.database.as_deref(), sd.cache.as_deref()),
                (sd.shard, sd.node, sd.role),
                "slow down",
            )?;
            if !(sd.factor.is_finite() && sd.factor >= 1.0) {
                return Err(ctx.err(
                    &sp.k("factor"),
                    format!(
                        "a slow-down factor must be a finite number >= 1 (1: no change; service times are multiplied by it), got {}",
                        sd.factor
                    ),
                ));
            }
            out.push(FaultDef::SlowDown {
                at: f.at.0,
                length,
                target,
                factor: sd.factor,
            });
            continue;
        }
        if let Some(o) = &f.outage {
            let op = p.k("outage");
            let length = window("an outage")?;
            let target = fault_target(
                ctx,
                &op,
                sc,
                names,
                (o.database.as_deref(), o.cache.as_deref()),
                (o.shard, o.node, None),
                "take down",
            )?;
            out.push(FaultDef::Outage {
                at: f.at.0,
                length,
                target,
            });
            continue;
        }
        if let Some(pc) = &f.partition_consumers {
            let pp = p.k("partition_consumers");
            let length = window("a network partition")?;
            let Some(Kind::Queue(queue)) = names.all.get(&pc.queue).copied() else {
                return Err(ctx.unknown(
                    &pp.k("queue"),
                    "queue",
                    &pc.queue,
                    &names.of_kind(|k| matches!(k, Kind::Queue(_))),
                ));
            };
            let consumers = sc.queues[queue].consumers;
            if pc.count == 0 || pc.count > consumers {
                return Err(ctx.err(
                    &pp.k("count"),
                    format!(
                        "queue `{}` has {consumers} consumers: cut off 1 to {consumers}, got {}",
                        pc.queue, pc.count
                    ),
                ));
            }
            out.push(FaultDef::PartitionConsumers {
                at: f.at.0,
                length,
                queue,
                count: pc.count,
            });
            continue;
        }
        match &f.kill_pods {
            Some(k) => {
                let kp = p.k("kill_pods");
                let service = match names.all.get(&k.service) {
                    Some(Kind::Service(s)) => *s,
                    _ => {
                        return Err(ctx.unknown(
                            &kp.k("service"),
                            "service",
                            &k.service,
                            &names.of_kind(|k| matches!(k, Kind::Service(_))),
                        ));
                    }
                };
                if k.count == 0 {
                    return Err(ctx.err(&kp.k("count"), "must be at least 1"));
                }
                if f.length.is_some() {
                    return Err(ctx.err(
                        &p.k("for"),
                        "killed pods restart on their own (the service's restart_delay and startup_time); `for` applies to slow-downs and outages",
                    ));
                }
                out.push(FaultDef::KillPods {
                    at: f.at.0,
                    service,
                    count: k.count,
                });
            }
            None => {
                return Err(ctx.err(&p, "a fault needs an action, e.g. \"kill_pods\": {\"service\": \"app\", \"count\": 2}"));
            }
        }
    }
    Ok(out)
}

/// Resolves the target of a slow-down or an outage at `p`: a database
/// (optionally one shard, and for slow-downs the nodes' `role`) or a cache
/// (optionally one node). `verb` says what the fault does, for messages.
fn fault_target(
    ctx: &Ctx<'_>,
    p: &P,
    sc: &Scenario,
    names: &Names,
    (database, cache): (Option<&str>, Option<&str>),
    (shard, node, role): (Option<u32>, Option<u32>, Option<DbRole>),
    verb: &str,
) -> Result<FaultTarget, ScenarioError> {
    match (database, cache) {
        (Some(_), Some(_)) => Err(ctx.err(
            &p.k("cache"),
            "name one target, `database` or `cache`, not both: write two faults",
        )),
        (None, None) => Err(ctx.err(p, format!("name the `database` or the `cache` to {verb}"))),
        (Some(name), None) => {
            let Some(Kind::Db(db)) = names.all.get(name) else {
                return Err(ctx.unknown(
                    &p.k("database"),
                    "database",
                    name,
                    &names.of_kind(|k| matches!(k, Kind::Db(_))),
                ));
            };
            let d = &sc.databases[*db];
            if node.is_some() {
                return Err(ctx.err(
                    &p.k("node"),
                    "`node` applies to a cache; for a database name a `shard`",
                ));
            }
            if let Some(s) = shard
                && s >= d.shards
            {
                return Err(ctx.err(
                    &p.k("shard"),
                    format!(
                        "database `{name}` has {} shards (0 to {}), so there is no shard {s}",
                        d.shards,
                        d.shards - 1
                    ),
                ));
            }
            if role == Some(DbRole::Replicas) && d.replicas == 0 {
                return Err(ctx.err(
                    &p.k("role"),
                    format!("database `{name}` has no read replicas"),
                ));
            }
            Ok(FaultTarget::Db {
                db: *db,
                shard,
                role: role.unwrap_or_default(),
            })
        }
        (None, Some(name)) => {
            let Some(Kind::Cache(cache)) = names.all.get(name) else {
                return Err(ctx.unknown(
                    &p.k("cache"),
                    "cache",
                    name,
                    &names.of_kind(|k| matches!(k, Kind::Cache(_))),
                ));
            };
            let c = &sc.caches[*cache];
            if shard.is_some() {
                return Err(ctx.err(
                    &p.k("shard"),
                    "`shard` applies to a database; for a cache name a `node`",
                ));
            }
            if role.is_some() {
                return Err(ctx.err(&p.k("role"), "`role` applies to a database"));
            }
            if let Some(n) = node
                && n >= c.nodes
            {
                return Err(ctx.err(
                    &p.k("node"),
                    format!(
                        "cache `{name}` has {} node{} (0 to {}), so there is no node {n}",
                        c.nodes,
                        if c.nodes == 1 { "" } else { "s" },
                        c.nodes - 1
                    ),
                ));
            }
            Ok(FaultTarget::Cache {
                cache: *cache,
                node,
            })
        }
    }
}

/// Resolves the random failures of a database shard's primary or a cache
/// node: both means must be positive (a failed node stays down until it
/// is repaired).
fn component_failures(
    ctx: &Ctx<'_>,
    p: &P,
    f: Option<Failures>,
) -> Result<Option<(f64, f64)>, ScenarioError> {
    let Some(f) = f else { return Ok(None) };
    if f.mtbf.0 == 0 {
        return Err(ctx.err(&p.k("mtbf"), "must be positive"));
    }
    if f.mttr.0 == 0 {
        return Err(ctx.err(
            &p.k("mttr"),
            "must be positive: a failed node is down until it is repaired, e.g. \"mttr\": \"5m\"",
        ));
    }
    Ok(Some((f.mtbf.0 as f64, f.mttr.0 as f64)))
}

/// What an `slo` entry is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SloScope {
    System,
    Endpoint,
    Service,
    Database,
    Cache,
    Queue,
}

impl SloScope {
    fn noun(self) -> &'static str {
        match self {
            SloScope::System => "the whole system",
            SloScope::Endpoint => "an endpoint (or the whole system)",
            SloScope::Service => "a service",
            SloScope::Database => "a database",
            SloScope::Cache => "a cache",
            SloScope::Queue => "a queue",
        }
    }
}

/// How a limit is written and shown.
#[derive(Clone, Copy)]
enum LimitKind {
    /// A duration; the metric is in ms.
    Dur,
    /// A fraction in [0, 1], shown as a percentage.
    Frac,
    /// A non-negative number with a unit.
    Num(&'static str),
}
/// One kind of limit of an `slo` entry: field, value if given, metric,
/// label, direction, how it is written, the targets it applies to.
type Limit<'a> = (
    &'a str,
    Option<f64>,
    &'a str,
    &'a str,
    crate::sweeps::Op,
    LimitKind,
    &'a [SloScope],
);

/// Resolves the `slo` section into objectives on named metrics.
fn objectives(
    ctx: &Ctx<'_>,
    sc: &Scenario,
    names: &Names,
    duration: SimDuration,
) -> Result<Vec<crate::slo::Objective>, ScenarioError> {
    use crate::slo::{Objective, Window};
    use crate::sweeps::{Op, Slo, short_number};
    let mut out = Vec::new();
    for (i, e) in sc.slo.iter().enumerate() {
        let p = root("slo").i(i);
        let targets: Vec<(&str, &String)> = [
            ("endpoint", &e.endpoint),
            ("service", &e.service),
            ("database", &e.database),
            ("cache", &e.cache),
            ("queue", &e.queue),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        if targets.len() > 1 {
            return Err(ctx.err(
                &p.k(targets[1].0),
                format!(
                    "an entry is about one target; this one names a {} and a {} (write two entries)",
                    targets[0].0, targets[1].0
                ),
            ));
        }
        let (scope, prefix, what) = match targets.first() {
            None => (SloScope::System, String::new(), String::new()),
            Some(("endpoint", n)) => {
                let owners: Vec<&str> = sc
                    .services
                    .iter()
                    .filter(|s| s.endpoints.contains_key(n.as_str()))
                    .map(|s| s.name.as_str())
                    .collect();
                if owners.is_empty() {
                    let known: Vec<&str> = sc
                        .services
                        .iter()
                        .flat_map(|s| s.endpoints.keys().map(String::as_str))
                        .collect();
                    return Err(ctx.unknown(&p.k("endpoint"), "endpoint", n, &known));
                }
                if owners.len() > 1 {
                    return Err(ctx.err(
                        &p.k("endpoint"),
                        format!(
                            "endpoint `{n}` exists in services {}; objectives need an endpoint name used once",
                            owners.join(", ")
                        ),
                    ));
                }
                (
                    SloScope::Endpoint,
                    format!("endpoint.{n}."),
                    format!("endpoint {n} "),
                )
            }
            Some((field, n)) => {
                let (scope, key, want): (SloScope, &str, fn(Kind) -> bool) = match *field {
                    "service" => (SloScope::Service, "service", |k| {
                        matches!(k, Kind::Service(_))
                    }),
                    "database" => (SloScope::Database, "db", |k| matches!(k, Kind::Db(_))),
                    "cache" => (SloScope::Cache, "cache", |k| matches!(k, Kind::Cache(_))),
                    _ => (SloScope::Queue, "queue", |k| matches!(k, Kind::Queue(_))),
                };
                if !names.all.get(n.as_str()).is_some_and(|k| want(*k)) {
                    return Err(ctx.unknown(&p.k(field), field, n, &names.of_kind(want)));
                }
                (scope, format!("{key}.{n}."), format!("{field} {n} "))
            }
        };
        let window = match e.window {
            None => None,
            Some(w) => {
                let wp = p.k("window");
                if w.from >= w.to {
                    return Err(ctx.err(
                        &wp.k("to"),
                        format!(
                            "the window must end after it starts ({} is not after {})",
                            w.to, w.from
                        ),
                    ));
                }
                if w.to > duration {
                    return Err(ctx.err(
                        &wp.k("to"),
                        format!("the window ends at {} but the run lasts {duration}", w.to),
                    ));
                }
                Some(Window {
                    from: w.from,
                    to: w.to,
                })
            }
        };
        let dur = |d: Option<SimDuration>| d.map(|d| d.as_millis_f64());
        let frac = |f: Option<Fraction>| f.map(|f| f.0);
        use LimitKind::{Dur, Frac, Num};
        use SloScope::*;
        let request = &[System, Endpoint][..];
        #[rustfmt::skip]
        let limits: [Limit<'_>; 23] = [
            ("p50", dur(e.p50), "p50_ms", "p50", Op::Below, Dur, request),
            ("p90", dur(e.p90), "p90_ms", "p90", Op::Below, Dur, request),
            ("p99", dur(e.p99), "p99_ms", "p99", Op::Below, Dur, request),
            ("p999", dur(e.p999), "p999_ms", "p99.9", Op::Below, Dur, request),
            ("mean", dur(e.mean), "mean_ms", "mean latency", Op::Below, Dur, request),
            ("error_rate", frac(e.error_rate), "error_rate", "error rate", Op::Below, Frac, request),
            ("timeout_rate", frac(e.timeout_rate), "timeout_rate", "timeout rate", Op::Below, Frac, request),
            ("rejection_rate", frac(e.rejection_rate), "rejection_rate", "rejection rate", Op::Below, Frac, request),
            ("rate_limited_rate", frac(e.rate_limited_rate), "rate_limited_rate", "rate-limited (429) rate", Op::Below, Frac, request),
            ("user_error_rate", frac(e.user_error_rate), "user_error_rate", "error rate as users see it", Op::Below, Frac, request),
            ("user_p99", dur(e.user_p99), "user_p99_ms", "p99 as users see it", Op::Below, Dur, request),
            ("min_throughput_rps", e.min_throughput_rps, "throughput_rps", "throughput", Op::Above, Num("requests/s"), request),
            ("max_utilisation", frac(e.max_utilisation), if scope == Database { "max_utilisation" } else { "utilisation" }, if scope == Database { "busiest shard's utilisation" } else { "utilisation" }, Op::Below, Frac, &[Service, Database]),
            ("max_session_loss_rate", frac(e.max_session_loss_rate), "session_loss_rate", "session loss rate", Op::Below, Frac, &[Service]),
            ("max_hot_spot_index", e.max_hot_spot_index, "hot_spot_index", "hot-spot index", Op::Below, Num(""), &[Database]),
            ("max_hot_spot_index_by_interval", e.max_hot_spot_index_by_interval, "hot_spot_interval", "hot-spot index by interval", Op::Below, Num(""), &[Database]),
            ("min_hit_ratio", frac(e.min_hit_ratio), "hit_ratio", "hit ratio", Op::Above, Frac, &[Cache]),
            ("max_lag", e.max_lag, "lag_max", "lag", Op::Below, Num("messages"), &[Queue]),
            ("max_end_to_end_p99", dur(e.max_end_to_end_p99), "e2e_p99_ms", "end-to-end p99", Op::Below, Dur, &[Queue]),
            ("max_dead_lettered", e.max_dead_lettered, "dead_lettered", "dead-lettered messages", Op::Below, Num("messages"), &[Queue]),
            ("max_stale_read_ratio", frac(e.max_stale_read_ratio), "stale_read_ratio", "stale reads", Op::Below, Frac, &[Database]),
            ("max_cost_per_hour", e.max_cost_per_hour, "cost.per_hour", "cost", Op::Below, Num("$/hour"), &[System]),
            ("max_cost_per_million_requests", e.max_cost_per_million_requests, "cost.per_million_requests", "cost per million requests", Op::Below, Num("$/M requests"), &[System]),
        ];
        let before = out.len();
        for (field, value, metric, label, op, kind, scopes) in limits {
            let Some(v) = value else { continue };
            let fp = p.k(field);
            if !scopes.contains(&scope) {
                let allowed: Vec<&str> = scopes.iter().map(|s| s.noun()).collect();
                return Err(ctx.err(
                    &fp,
                    format!(
                        "`{field}` is a limit on {}; this entry is about {}",
                        allowed.join(" or "),
                        match targets.first() {
                            Some((k, n)) => format!("{k} `{n}`"),
                            None => "the whole system".to_string(),
                        }
                    ),
                ));
            }
            if !v.is_finite() || v < 0.0 {
                return Err(ctx.err(
                    &fp,
                    format!("a limit must be a finite number >= 0, got {v}"),
                ));
            }
            if matches!(kind, Frac) && v > 1.0 {
                return Err(ctx.err(&fp, format!("a fraction is at most 1 (100%), got {v}")));
            }
            // Metrics that only some scenarios have.
            if field == "max_session_loss_rate"
                && let Some((_, name)) = targets.first()
                && sc
                    .services
                    .iter()
                    .any(|s| s.name == **name && s.sessions.is_none())
            {
                return Err(ctx.err(
                    &fp,
                    format!("service `{name}` keeps no sessions (add `sessions` to it)"),
                ));
            }
            if field.starts_with("user_")
                && !sc
                    .workloads
                    .iter()
                    .any(|w| w.retry.is_some() || w.users.is_some())
            {
                return Err(ctx.err(
                    &fp,
                    "users see what the system sees unless a workload retries or has closed-loop `users`: use the plain limit",
                ));
            }
            let metric = if metric.starts_with("cost.") {
                metric.to_string()
            } else {
                format!("{prefix}{metric}")
            };
            let (unit, percent, shown) = match kind {
                Dur => (
                    "ms",
                    false,
                    format!("{}", SimDuration((v * 1e6).round() as u64)),
                ),
                Frac => ("", true, format!("{}%", short_number(v * 100.0))),
                Num(u) => (
                    u,
                    false,
                    if u.is_empty() {
                        short_number(v)
                    } else {
                        format!("{} {u}", short_number(v))
                    },
                ),
            };
            let sign = match op {
                Op::Below => "<",
                Op::Above => ">",
            };
            let what = if what.is_empty() {
                "overall "
            } else {
                what.as_str()
            };
            let what = if metric.starts_with("cost.") {
                ""
            } else {
                what
            };
            let mut objective = Objective::new(
                e.name.clone(),
                Slo {
                    text: format!("{what}{label} {sign} {shown}"),
                    metric,
                    op,
                    limit: v,
                    unit: unit.to_string(),
                    percent,
                },
                window,
            );
            objective.tolerance = e.tolerance.map(|t| t.0);
            if out.iter().any(|o: &Objective| o.id == objective.id) {
                return Err(ctx.err(
                    &fp,
                    format!(
                        "another entry already limits `{}`{}; one limit per metric and window",
                        objective.slo.metric,
                        window.map(|w| format!(" over {w}")).unwrap_or_default()
                    ),
                ));
            }
            out.push(objective);
        }
        if let Some(t) = e.tolerance
            && !(t.0.is_finite() && t.0 >= 0.0)
        {
            return Err(ctx.err(&p.k("tolerance"), "must be a fraction >= 0"));
        }
        if out.len() == before {
            return Err(ctx.err(
                &p,
                "this entry sets no limit; give e.g. \"p99\": \"250ms\", \"error_rate\": \"0.1%\", \"max_utilisation\": 0.8 (see docs/scenario-format.md)",
            ));
        }
    }
    Ok(out)
}
