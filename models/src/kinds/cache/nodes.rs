//! Cache nodes, their failures and slow-downs.
//!
//! When a failure or a fault can touch a cache, each key lives on one of
//! its `nodes`, by Redis Cluster's hash slots: slot = hash(value) mod
//! 16384, and the slots are dealt to the nodes in equal contiguous ranges.
//! A node that goes down (an outage, or a random failure: up for
//! Exp(`mtbf`), down for Exp(`mttr`)) loses its keys at once and comes back
//! empty, as a Redis without persistence restarts. While it is down, a
//! lookup of one of its keys fails after a miss round trip (connection
//! refused), counted in `errors`, and the application treats the error as a
//! miss: it runs `on_miss` (a fetch, coalesced as any miss), and the fill
//! is dropped if the node is still down. A slow-down multiplies the
//! latencies of lookups, fills and write-through stores that start during
//! it; the node keeps its keys. Capacity stays one pool for the whole
//! cache.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::Sink;
use super::{CacheDef, CacheState, Ev};
use crate::kernel::Cx;
use crate::kernel::cx::Event;
use crate::kernel::failures::{Health, exponential};
use crate::model::ids::CacheId;

/// Redis Cluster's number of hash slots.
const SLOTS: u64 = 16384;
/// Seed of the slot hash (xxh3-64), unlike the databases' (0), so a key's
/// cache node and its shard are independent.
const SLOT_SEED: u64 = 0x736c_6f74; // "slot"

/// The node health of cache `def`: one per node when random failures or
/// a scheduled fault can touch it, none otherwise (then keys are not
/// mapped to nodes at all). Failures draw from `cache/NAME/node/N/failures`.
pub fn node_health(def: &CacheDef, cx: &Cx<impl Event>) -> Vec<Health> {
    if def.failures.is_none() && !def.faulted {
        return Vec::new();
    }
    (0..def.nodes)
        .map(|n| {
            Health::new(
                def.failures
                    .map(|_| cx.stream(&format!("cache/{}/node/{n}/failures", def.name))),
            )
        })
        .collect()
}

/// The node that holds `value` (None when nodes are not tracked).
pub fn node_of(nodes: &[Health], value: u64) -> Option<usize> {
    match nodes.len() {
        0 => None,
        1 => Some(0),
        n => {
            let slot = xxh3_64_with_seed(&value.to_le_bytes(), SLOT_SEED) % SLOTS;
            Some((slot * n as u64 / SLOTS) as usize)
        }
    }
}

/// Whether `value`'s node is down, and its slow-down factor.
pub fn node_state(nodes: &[Health], value: u64) -> (bool, f64) {
    node_of(nodes, value).map_or((false, 1.0), |n| (nodes[n].is_down(), nodes[n].factor()))
}

impl CacheState {
    /// Schedules the first random failure of every node.
    pub fn schedule_failures(&mut self, c: CacheId, def: &CacheDef, cx: &mut Cx<impl Sink>) {
        if def.failures.is_some() {
            for n in 0..self.nodes.len() {
                self.schedule_node_failure(c, def, n, cx);
            }
        }
    }

    /// Draws the node's next failure (exponential, mean `mtbf`).
    fn schedule_node_failure(
        &mut self,
        c: CacheId,
        def: &CacheDef,
        n: usize,
        cx: &mut Cx<impl Sink>,
    ) {
        let Some((mtbf, _)) = def.failures else {
            return;
        };
        let h = &mut self.nodes[n];
        let dt = exponential(h.fail_rng.as_mut().expect("a failure stream"), mtbf);
        cx.after(
            dt,
            Ev::NodeDown {
                cache: c,
                node: n as u32,
            },
        );
    }

    /// A node fails at random: down for a repair time (exponential, mean
    /// `mttr`).
    pub fn node_failure(&mut self, c: CacheId, def: &CacheDef, n: usize, cx: &mut Cx<impl Sink>) {
        let (_, mttr) = def.failures.expect("random failures");
        let h = &mut self.nodes[n];
        let dt = exponential(h.fail_rng.as_mut().expect("a failure stream"), mttr);
        cx.after(
            dt,
            Ev::NodeUp {
                cache: c,
                node: n as u32,
            },
        );
        self.node_down(n, cx);
    }

    /// A randomly failed node is back; its next failure is drawn.
    pub fn node_repair(&mut self, c: CacheId, def: &CacheDef, n: usize, cx: &mut Cx<impl Sink>) {
        self.node_up(n, cx);
        self.schedule_node_failure(c, def, n, cx);
    }

    /// One more outage of node `n`: if it goes down now, its keys are lost.
    fn node_down(&mut self, n: usize, cx: &Cx<impl Sink>) {
        if !self.nodes[n].down(cx.now()) {
            return;
        }
        let nodes = &self.nodes;
        let lost = self.store.lose(|v| node_of(nodes, v) == Some(n));
        self.keys_lost += lost;
    }

    /// One outage of node `n` fewer: it serves again, empty, when none is
    /// left.
    fn node_up(&mut self, n: usize, cx: &Cx<impl Sink>) {
        self.nodes[n].up(cx.now());
    }

    /// Starts (or ends) an outage of one node or all.
    pub fn outage(&mut self, def: &CacheDef, node: Option<u32>, start: bool, cx: &Cx<impl Sink>) {
        let range = match node {
            Some(n) => n as usize..n as usize + 1,
            None => 0..def.nodes as usize,
        };
        for n in range {
            if start {
                self.node_down(n, cx);
            } else {
                self.node_up(n, cx);
            }
        }
    }

    /// Starts (or ends) a slow-down by `factor` of one node or all.
    pub fn slow_down(&mut self, node: Option<u32>, factor: f64, start: bool) {
        let nodes = &mut self.nodes;
        let range = match node {
            Some(n) => n as usize..n as usize + 1,
            None => 0..nodes.len(),
        };
        for h in &mut nodes[range] {
            h.slow.set(factor, start);
        }
    }
}
