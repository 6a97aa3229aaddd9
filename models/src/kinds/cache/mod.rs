//! Caches: the `caches` section — a Redis/Memcached-like store of keys
//! read cache-aside, with TTLs, write invalidation or write-through,
//! request coalescing (`sim.rs`), nodes and their failures (`nodes.rs`).

pub mod nodes;
pub mod result;
pub mod sim;

use serde::{Deserialize, Serialize};
use sim_core::stats::CountSeries;
use sim_core::{Dist, DistSpec, RngStream, SimDuration, SimTime};

use crate::kernel::Cx;
use crate::kernel::cx::Event;
use crate::kernel::failures::Health;
use crate::kernel::kind::{Finish, Kind, ratio};
use crate::kernel::resolve::{Path, Resolve};
use crate::kernel::store::{EvictionPolicy, MAX_CACHE_KEYS, Store};
use crate::model::ids::{CacheId, JobId};
use crate::model::vocab::Failures;
use crate::scenario::ScenarioError;
use result::{CacheResult, CacheSeries};
use sim::Fetches;

/// The section's name in the file and in the results document.
pub const SECTION: &str = "caches";

/// A key-value cache (Redis/Memcached-like) holding up to `capacity` keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// Name, unique among all components.
    pub name: String,
    /// Keys held across all nodes; beyond it the policy evicts one.
    pub capacity: u64,
    /// Eviction policy.
    #[serde(default)]
    pub policy: EvictionPolicy,
    /// Entries expire this long after they were stored (or, with
    /// `ttl_mode: access`, last read). Absent: never.
    #[serde(default)]
    pub ttl: Option<SimDuration>,
    /// When the TTL starts: at the store (default) or at every hit.
    #[serde(default)]
    pub ttl_mode: TtlMode,
    /// What a `write` that lists this cache in `invalidate` does to the
    /// written key: delete it (default) or store the new value.
    #[serde(default)]
    pub write_policy: WritePolicy,
    /// Request coalescing: a miss on a key that another request is already
    /// fetching waits for that fetch instead of running `on_miss` itself.
    #[serde(default)]
    pub coalesce: bool,
    /// With `coalesce`: the longest a miss waits for another request's
    /// fetch before fetching itself (default 5s, nginx's
    /// `proxy_cache_lock_timeout`).
    #[serde(default)]
    pub lock_timeout: Option<SimDuration>,
    /// Round trip of a lookup that hits.
    pub hit_latency: DistSpec,
    /// Round trip of a lookup that misses (default: as a hit).
    #[serde(default)]
    pub miss_latency: Option<DistSpec>,
    /// Round trip of the store after a miss (default 0: fire and forget).
    #[serde(default)]
    pub fill_latency: Option<DistSpec>,
    /// Number of nodes: for cost, and for failures (a key lives on one
    /// node, by hash slot).
    #[serde(default = "one")]
    pub nodes: u32,
    /// Price per node per hour.
    #[serde(default)]
    pub price_per_node_hour: f64,
    /// Random failures of each node: a failed node loses its keys and
    /// comes back empty (`mttr` must be positive).
    #[serde(default)]
    pub failures: Option<Failures>,
}

fn one() -> u32 {
    1
}

/// When a cache entry's time to live starts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TtlMode {
    /// At the store: hits do not extend it (Redis `SET key value EX ttl`).
    #[default]
    Insert,
    /// At every hit as well: a sliding expiry (Memcached `touch`,
    /// Caffeine `expireAfterAccess`).
    Access,
}

/// What a write does to the caches it lists in `invalidate`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WritePolicy {
    /// Delete the written key: the next read misses and fills.
    #[default]
    Invalidate,
    /// Store the written value: the next read hits. The write waits for
    /// the store (`fill_latency`).
    WriteThrough,
}

/// A resolved cache.
#[derive(Debug, Clone)]
pub struct CacheDef {
    /// Name.
    pub name: String,
    /// Capacity in keys.
    pub capacity: u64,
    /// Eviction policy.
    pub policy: EvictionPolicy,
    /// Time to live.
    pub ttl: Option<SimDuration>,
    /// When the time to live starts.
    pub ttl_mode: TtlMode,
    /// What writes listing the cache do.
    pub write_policy: WritePolicy,
    /// Concurrent misses of a key wait for the first one's fetch, at most
    /// this long (None: no coalescing).
    pub coalesce: Option<SimDuration>,
    /// Hit round trip.
    pub hit: Dist,
    /// Miss round trip.
    pub miss: Dist,
    /// Fill round trip (None: zero); also a write-through's store.
    pub fill: Option<Dist>,
    /// Nodes.
    pub nodes: u32,
    /// Price per node-hour.
    pub price_per_node_hour: f64,
    /// Random node failures: (mean ns between failures, mean ns to repair).
    pub failures: Option<(f64, f64)>,
    /// A scheduled fault slows it down or takes nodes down (then keys are
    /// mapped to nodes).
    pub faulted: bool,
}

/// Default longest wait of a coalesced cache miss (nginx's
/// `proxy_cache_lock_timeout`).
pub const DEFAULT_LOCK_TIMEOUT: SimDuration = SimDuration(5_000_000_000);

/// Checks cache `spec` (at `p`) and resolves it.
pub fn resolve(spec: &Cache, p: &Path, cx: &Resolve<'_>) -> Result<CacheDef, ScenarioError> {
    let c = spec;
    if c.capacity == 0 {
        return Err(cx.err(
            &p.k("capacity"),
            "a cache needs a capacity of at least 1 key",
        ));
    }
    if c.capacity > MAX_CACHE_KEYS {
        return Err(cx.err(
            &p.k("capacity"),
            format!("at most {MAX_CACHE_KEYS} keys per cache are simulated (memory is per key)"),
        ));
    }
    if c.nodes == 0 {
        return Err(cx.err(&p.k("nodes"), "a cache needs at least 1 node"));
    }
    if c.ttl == Some(SimDuration::ZERO) {
        return Err(cx.err(
            &p.k("ttl"),
            "a TTL must be positive (omit it for no expiry)",
        ));
    }
    if c.ttl_mode == TtlMode::Access && c.ttl.is_none() {
        return Err(cx.err(
            &p.k("ttl_mode"),
            "ttl_mode \"access\" needs a ttl: without one entries never expire",
        ));
    }
    let coalesce = match (c.coalesce, c.lock_timeout) {
        (false, Some(_)) => {
            return Err(cx.err(
                &p.k("lock_timeout"),
                "lock_timeout applies with \"coalesce\": true only",
            ));
        }
        (_, Some(SimDuration::ZERO)) => {
            return Err(cx.err(
                &p.k("lock_timeout"),
                "a lock_timeout must be positive (without coalescing, set coalesce to false)",
            ));
        }
        (false, None) => None,
        (true, t) => Some(t.unwrap_or(DEFAULT_LOCK_TIMEOUT)),
    };
    let hit = cx.dist(&p.k("hit_latency"), &c.hit_latency)?;
    Ok(CacheDef {
        name: c.name.clone(),
        capacity: c.capacity,
        policy: c.policy,
        ttl: c.ttl,
        ttl_mode: c.ttl_mode,
        write_policy: c.write_policy,
        coalesce,
        miss: match &c.miss_latency {
            Some(d) => cx.dist(&p.k("miss_latency"), d)?,
            None => hit.clone(),
        },
        hit,
        fill: cx.dist_opt(&p.k("fill_latency"), c.fill_latency.as_ref())?,
        nodes: c.nodes,
        price_per_node_hour: cx.price(&p.k("price_per_node_hour"), c.price_per_node_hour)?,
        failures: cx.failures(&p.k("failures"), c.failures)?,
        faulted: false,
    })
}

/// A cache's own events.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// A coalesced miss has waited its longest.
    LockTimeout(JobId),
    /// A node fails at random.
    NodeDown {
        /// The cache.
        cache: CacheId,
        /// The node.
        node: u32,
    },
    /// A randomly failed node is back, empty.
    NodeUp {
        /// The cache.
        cache: CacheId,
        /// The node.
        node: u32,
    },
}

/// The world's events, as this kind schedules its own ([`Ev`]) and resumes
/// jobs.
pub trait Sink: Event + From<Ev> {}

impl<E: Event + From<Ev>> Sink for E {}

/// A cache's state: its store, the fetches in flight and its nodes.
#[derive(Clone)]
pub struct CacheState {
    store: Store,
    hits: u64,
    misses: u64,
    hit_rng: RngStream,
    miss_rng: RngStream,
    fill_rng: RngStream,
    hits_series: CountSeries,
    lookups_series: CountSeries,
    /// Store counters at the warm-up instant (results report the difference).
    base: (u64, u64, u64),
    /// Keys being fetched, coalescing and stampede counters.
    fetches: Fetches,
    /// Draws of write-through stores.
    write_rng: RngStream,
    /// Per node, failures and slow-downs; empty when no failure or fault
    /// can touch the cache (then keys are not mapped to nodes).
    nodes: Vec<Health>,
    /// Lookups that failed because their key's node was down.
    errors: u64,
    /// Keys lost when their node went down.
    keys_lost: u64,
}

impl CacheState {
    /// The cache's time series: its hit ratio per bucket.
    pub fn series(&self, def: &CacheDef) -> CacheSeries {
        CacheSeries {
            name: def.name.clone(),
            hit_ratio: self
                .hits_series
                .values()
                .iter()
                .zip(self.lookups_series.values())
                .map(|(h, l)| if *l > 0.0 { h / l } else { 0.0 })
                .collect(),
        }
    }
}

impl Kind for CacheState {
    type Def = CacheDef;
    type Result = CacheResult;

    /// An empty cache; its streams are `cache/NAME/hit`, `/miss`, `/fill`,
    /// `/write` and its nodes' `cache/NAME/node/N/failures`.
    fn start<E: Event>(def: &CacheDef, cx: &Cx<E>) -> Self {
        let rng = |s: &str| cx.stream(&format!("cache/{}/{s}", def.name));
        CacheState {
            store: Store::new(def.policy, def.capacity),
            hits: 0,
            misses: 0,
            hit_rng: rng("hit"),
            miss_rng: rng("miss"),
            fill_rng: rng("fill"),
            hits_series: CountSeries::new(cx.spec),
            lookups_series: CountSeries::new(cx.spec),
            base: (0, 0, 0),
            fetches: Default::default(),
            write_rng: rng("write"),
            nodes: nodes::node_health(def, cx),
            errors: 0,
            keys_lost: 0,
        }
    }

    fn reset(&mut self, now: SimTime) {
        self.hits = 0;
        self.misses = 0;
        self.base = self.store.counters();
        self.fetches.restart();
        self.errors = 0;
        self.keys_lost = 0;
        for n in &mut self.nodes {
            n.reset(now);
        }
    }

    fn finish(&self, def: &CacheDef, fin: &Finish<'_>, _warnings: &mut Vec<String>) -> CacheResult {
        let (c, end) = (self, fin.end());
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
            policy: def.policy.name().to_string(),
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
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{assert_refused, base, merged};

    /// What a cache refuses: no capacity or more than is simulated, no
    /// node, a zero or missing TTL where one is needed, a lock timeout
    /// without coalescing or of zero, bad latencies, price and failures,
    /// an unknown policy.
    #[test]
    fn refusals() {
        let b = base();
        let cache = |fields: Value| merged(&b["caches"][0], fields);
        let bad_dist = json!({ "uniform": { "min": "2ms", "max": "1ms" } });
        assert_refused(
            &b,
            vec![
                (
                    "/caches/0/capacity",
                    json!(0),
                    "caches[0].capacity: a cache needs a capacity of at least 1 key",
                ),
                (
                    "/caches/0/capacity",
                    json!(50_000_001),
                    "caches[0].capacity: at most 50000000 keys per cache are simulated (memory is per key)",
                ),
                (
                    "/caches/0/nodes",
                    json!(0),
                    "caches[0].nodes: a cache needs at least 1 node",
                ),
                (
                    "/caches/0/ttl",
                    json!("0s"),
                    "caches[0].ttl: a TTL must be positive (omit it for no expiry)",
                ),
                (
                    "/caches/0/ttl_mode",
                    json!("access"),
                    "caches[0].ttl_mode: ttl_mode \"access\" needs a ttl: without one entries never expire",
                ),
                (
                    "/caches/0/lock_timeout",
                    json!("1s"),
                    "caches[0].lock_timeout: lock_timeout applies with \"coalesce\": true only",
                ),
                (
                    "/caches/0",
                    cache(json!({ "coalesce": true, "lock_timeout": "0s" })),
                    "caches[0].lock_timeout: a lock_timeout must be positive (without coalescing, set coalesce to false)",
                ),
                (
                    "/caches/0/hit_latency",
                    bad_dist.clone(),
                    "caches[0].hit_latency: uniform: min (2ms) must not exceed max (1ms)",
                ),
                (
                    "/caches/0/miss_latency",
                    bad_dist.clone(),
                    "caches[0].miss_latency: uniform: min (2ms) must not exceed max (1ms)",
                ),
                (
                    "/caches/0/fill_latency",
                    bad_dist,
                    "caches[0].fill_latency: uniform: min (2ms) must not exceed max (1ms)",
                ),
                (
                    "/caches/0/price_per_node_hour",
                    json!(-1),
                    "caches[0].price_per_node_hour: a price must be a finite number >= 0, got -1",
                ),
                (
                    "/caches/0/failures",
                    json!({ "mtbf": "0s", "mttr": "1m" }),
                    "caches[0].failures.mtbf: must be positive",
                ),
                (
                    "/caches/0/failures",
                    json!({ "mtbf": "1h" }),
                    "caches[0].failures.mttr: must be positive: a failed node is down until it is repaired, e.g. \"mttr\": \"5m\"",
                ),
                (
                    "/caches/0/policy",
                    json!("lfru"),
                    "caches[0].policy: unknown variant `lfru`",
                ),
            ],
        );
    }
}
