//! What a model's components cost per hour: one price list, used by the
//! results document of a run and by the planner, which needs a variant's
//! cost before running it.

use super::model::Model;
use crate::doc::results::CostItem;

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
