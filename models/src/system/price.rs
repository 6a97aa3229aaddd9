//! What a model's components cost per hour: one price list, used by the
//! results document of a run and by the planner, which needs a variant's
//! cost before running it.

use super::model::Model;
use super::scenario::Scenario;
use crate::doc::results::CostItem;
use crate::kernel::resolve::{Path, Resolve};
use crate::kinds::{balancer, cache, cdn, database, queue, service};
use crate::scenario::ScenarioError;

/// The most millions of requests per hour a CDN edge can be billed for:
/// a run counts at most `u64::MAX` requests, over at least 1 ns.
const MAX_EDGE_RATE: f64 = u64::MAX as f64 * 1e9 * 3600.0 / 1e6;

/// Refuses prices whose cost figures would not be finite numbers: the
/// price list with every count at the largest it can bill (a service's
/// `max_replicas` under autoscaling, a CDN edge's largest countable
/// request rate) must stay finite once multiplied by the run's length in
/// seconds (the total, with room: it is in hours) and by 10^6 (the cost
/// per million requests, with room: it divides by the completed
/// requests). The error points at the price whose line makes the sum
/// overflow. A handful of multiplications: no run's result changes.
pub(super) fn check_finite(
    cx: &Resolve<'_>,
    sc: &Scenario,
    m: &Model,
) -> Result<(), ScenarioError> {
    let scale = m.duration.as_secs_f64().max(1.0) * 1e6;
    let mut sum = 0.0_f64;
    let mut add = |path: Path, count: f64, price: f64| {
        sum += count * price;
        if (sum * scale).is_finite() {
            Ok(())
        } else {
            Err(cx.err(
                &path,
                format!(
                    "a price of {price:e} makes the cost of the run overflow (billing up to {count:e} × {price:e} per hour over {}, also per million requests, is not a finite number): use a larger unit of money",
                    m.duration
                ),
            ))
        }
    };
    for (i, l) in m.load_balancers.iter().enumerate() {
        let p = Path::root(balancer::SECTION).i(i);
        add(p.k("price_per_hour"), 1.0, l.price_per_hour)?;
    }
    for (i, s) in m.services.iter().enumerate() {
        let p = Path::root(service::SECTION).i(i);
        let most = s.autoscaling.as_ref().map_or(0, |a| a.max_replicas);
        let count = f64::from(s.replicas.max(most));
        add(
            p.k("price_per_replica_hour"),
            count,
            s.price_per_replica_hour,
        )?;
    }
    for (i, c) in m.caches.iter().enumerate() {
        let p = Path::root(cache::SECTION).i(i);
        let count = f64::from(c.nodes);
        add(p.k("price_per_node_hour"), count, c.price_per_node_hour)?;
    }
    for (i, c) in m.cdns.iter().enumerate() {
        let p = Path::root(cdn::SECTION).i(i);
        let price = c.price_per_million_requests;
        add(p.k("price_per_million_requests"), MAX_EDGE_RATE, price)?;
    }
    for (i, d) in m.databases.iter().enumerate() {
        let p = Path::root(database::SECTION).i(i);
        let shards = d.router.shards() as f64;
        add(p.k("price_per_shard_hour"), shards, d.price_per_shard_hour)?;
        // An absent replica price is the shard price: blame that field.
        let given = sc.databases[i].price_per_replica_hour.is_some();
        let field = if given {
            "price_per_replica_hour"
        } else {
            "price_per_shard_hour"
        };
        let count = shards * f64::from(d.replicas);
        add(p.k(field), count, d.price_per_replica_hour)?;
    }
    for (i, q) in m.queues.iter().enumerate() {
        let p = Path::root(queue::SECTION).i(i);
        let lines = [
            (
                "price_per_partition_hour",
                q.partitions,
                q.price_per_partition_hour,
            ),
            (
                "price_per_consumer_hour",
                q.consumers,
                q.price_per_consumer_hour,
            ),
            ("price_per_broker_hour", q.brokers, q.price_per_broker_hour),
        ];
        for (field, count, price) in lines {
            add(p.k(field), f64::from(count), price)?;
        }
    }
    Ok(())
}

/// Every priced component's line, in a fixed order (balancers, services,
/// caches, CDN edges, databases, queues): `billed(s)` is the mean number
/// of billed pods of service `s` over the run, `edge_rate(c)` the millions
/// of requests per hour CDN edge `c` served.
pub(super) fn price_list(
    m: &Model,
    billed: impl Fn(usize) -> f64,
    edge_rate: impl Fn(usize) -> f64,
) -> Vec<CostItem> {
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
    for (i, s) in m.services.iter().enumerate() {
        add(&s.name, "replica", billed(i), s.price_per_replica_hour);
    }
    for c in &m.caches {
        add(
            &c.name,
            "cache node",
            f64::from(c.nodes),
            c.price_per_node_hour,
        );
    }
    // Billed by use: millions of edge requests per hour of the measured
    // period.
    for (i, c) in m.cdns.iter().enumerate() {
        add(
            &c.name,
            "million requests",
            edge_rate(i),
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
    items
}

/// The sum of a price list's lines, per hour (`+ 0.0` writes an empty
/// list's sum as 0, not -0).
pub(super) fn per_hour(items: &[CostItem]) -> f64 {
    items.iter().map(|i| i.per_hour).sum::<f64>() + 0.0
}

impl Model {
    /// The cost per hour of every run of this model, known without
    /// running it: `None` when what is billed depends on the run — a
    /// priced service whose pod count moves (autoscaling, pod failures, a
    /// pod-killing fault) or a priced CDN edge (billed by requests).
    /// When `Some`, it equals the `cost.per_hour` of the results of every
    /// run, bit for bit (the same price list, summed in the same order).
    pub fn fixed_cost_per_hour(&self) -> Option<f64> {
        let moving = self.services.iter().any(|s| {
            s.price_per_replica_hour > 0.0
                && (s.autoscaling.is_some() || s.failures.is_some() || s.faulted)
        });
        let by_use = self.cdns.iter().any(|c| c.price_per_million_requests > 0.0);
        if moving || by_use {
            return None;
        }
        let items = price_list(self, |s| f64::from(self.services[s].replicas), |_| 0.0);
        Some(per_hour(&items))
    }
}
