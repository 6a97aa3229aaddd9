//! Turning the final state of a run into the results document.

use sim_core::SimTime;

use super::{Owner, World};
use crate::doc::results::*;
use crate::kernel::store::EvictionPolicy;
use crate::kinds::balancer::LbPolicy;
use crate::kinds::database::ReadFrom;
use crate::kinds::service::SessionStore;
use crate::model::vocab::Target;

impl World<'_> {
    pub(super) fn finish(mut self, wall_s: f64) -> Results {
        let m = self.m;
        let end = SimTime(self.cx.end);
        let measured_s = (self.cx.end.min(self.cx.measure_end) - self.cx.warmup) as f64 / 1e9;
        let mut warnings = Vec::new();

        // Requests still alive: timed out already (lazily) or in flight.
        let mut ep_in_flight = vec![0u64; m.endpoints.len()];
        // Killed jobs were counted as aborted when their pod crashed;
        // attempts their client gave up on, as timeouts then (clients.rs).
        for job in self
            .cx
            .jobs
            .iter()
            .filter(|j| j.live && !j.killed && j.call != super::clients::SETTLED)
        {
            if let Owner::Request { workload, ep, .. } = job.owner {
                let timeout = m.workloads[workload as usize].timeout;
                let e = &mut self.eps[ep as usize];
                if let Some(t) = timeout
                    && self.cx.end - job.born > t.0
                {
                    self.cx.ledger.failed += 1;
                    e.timeout_series
                        .add(SimTime(job.born.saturating_add(t.0)), 1.0);
                    if job.measured {
                        e.timeouts += 1;
                    }
                } else {
                    self.cx.ledger.in_flight += 1;
                    if job.measured {
                        ep_in_flight[ep as usize] += 1;
                    }
                }
            }
        }

        let mut endpoints: Vec<EndpointResult> = m
            .endpoints
            .iter()
            .zip(&self.eps)
            .zip(&ep_in_flight)
            .map(|((def, e), &in_flight)| {
                if e.latency.clamped() > 0 {
                    warnings.push(format!(
                        "endpoint `{}`: {} latencies above the histogram's range were clamped",
                        def.name,
                        e.latency.clamped()
                    ));
                }
                let errors = e.timeouts + e.rejected + e.aborted;
                EndpointResult {
                    name: def.name.clone(),
                    service: m.services[def.service].name.clone(),
                    count: e.count,
                    ok: e.ok,
                    errors,
                    timeouts: e.timeouts,
                    rejected: e.rejected,
                    aborted: e.aborted,
                    rate_limited: e.rate_limited,
                    in_flight,
                    throughput_rps: e.ok as f64 / measured_s,
                    error_rate: ratio(errors, e.count),
                    latency: e.latency.summary(),
                    latency_cdf: e.latency.cdf(),
                    retries: 0,
                    retries_refused_by_budget: 0,
                    user_visible: None,
                }
            })
            .collect();

        let sum = |f: fn(&EndpointResult) -> u64| endpoints.iter().map(f).sum::<u64>();
        let (count, ok, timeouts, rejected, aborted) = (
            sum(|e| e.count),
            sum(|e| e.ok),
            sum(|e| e.timeouts),
            sum(|e| e.rejected),
            sum(|e| e.aborted),
        );
        let mut overall = EndpointResult {
            name: "all".to_string(),
            service: "*".to_string(),
            count,
            ok,
            errors: timeouts + rejected + aborted,
            timeouts,
            rejected,
            aborted,
            rate_limited: sum(|e| e.rate_limited),
            in_flight: sum(|e| e.in_flight),
            throughput_rps: ok as f64 / measured_s,
            error_rate: ratio(timeouts + rejected + aborted, count),
            latency: self.overall_latency.summary(),
            latency_cdf: self.overall_latency.cdf(),
            retries: 0,
            retries_refused_by_budget: 0,
            user_visible: None,
        };
        // Retries and what users saw (clients.rs).
        self.client_results(&mut endpoints, &mut overall);

        let load_balancers = m
            .load_balancers
            .iter()
            .zip(&self.lbs)
            .map(|(def, l)| LbResult {
                name: def.name.clone(),
                policy: match def.policy {
                    LbPolicy::RoundRobin => "round_robin",
                    LbPolicy::WeightedRoundRobin => "weighted_round_robin",
                    LbPolicy::LeastConnections => "least_connections",
                    LbPolicy::Random => "random",
                    LbPolicy::PowerOfTwoChoices => "power_of_two_choices",
                    LbPolicy::Hash if def.consistent => "hash (consistent)",
                    LbPolicy::Hash => "hash",
                }
                .to_string(),
                requests: l.requests,
                rejected: l.rejected,
                in_flight_mean: l.tw.mean(end),
                in_flight_max: l.tw.max(),
                sent_to_down: l.sent_to_down,
                marked_down: l.marked_down,
                rate_limited: l.rate_limited,
            })
            .collect();

        let services = m
            .services
            .iter()
            .zip(&self.services)
            .map(|(def, s)| {
                let pods: Vec<PodResult> = s
                    .pods
                    .iter()
                    .map(|p| PodResult {
                        requests: p.requests,
                        rejected: p.rejected,
                        utilisation: p.busy_tw.mean(end) / f64::from(def.concurrency),
                        queue_length_mean: p.queue_tw.mean(end),
                    })
                    .collect();
                let rejected: u64 = pods.iter().map(|p| p.rejected).sum();
                if rejected > 0 {
                    warnings.push(format!(
                        "service `{}`: {rejected} requests rejected by full pod queues (queue_capacity {})",
                        def.name,
                        def.queue_capacity.unwrap_or(0)
                    ));
                }
                ServiceResult {
                    name: def.name.clone(),
                    replicas: def.replicas,
                    concurrency: def.concurrency,
                    requests: pods.iter().map(|p| p.requests).sum(),
                    rejected,
                    utilisation: if s.dynamic {
                        // Busy workers over the workers of ready pods.
                        let busy: f64 = s.pods.iter().map(|p| p.busy_tw.mean(end)).sum();
                        let ready = s.ready_tw.mean(end);
                        if ready > 0.0 {
                            busy / (ready * f64::from(def.concurrency))
                        } else {
                            0.0
                        }
                    } else {
                        pods.iter().map(|p| p.utilisation).sum::<f64>() / pods.len() as f64
                    },
                    queue_length_mean: s.queued_tw.mean(end),
                    queue_length_max: s.queued_tw.max(),
                    queue_wait_mean_ms: if s.wait_n == 0 { 0.0 } else { s.wait_sum_ns / s.wait_n as f64 / 1e6 },
                    aborted: s.aborted,
                    ready_mean: s.ready_tw.mean(end),
                    billed_mean: s.billed_tw.mean(end),
                    ready_min: s.ready_tw.min(),
                    ready_max: s.ready_tw.max(),
                    crashes: s.pods.iter().map(|p| p.crashes).sum(),
                    scaling: s
                        .scale_events
                        .iter()
                        .map(|&(at, from, to, metric)| ScaleEvent {
                            at_s: at as f64 / 1e9,
                            from,
                            to,
                            metric,
                        })
                        .collect(),
                    sessions: s.sessions.as_ref().zip(def.sessions).map(|(t, d)| {
                        let lost = t.lost_with_pod + t.lost_to_routing;
                        SessionResult {
                            store: match d.store {
                                SessionStore::Local => "local",
                                SessionStore::External => "external",
                            }
                            .to_string(),
                            key: m.keys[d.key].clone(),
                            created: t.created,
                            resumed: t.resumed,
                            lost,
                            lost_with_pod: t.lost_with_pod,
                            lost_to_routing: t.lost_to_routing,
                            loss_rate: ratio(lost, t.resumed + lost),
                        }
                    }),
                    pods,
                }
            })
            .collect();

        let caches = m
            .caches
            .iter()
            .zip(&self.caches)
            .map(|(def, c)| {
                let (evictions, expirations, invalidations) = c.store.counters();
                let f = &c.fetches;
                CacheResult {
                    name: def.name.clone(),
                    capacity: def.capacity,
                    lookups: c.hits + c.misses + c.errors,
                    hits: c.hits,
                    misses: c.misses,
                    hit_ratio: ratio(c.hits, c.hits + c.misses + c.errors),
                    evictions: evictions - c.base.0,
                    expirations: expirations - c.base.1,
                    invalidations: invalidations - c.base.2,
                    entries_at_end: c.store.len() as u64,
                    policy: policy_name(def.policy).to_string(),
                    fetches: f.fetches,
                    concurrent_misses: f.concurrent,
                    coalesced: f.coalesced,
                    lock_timeouts: f.lock_timeouts,
                    stampede_max: f.stampede_max,
                    updates: f.updates,
                    errors: c.errors,
                    node_failures: c.nodes.iter().map(|n| n.failures).sum(),
                    downtime_s: c.nodes.iter().map(|n| n.down_tw.integral(end)).sum::<f64>() / 1e9,
                    availability: if c.nodes.is_empty() {
                        1.0
                    } else {
                        1.0 - c.nodes.iter().map(|n| n.down_tw.mean(end)).sum::<f64>()
                            / c.nodes.len() as f64
                    },
                    keys_lost: c.keys_lost,
                }
            })
            .collect();

        let cdns = m
            .cdns
            .iter()
            .zip(&self.cdns)
            .map(|(def, c)| {
                let (evictions, expirations, _) = c.store.counters();
                CdnResult {
                    name: def.name.clone(),
                    origin: match def.origin {
                        Target::Lb(l) => &m.load_balancers[l].name,
                        Target::Service(s) => &m.services[s].name,
                    }
                    .clone(),
                    policy: policy_name(def.policy).to_string(),
                    capacity: def.capacity,
                    requests: c.requests,
                    hits: c.hits,
                    misses: c.misses,
                    hit_ratio: ratio(c.hits, c.requests),
                    offload: ratio(c.hits, c.all_requests),
                    origin_requests: c.all_requests - c.hits,
                    evictions: evictions - c.base.0,
                    expirations: expirations - c.base.1,
                    entries_at_end: c.store.len() as u64,
                }
            })
            .collect();

        let databases = m
            .databases
            .iter()
            .zip(&self.dbs)
            .map(|(def, d)| {
                let ops: u64 = d.shards.iter().map(|s| s.reads + s.writes).sum();
                let reads: u64 = d.shards.iter().map(|s| s.reads).sum();
                let conns = f64::from(def.connections);
                let shards: Vec<ShardResult> = d
                    .shards
                    .iter()
                    .enumerate()
                    .map(|(i, s)| ShardResult {
                        index: i,
                        reads: s.reads,
                        writes: s.writes,
                        load_share: ratio(s.reads + s.writes, ops),
                        utilisation: s.primary.busy_tw.mean(end) / conns,
                        queue_length_mean: s.primary.queue_tw.mean(end),
                        queue_length_max: s.primary.queue_tw.max(),
                        wait_mean_ms: wait_mean_ms(&s.primary),
                        wait_p99_ms: s.primary.wait_hist.quantile_ns(0.99) as f64 / 1e6,
                        replica_reads: s.replica_reads,
                        stale_reads: s.stale_reads,
                        failed_statements: s.failed,
                        failures: s.health.failures,
                        downtime_s: s.health.down_tw.integral(end) / 1e9,
                        availability: 1.0 - s.health.down_tw.mean(end),
                        replicas: s
                            .replicas
                            .iter()
                            .enumerate()
                            .map(|(r, rep)| ReplicaResult {
                                index: r,
                                reads: rep.reads,
                                stale_reads: rep.stale_reads,
                                utilisation: rep.pool.busy_tw.mean(end) / conns,
                                queue_length_mean: rep.pool.queue_tw.mean(end),
                                queue_length_max: rep.pool.queue_tw.max(),
                                wait_mean_ms: wait_mean_ms(&rep.pool),
                                wait_p99_ms: rep.pool.wait_hist.quantile_ns(0.99) as f64 / 1e6,
                                lag_mean_ms: rep.lag_hist.mean_ns() / 1e6,
                                lag_p99_ms: rep.lag_hist.quantile_ns(0.99) as f64 / 1e6,
                                lag_max_ms: rep.lag_hist.max_ns() as f64 / 1e6,
                            })
                            .collect(),
                    })
                    .collect();
                let stale_reads: u64 = shards.iter().map(|s| s.stale_reads).sum();
                let (hottest, max_ops) =
                    shards.iter().map(|s| s.reads + s.writes).enumerate().fold(
                        (0, 0),
                        |best, (i, o)| if o > best.1 { (i, o) } else { best },
                    );
                let mean = ops as f64 / shards.len() as f64;
                // Per time-series bucket after the warm-up: busiest shard /
                // mean shard, averaged with the bucket's statements as
                // weights. Shards that are hot in turn (range on time)
                // average out over the run but not here.
                let first_bucket = (self.cx.warmup / self.cx.spec.interval.0) as usize;
                let (mut num, mut den) = (0.0, 0.0);
                for b in first_bucket..self.cx.spec.buckets {
                    let per: Vec<f64> = d.shards.iter().map(|s| s.ops_series.values()[b]).collect();
                    let total: f64 = per.iter().sum();
                    if total > 0.0 {
                        let max = per.iter().copied().fold(0.0, f64::max);
                        num += max / (total / per.len() as f64) * total;
                        den += total;
                    }
                }
                DbResult {
                    name: def.name.clone(),
                    strategy: def.router.strategy_name().to_string(),
                    shard_key: m.keys[def.shard_key].clone(),
                    ops,
                    hot_spot_index: if ops == 0 { 0.0 } else { max_ops as f64 / mean },
                    hot_spot_index_by_interval: if den > 0.0 { num / den } else { 0.0 },
                    hottest_shard: hottest,
                    max_utilisation: shards
                        .iter()
                        .flat_map(|s| {
                            std::iter::once(s.utilisation)
                                .chain(s.replicas.iter().map(|r| r.utilisation))
                        })
                        .fold(0.0, f64::max),
                    replicas: def.replicas,
                    read_from: match def.read_from {
                        ReadFrom::Primary => "primary",
                        ReadFrom::Replicas => "replicas",
                        ReadFrom::RoundRobin => "round_robin",
                    }
                    .to_string(),
                    replica_reads: shards.iter().map(|s| s.replica_reads).sum(),
                    stale_reads,
                    stale_read_ratio: ratio(stale_reads, reads),
                    failed_statements: shards.iter().map(|s| s.failed_statements).sum(),
                    shards,
                }
            })
            .collect();

        let queues: Vec<QueueResult> = m
            .queues
            .iter()
            .zip(&self.topics)
            .map(|(def, t)| {
                let active: Vec<_> = t.consumers.iter().filter(|c| !c.partitions.is_empty()).collect();
                let stride = super::state::MSG_HEAD + self.cx.nkeys;
                // A dead-letter queue without consumers is normal: people
                // inspect it.
                let is_dlq = m
                    .queues
                    .iter()
                    .any(|x| x.dead_letter.is_some_and(|d| m.queues[d].name == def.name));
                if def.consumers == 0 && t.published > 0 && !is_dlq {
                    warnings.push(format!(
                        "queue `{}` has no consumers: {} messages published, none consumed",
                        def.name, t.published
                    ));
                }
                if t.dropped > 0 {
                    warnings.push(format!(
                        "queue `{}`: {} messages dropped by retention ({} per partition) before being consumed",
                        def.name, t.dropped, def.retention
                    ));
                }
                if t.dead_lettered > 0 {
                    warnings.push(format!(
                        "queue `{}`: {} messages failed {} attempt(s) and were dead-lettered{}",
                        def.name,
                        t.dead_lettered,
                        def.retry.max_attempts,
                        def.dead_letter
                            .map(|d| format!(" to `{}`", m.queues[d].name))
                            .unwrap_or_default()
                    ));
                }
                let (hottest, max_published) = t
                    .partitions
                    .iter()
                    .map(|p| p.published)
                    .enumerate()
                    .fold((0, 0), |best, (i, n)| if n > best.1 { (i, n) } else { best });
                let mean_published = t.published as f64 / t.partitions.len() as f64;
                let paused_ns = t.paused_ns + if t.paused { self.cx.end - t.paused_since } else { 0 };
                QueueResult {
                    name: def.name.clone(),
                    partitions: def.partitions,
                    consumers: def.consumers,
                    active_consumers: active.len() as u32,
                    published: t.published,
                    consumed: t.consumed,
                    dropped: t.dropped,
                    lag_mean: t.lag_tw.mean(end),
                    lag_max: t.lag_tw.max(),
                    lag_at_end: t.lag,
                    consumer_utilisation: if active.is_empty() {
                        0.0
                    } else {
                        active.iter().map(|c| c.busy_tw.mean(end)).sum::<f64>() / active.len() as f64
                    },
                    end_to_end: t.e2e.summary(),
                    kind: if def.is_work_queue() { "work_queue" } else { "topic" }.to_string(),
                    wait: t.wait.summary(),
                    skew_index: if t.published == 0 {
                        0.0
                    } else {
                        max_published as f64 / mean_published
                    },
                    hottest_partition: hottest,
                    failed_attempts: t.failed_attempts,
                    retries: t.retries,
                    dead_lettered: t.dead_lettered,
                    dead_letter_queue: def.dead_letter.map(|d| m.queues[d].name.clone()),
                    dead_letter_depth: match def.dead_letter {
                        Some(d) => self.topics[d].lag,
                        None => t.dead_lettered,
                    },
                    redeliveries: t.redeliveries,
                    consumer_crashes: t.crashes,
                    consumers_cut: t.cuts,
                    session_timeouts: t.session_timeouts,
                    rebalances: t.rebalances,
                    rebalance_paused_s: paused_ns as f64 / 1e9,
                    stuck_partition_s: t.stuck_tw.integral(end) / 1e9,
                    partition_detail: t
                        .partitions
                        .iter()
                        .map(|p| PartitionResult {
                            published: p.published,
                            lag_at_end: ((p.msgs.len() + p.retries.len()) / stride) as u64,
                            consumed: p.consumed,
                            share: ratio(p.published, t.published),
                            lag_mean: p.lag_tw.mean(end),
                            lag_max: p.lag_tw.max(),
                        })
                        .collect(),
                }
            })
            .collect();

        let cost = self.cost();
        let spec = self.cx.spec;
        let secs = spec.interval.as_secs_f64();
        // Rates divide by each bucket's covered width: the last bucket may
        // be cut short by the end of the run.
        let width = |i: usize| {
            let start = i as u64 * spec.interval.0;
            (self.cx.end.saturating_sub(start)).min(spec.interval.0) as f64 / 1e9
        };
        let per_sec = |v: &[f64]| {
            v.iter()
                .enumerate()
                .map(|(i, x)| if width(i) > 0.0 { x / width(i) } else { 0.0 })
                .collect::<Vec<f64>>()
        };
        let mut time_series = TimeSeries {
            interval_s: secs,
            buckets: spec.buckets,
            workloads: m
                .workloads
                .iter()
                .zip(&self.workloads)
                .map(|(d, w)| WorkloadSeries {
                    name: d.name.clone(),
                    offered_rps: per_sec(w.offered.values()),
                })
                .collect(),
            overall_latency: self.overall_series.finish(end),
            endpoints: m
                .endpoints
                .iter()
                .zip(std::mem::take(&mut self.eps))
                .map(|(d, e)| EndpointSeries {
                    name: d.name.clone(),
                    ok_rps: per_sec(e.ok_series.values()),
                    timeouts_rps: per_sec(e.timeout_series.values()),
                    rejected_rps: per_sec(e.rejected_series.values()),
                    aborted_rps: if e.aborted_series.values().iter().any(|v| *v > 0.0) {
                        per_sec(e.aborted_series.values())
                    } else {
                        Vec::new()
                    },
                    rate_limited_rps: if m.load_balancers.iter().any(|l| l.rate_limit.is_some()) {
                        per_sec(e.rate_limited_series.values())
                    } else {
                        Vec::new()
                    },
                    retries_rps: Vec::new(),
                    latency: e.latency_series.finish(end),
                })
                .collect(),
            services: m
                .services
                .iter()
                .zip(std::mem::take(&mut self.services))
                .map(|(d, s)| ServiceSeries {
                    name: d.name.clone(),
                    utilisation: s.util_series.finish(end),
                    queue_length: s.queue_series.finish(end),
                    ready: if s.dynamic {
                        s.ready_series.finish(end)
                    } else {
                        Vec::new()
                    },
                    billed: if s.dynamic {
                        s.billed_series.finish(end)
                    } else {
                        Vec::new()
                    },
                    sessions_lost_per_s: s
                        .sessions
                        .as_ref()
                        .map_or_else(Vec::new, |t| per_sec(t.lost_series.values())),
                })
                .collect(),
            databases: m
                .databases
                .iter()
                .zip(std::mem::take(&mut self.dbs))
                .map(|(d, db)| {
                    let (util, ops): (Vec<_>, Vec<_>) = db
                        .shards
                        .into_iter()
                        .map(|s| (s.util_series.finish(end), per_sec(s.ops_series.values())))
                        .unzip();
                    DbSeries {
                        name: d.name.clone(),
                        shard_utilisation: util,
                        shard_ops_rps: ops,
                    }
                })
                .collect(),
            caches: m
                .caches
                .iter()
                .zip(&self.caches)
                .map(|(d, c)| CacheSeries {
                    name: d.name.clone(),
                    hit_ratio: c
                        .hits_series
                        .values()
                        .iter()
                        .zip(c.lookups_series.values())
                        .map(|(h, l)| if *l > 0.0 { h / l } else { 0.0 })
                        .collect(),
                })
                .collect(),
            queues: m
                .queues
                .iter()
                .zip(std::mem::take(&mut self.topics))
                .map(|(d, t)| QueueSeries {
                    name: d.name.clone(),
                    lag: t.lag_series.finish(end),
                    dead_lettered_rps: if t.dead_lettered > 0 {
                        per_sec(t.dead_series.values())
                    } else {
                        Vec::new()
                    },
                    rebalancing: if t.rebalances > 0 {
                        t.paused_series.finish(end)
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        };

        for (s, retries) in time_series
            .endpoints
            .iter_mut()
            .zip(self.clients.retries_series())
        {
            s.retries_rps = per_sec(retries);
        }
        let events = self.cx.q.events_processed();
        Results {
            format_version: FORMAT_VERSION,
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: ScenarioInfo {
                name: m.name.clone(),
                description: m.description.clone(),
                seed: self.cx.seed,
                duration_s: m.duration.as_secs_f64(),
                warmup_s: self.cx.warmup as f64 / 1e9,
                measured_s,
            },
            totals: self.cx.ledger.clone(),
            overall,
            endpoints,
            load_balancers,
            services,
            caches,
            cdns,
            databases,
            queues,
            cost,
            time_series,
            warnings,
            engine: Engine {
                events,
                wall_time_s: wall_s,
                events_per_sec: if wall_s > 0.0 {
                    events as f64 / wall_s
                } else {
                    0.0
                },
                requests_per_sec: if wall_s > 0.0 {
                    self.cx.ledger.generated as f64 / wall_s
                } else {
                    0.0
                },
                peak_jobs: self.cx.peak_jobs as u64,
            },
        }
    }

    fn cost(&self) -> Cost {
        let m = self.m;
        let mut items = Vec::new();
        let mut add = |component: &str, unit: &str, count: f64, price: f64| {
            if price > 0.0 {
                items.push(CostItem {
                    component: component.to_string(),
                    unit: unit.to_string(),
                    count,
                    price_per_hour: price,
                    per_hour: count * price,
                });
            }
        };
        for l in &m.load_balancers {
            add(&l.name, "load balancer", 1.0, l.price_per_hour);
        }
        for (s, st) in m.services.iter().zip(&self.services) {
            add(
                &s.name,
                "replica",
                if st.dynamic {
                    st.billed_tw.mean(SimTime(self.cx.end))
                } else {
                    f64::from(s.replicas)
                },
                s.price_per_replica_hour,
            );
        }
        for c in &m.caches {
            add(
                &c.name,
                "cache node",
                f64::from(c.nodes),
                c.price_per_node_hour,
            );
        }
        // Billed by use: millions of edge requests per hour of the
        // measured period.
        let measured_h = (self.cx.end.min(self.cx.measure_end) - self.cx.warmup) as f64 / 3.6e12;
        for (c, st) in m.cdns.iter().zip(&self.cdns) {
            add(
                &c.name,
                "million requests",
                if measured_h > 0.0 {
                    st.requests as f64 / 1e6 / measured_h
                } else {
                    0.0
                },
                c.price_per_million_requests,
            );
        }
        for d in &m.databases {
            add(
                &d.name,
                "shard",
                d.router.shards() as f64,
                d.price_per_shard_hour,
            );
            if d.replicas > 0 {
                add(
                    &d.name,
                    "read replica",
                    d.router.shards() as f64 * f64::from(d.replicas),
                    d.price_per_replica_hour,
                );
            }
        }
        for q in &m.queues {
            add(
                &q.name,
                "partition",
                f64::from(q.partitions),
                q.price_per_partition_hour,
            );
            add(
                &q.name,
                "consumer",
                f64::from(q.consumers),
                q.price_per_consumer_hour,
            );
            add(
                &q.name,
                "broker",
                f64::from(q.brokers),
                q.price_per_broker_hour,
            );
        }
        let per_hour: f64 = items.iter().map(|i| i.per_hour).sum::<f64>() + 0.0;
        let total = per_hour * m.duration.as_secs_f64() / 3600.0;
        Cost {
            per_hour,
            total,
            per_million_requests: if self.cx.ledger.completed == 0 {
                0.0
            } else {
                total / self.cx.ledger.completed as f64 * 1e6
            },
            items,
        }
    }
}

fn policy_name(p: EvictionPolicy) -> &'static str {
    match p {
        EvictionPolicy::Lru => "lru",
        EvictionPolicy::Lfu => "lfu",
    }
}

/// Mean wait for a connection of `p`, ms (0 without statements).
fn wait_mean_ms(p: &super::state::Pool) -> f64 {
    if p.wait_n == 0 {
        0.0
    } else {
        p.wait_sum_ns / p.wait_n as f64 / 1e6
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
