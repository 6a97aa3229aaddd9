//! Turning the final state of a run into the results document.

use sim_core::SimTime;

use super::{Owner, World};
use crate::results::*;
use crate::scenario::{LbPolicy, ShardStrategy};

impl World<'_> {
    pub(super) fn finish(mut self, wall_s: f64) -> Results {
        let m = self.m;
        let end = SimTime(self.end);
        let measured_s = (self.end.min(self.measure_end) - self.warmup) as f64 / 1e9;
        let mut warnings = Vec::new();

        // Requests still alive: timed out already (lazily) or in flight.
        let mut ep_in_flight = vec![0u64; m.endpoints.len()];
        for job in self.jobs.iter().filter(|j| j.live) {
            if let Owner::Request { workload, ep, .. } = job.owner {
                let timeout = m.workloads[workload as usize].timeout;
                let e = &mut self.eps[ep as usize];
                if let Some(t) = timeout
                    && self.end - job.born > t.0
                {
                    self.ledger.failed += 1;
                    e.timeout_series.add(SimTime(job.born + t.0), 1.0);
                    if job.measured {
                        e.timeouts += 1;
                    }
                } else {
                    self.ledger.in_flight += 1;
                    if job.measured {
                        ep_in_flight[ep as usize] += 1;
                    }
                }
            }
        }

        let endpoints: Vec<EndpointResult> = m
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
                let errors = e.timeouts + e.rejected;
                EndpointResult {
                    name: def.name.clone(),
                    service: m.services[def.service].name.clone(),
                    count: e.count,
                    ok: e.ok,
                    errors,
                    timeouts: e.timeouts,
                    rejected: e.rejected,
                    in_flight,
                    throughput_rps: e.ok as f64 / measured_s,
                    error_rate: ratio(errors, e.count),
                    latency: e.latency.summary(),
                    latency_cdf: e.latency.cdf(),
                }
            })
            .collect();

        let sum = |f: fn(&EndpointResult) -> u64| endpoints.iter().map(f).sum::<u64>();
        let (count, ok, timeouts, rejected) = (
            sum(|e| e.count),
            sum(|e| e.ok),
            sum(|e| e.timeouts),
            sum(|e| e.rejected),
        );
        let overall = EndpointResult {
            name: "all".to_string(),
            service: "*".to_string(),
            count,
            ok,
            errors: timeouts + rejected,
            timeouts,
            rejected,
            in_flight: sum(|e| e.in_flight),
            throughput_rps: ok as f64 / measured_s,
            error_rate: ratio(timeouts + rejected, count),
            latency: self.overall_latency.summary(),
            latency_cdf: self.overall_latency.cdf(),
        };

        let load_balancers = m
            .load_balancers
            .iter()
            .zip(&self.lbs)
            .map(|(def, l)| LbResult {
                name: def.name.clone(),
                policy: match def.policy {
                    LbPolicy::RoundRobin => "round_robin",
                    LbPolicy::LeastConnections => "least_connections",
                }
                .to_string(),
                requests: l.requests,
                rejected: l.rejected,
                in_flight_mean: l.tw.mean(end),
                in_flight_max: l.tw.max(),
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
                    utilisation: pods.iter().map(|p| p.utilisation).sum::<f64>() / pods.len() as f64,
                    queue_length_mean: s.queued_tw.mean(end),
                    queue_length_max: s.queued_tw.max(),
                    queue_wait_mean_ms: if s.wait_n == 0 { 0.0 } else { s.wait_sum_ns / s.wait_n as f64 / 1e6 },
                    pods,
                }
            })
            .collect();

        let caches = m
            .caches
            .iter()
            .zip(&self.caches)
            .map(|(def, c)| CacheResult {
                name: def.name.clone(),
                capacity: def.capacity,
                lookups: c.hits + c.misses,
                hits: c.hits,
                misses: c.misses,
                hit_ratio: ratio(c.hits, c.hits + c.misses),
                evictions: c.lru.evictions - c.base.0,
                expirations: c.lru.expirations - c.base.1,
                invalidations: c.lru.invalidations - c.base.2,
                entries_at_end: c.lru.len() as u64,
            })
            .collect();

        let databases = m
            .databases
            .iter()
            .zip(&self.dbs)
            .map(|(def, d)| {
                let ops: u64 = d.shards.iter().map(|s| s.reads + s.writes).sum();
                let shards: Vec<ShardResult> = d
                    .shards
                    .iter()
                    .enumerate()
                    .map(|(i, s)| ShardResult {
                        index: i,
                        reads: s.reads,
                        writes: s.writes,
                        load_share: ratio(s.reads + s.writes, ops),
                        utilisation: s.busy_tw.mean(end) / f64::from(def.connections),
                        queue_length_mean: s.queue_tw.mean(end),
                        queue_length_max: s.queue_tw.max(),
                        wait_mean_ms: if s.wait_n == 0 {
                            0.0
                        } else {
                            s.wait_sum_ns / s.wait_n as f64 / 1e6
                        },
                    })
                    .collect();
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
                let first_bucket = (self.warmup / self.spec.interval.0) as usize;
                let (mut num, mut den) = (0.0, 0.0);
                for b in first_bucket..self.spec.buckets {
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
                    strategy: match def.router.strategy() {
                        ShardStrategy::Hash => "hash",
                        ShardStrategy::Range => "range",
                    }
                    .to_string(),
                    shard_key: m.keys[def.shard_key].clone(),
                    ops,
                    hot_spot_index: if ops == 0 { 0.0 } else { max_ops as f64 / mean },
                    hot_spot_index_by_interval: if den > 0.0 { num / den } else { 0.0 },
                    hottest_shard: hottest,
                    max_utilisation: shards.iter().map(|s| s.utilisation).fold(0.0, f64::max),
                    shards,
                }
            })
            .collect();

        let queues = m
            .queues
            .iter()
            .zip(&self.topics)
            .map(|(def, t)| {
                let active: Vec<_> = t.consumers.iter().filter(|c| !c.partitions.is_empty()).collect();
                let stride = 1 + self.nkeys;
                if def.consumers == 0 && t.published > 0 {
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
                    partition_detail: t
                        .partitions
                        .iter()
                        .map(|p| PartitionResult {
                            published: p.published,
                            lag_at_end: (p.msgs.len() / stride) as u64,
                        })
                        .collect(),
                }
            })
            .collect();

        let cost = self.cost();
        let spec = self.spec;
        let secs = spec.interval.as_secs_f64();
        // Rates divide by each bucket's covered width: the last bucket may
        // be cut short by the end of the run.
        let width = |i: usize| {
            let start = i as u64 * spec.interval.0;
            (self.end.saturating_sub(start)).min(spec.interval.0) as f64 / 1e9
        };
        let per_sec = |v: &[f64]| {
            v.iter()
                .enumerate()
                .map(|(i, x)| if width(i) > 0.0 { x / width(i) } else { 0.0 })
                .collect::<Vec<f64>>()
        };
        let time_series = TimeSeries {
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
                })
                .collect(),
        };

        let events = self.q.events_processed();
        Results {
            format_version: FORMAT_VERSION,
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: ScenarioInfo {
                name: m.name.clone(),
                description: m.description.clone(),
                seed: self.seed,
                duration_s: m.duration.as_secs_f64(),
                warmup_s: self.warmup as f64 / 1e9,
                measured_s,
            },
            totals: self.ledger.clone(),
            overall,
            endpoints,
            load_balancers,
            services,
            caches,
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
                    self.ledger.generated as f64 / wall_s
                } else {
                    0.0
                },
                peak_jobs: self.peak_jobs as u64,
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
        for s in &m.services {
            add(
                &s.name,
                "replica",
                f64::from(s.replicas),
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
        for d in &m.databases {
            add(
                &d.name,
                "shard",
                d.router.shards() as f64,
                d.price_per_shard_hour,
            );
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
            per_million_requests: if self.ledger.completed == 0 {
                0.0
            } else {
                total / self.ledger.completed as f64 * 1e6
            },
            items,
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
