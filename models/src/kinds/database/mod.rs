//! Databases: the `databases` section — shards, each a primary with read
//! replicas and a connection pool per node, routed by a sharding strategy.

pub mod pool;
pub mod replica;
pub mod result;
pub mod sharding;
pub mod sim;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::stats::{CountSeries, GaugeSeries};
use sim_core::{Dist, DistSpec, RngStream, SimTime};

use crate::kernel::Cx;
use crate::kernel::cx::Event;
use crate::kernel::failures::{Health, SlowDowns};
use crate::kernel::kind::{Finish, Kind, ratio};
use crate::model::ids::DbId;
use pool::Pool;
use replica::Replica;
use result::{DbResult, DbSeries, ReplicaResult, ShardResult};
pub use sim::Stmts;

use crate::kernel::resolve::{Path, Resolve};
use crate::model::KeyId;
use crate::model::vocab::Failures;
use crate::scenario::ScenarioError;
pub use sharding::Router;

/// The section's name in the file and in the results document.
pub const SECTION: &str = "databases";

/// A sharded database: `shards` primaries, each with a connection limit and
/// read/write service times; requests wait FIFO for a connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Name, unique among all components.
    pub name: String,
    /// Number of shards.
    pub shards: u32,
    /// The key that routes a request to a shard.
    pub shard_key: String,
    /// How a key value maps to a shard.
    #[serde(default)]
    pub strategy: ShardStrategy,
    /// For `range`: the `shards - 1` ascending split points; shard i holds
    /// values in `[b[i-1], b[i])`. Default: the key's value space split
    /// evenly (keys with a known size `n` only).
    #[serde(default)]
    pub range_boundaries: Option<Vec<u64>>,
    /// For `ring`: tokens per shard on the ring (Cassandra's vnodes,
    /// `num_tokens`). Default 256.
    #[serde(default)]
    pub virtual_nodes: Option<u32>,
    /// For `directory`: key value (an integer, written as a string) ->
    /// shard index, e.g. `{"1": 0, "2": 0, "3": 5}`.
    #[serde(default)]
    pub directory: Option<IndexMap<String, u32>>,
    /// For `directory`: where values missing from the directory go, a
    /// shard index or a strategy (`"hash"`, `"jump"`, `"ring"`,
    /// `"range"`). Default `"hash"`.
    #[serde(default)]
    pub directory_default: Option<DirectoryDefault>,
    /// Connections per shard: statements one shard executes at once.
    pub connections: u32,
    /// Service time of a read.
    pub read_time: DistSpec,
    /// Service time of a write.
    pub write_time: DistSpec,
    /// Price per shard per hour.
    #[serde(default)]
    pub price_per_shard_hour: f64,
    /// Read replicas per shard (default 0), each with `connections`
    /// connections of its own; writes always go to the primary.
    #[serde(default)]
    pub replicas: u32,
    /// Asynchronous replication: how long after a write commits on the
    /// primary it becomes visible on a replica, drawn per write and replica
    /// (default 0: at once).
    #[serde(default)]
    pub replication_lag: Option<DistSpec>,
    /// Which copies serve reads (default `primary`).
    #[serde(default)]
    pub read_from: ReadFrom,
    /// Price per read replica per hour (default: `price_per_shard_hour`).
    #[serde(default)]
    pub price_per_replica_hour: Option<f64>,
    /// Random failures of each shard's primary: down for the repair time,
    /// with no failover (`mttr` must be positive).
    #[serde(default)]
    pub failures: Option<Failures>,
}

/// Sharding strategies.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ShardStrategy {
    /// `hash(value) mod shards` (xxh3-64 of the value).
    #[default]
    Hash,
    /// Contiguous value ranges.
    Range,
    /// Consistent-hash ring with `virtual_nodes` tokens per shard.
    Ring,
    /// Jump consistent hash (Lamping & Veach).
    Jump,
    /// An explicit value -> shard table (`directory`).
    Directory,
}

/// Which copies of a shard serve reads.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReadFrom {
    /// The primary serves every read; replicas are standbys.
    #[default]
    Primary,
    /// Replicas serve every read, in turn.
    Replicas,
    /// The primary and the replicas serve reads in turn.
    RoundRobin,
}

/// Where a directory sends values it does not list: a shard index, or a
/// strategy over all shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "DirectoryDefaultText", into = "DirectoryDefaultText")]
pub enum DirectoryDefault {
    /// This shard.
    Shard(u32),
    /// This strategy (not `directory`).
    Strategy(ShardStrategy),
}

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum DirectoryDefaultText {
    Shard(u32),
    Name(String),
}

impl TryFrom<DirectoryDefaultText> for DirectoryDefault {
    type Error = String;
    fn try_from(t: DirectoryDefaultText) -> Result<Self, String> {
        match t {
            DirectoryDefaultText::Shard(s) => Ok(DirectoryDefault::Shard(s)),
            DirectoryDefaultText::Name(n) => match n.as_str() {
                "hash" => Ok(DirectoryDefault::Strategy(ShardStrategy::Hash)),
                "jump" => Ok(DirectoryDefault::Strategy(ShardStrategy::Jump)),
                "ring" => Ok(DirectoryDefault::Strategy(ShardStrategy::Ring)),
                "range" => Ok(DirectoryDefault::Strategy(ShardStrategy::Range)),
                _ => Err(format!(
                    "`{n}` is not a shard index or a strategy: write a shard index (e.g. 0) or one of \"hash\", \"jump\", \"ring\", \"range\""
                )),
            },
        }
    }
}

impl From<DirectoryDefault> for DirectoryDefaultText {
    fn from(d: DirectoryDefault) -> Self {
        match d {
            DirectoryDefault::Shard(s) => DirectoryDefaultText::Shard(s),
            DirectoryDefault::Strategy(s) => DirectoryDefaultText::Name(
                match s {
                    ShardStrategy::Hash => "hash",
                    ShardStrategy::Range => "range",
                    ShardStrategy::Ring => "ring",
                    ShardStrategy::Jump => "jump",
                    ShardStrategy::Directory => "directory",
                }
                .to_string(),
            ),
        }
    }
}

/// A resolved database.
#[derive(Debug, Clone)]
pub struct DbDef {
    /// Name.
    pub name: String,
    /// Default routing key.
    pub shard_key: KeyId,
    /// Value -> shard.
    pub router: Router,
    /// Connections per shard.
    pub connections: u32,
    /// Read service time.
    pub read: Dist,
    /// Write service time.
    pub write: Dist,
    /// Price per shard-hour.
    pub price_per_shard_hour: f64,
    /// Read replicas per shard, each with `connections` connections.
    pub replicas: u32,
    /// Time a committed write takes to become visible on a replica, drawn
    /// per write and replica (None: at once).
    pub replication_lag: Option<Dist>,
    /// Which copies serve reads.
    pub read_from: ReadFrom,
    /// Price per replica-hour.
    pub price_per_replica_hour: f64,
    /// Random failures of each shard's primary: (mean ns between
    /// failures, mean ns to repair).
    pub failures: Option<(f64, f64)>,
}

/// Most read replicas per shard.
pub const MAX_REPLICAS: u32 = 64;

/// Checks database `spec` (at `p`) and resolves it.
pub fn resolve(spec: &Database, p: &Path, cx: &Resolve<'_>) -> Result<DbDef, ScenarioError> {
    let d = spec;
    if d.shards == 0 {
        return Err(cx.err(&p.k("shards"), "a database needs at least 1 shard"));
    }
    if d.connections == 0 {
        return Err(cx.err(&p.k("connections"), "a shard needs at least 1 connection"));
    }
    let shard_key = cx.key(&p.k("shard_key"), &d.shard_key)?;
    let router = sharding::resolve(cx, p, d)?;
    if d.replicas > MAX_REPLICAS {
        return Err(cx.err(
            &p.k("replicas"),
            format!(
                "at most {MAX_REPLICAS} read replicas per shard are simulated, got {}",
                d.replicas
            ),
        ));
    }
    if d.read_from == ReadFrom::Replicas && d.replicas == 0 {
        return Err(cx.err(
            &p.k("read_from"),
            "read_from \"replicas\" needs replicas >= 1 (there is no replica to read from)",
        ));
    }
    Ok(DbDef {
        name: d.name.clone(),
        shard_key,
        router,
        connections: d.connections,
        read: cx.dist(&p.k("read_time"), &d.read_time)?,
        write: cx.dist(&p.k("write_time"), &d.write_time)?,
        price_per_shard_hour: cx.price(&p.k("price_per_shard_hour"), d.price_per_shard_hour)?,
        replicas: d.replicas,
        replication_lag: cx.dist_opt(&p.k("replication_lag"), d.replication_lag.as_ref())?,
        read_from: d.read_from,
        price_per_replica_hour: match d.price_per_replica_hour {
            Some(v) => cx.price(&p.k("price_per_replica_hour"), v)?,
            None => d.price_per_shard_hour,
        },
        failures: cx.failures(&p.k("failures"), d.failures)?,
    })
}

/// A database's own events.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// A statement finished (an id into [`Stmts`]).
    Done(u32),
    /// A shard's primary fails at random.
    ShardDown {
        /// The database.
        db: DbId,
        /// The shard.
        shard: u32,
    },
    /// A randomly failed shard primary is repaired.
    ShardUp {
        /// The database.
        db: DbId,
        /// The shard.
        shard: u32,
    },
}

/// The world's events, as this kind schedules its own ([`Ev`]) and resumes
/// jobs.
pub trait Sink: Event + From<Ev> {}

impl<E: Event + From<Ev>> Sink for E {}

/// A database shard: the primary's pool, and its read replicas.
#[derive(Clone)]
pub struct Shard {
    /// The primary's connection pool.
    pub primary: Pool,
    /// Reads routed to the shard (primary and replicas, scatter included).
    pub reads: u64,
    /// Writes routed to the shard.
    pub writes: u64,
    /// Reads served by replicas.
    pub replica_reads: u64,
    /// Reads that were stale.
    pub stale_reads: u64,
    /// Next node to read from (`read_from` replicas or round robin).
    pub rr: u32,
    /// The primary's read service times.
    pub read_rng: RngStream,
    /// The primary's write service times.
    pub write_rng: RngStream,
    /// The primary's busy fraction over time.
    pub util_series: GaugeSeries,
    /// Statements routed here per bucket.
    pub ops_series: CountSeries,
    /// Its read replicas.
    pub replicas: Vec<Replica>,
    /// The primary's failures and slow-downs.
    pub health: Health,
    /// Slow-down factors in effect on the replicas.
    pub replica_slow: SlowDowns,
    /// Statements that failed: sent while the primary was down, or
    /// waiting or running on it when it went down.
    pub failed: u64,
}

/// A database's state: its shards.
#[derive(Clone)]
pub struct DbState {
    /// Its shards.
    pub shards: Vec<Shard>,
}

impl DbState {
    /// The database's time series: per shard, the primary's utilisation
    /// and the statements routed to it per second.
    pub fn series(&self, def: &DbDef, fin: &Finish<'_>) -> DbSeries {
        let (util, ops): (Vec<_>, Vec<_>) = self
            .shards
            .iter()
            .map(|s| {
                (
                    s.util_series.finish(fin.end()),
                    fin.per_sec(s.ops_series.values()),
                )
            })
            .unzip();
        DbSeries {
            name: def.name.clone(),
            shard_utilisation: util,
            shard_ops_rps: ops,
        }
    }
}

impl Kind for DbState {
    type Def = DbDef;
    type Result = DbResult;

    /// Idle shards; shard I's streams are `db/NAME/shard/I/read`, `/write`,
    /// `/failures`, its replica R's `db/NAME/shard/I/replica/R/read`, `/lag`.
    fn start<E: Event>(def: &DbDef, cx: &Cx<E>) -> Self {
        let d = def;
        let rng = |name: String| cx.stream(&name);
        DbState {
            shards: (0..d.router.shards())
                .map(|i| Shard {
                    primary: Pool::new(),
                    reads: 0,
                    writes: 0,
                    replica_reads: 0,
                    stale_reads: 0,
                    rr: 0,
                    read_rng: rng(format!("db/{}/shard/{i}/read", d.name)),
                    write_rng: rng(format!("db/{}/shard/{i}/write", d.name)),
                    util_series: GaugeSeries::new(cx.spec),
                    ops_series: CountSeries::new(cx.spec),
                    replicas: (0..d.replicas)
                        .map(|r| Replica {
                            pool: Pool::new(),
                            reads: 0,
                            stale_reads: 0,
                            read_rng: rng(format!("db/{}/shard/{i}/replica/{r}/read", d.name)),
                            lag_rng: rng(format!("db/{}/shard/{i}/replica/{r}/lag", d.name)),
                            pending: Default::default(),
                            backlog: Default::default(),
                            lag_hist: Default::default(),
                        })
                        .collect(),
                    health: Health::new(
                        d.failures
                            .map(|_| rng(format!("db/{}/shard/{i}/failures", d.name))),
                    ),
                    replica_slow: SlowDowns::default(),
                    failed: 0,
                })
                .collect(),
        }
    }

    fn reset(&mut self, now: SimTime) {
        self.reset_nodes(now);
    }

    fn finish(&self, def: &DbDef, fin: &Finish<'_>, _warnings: &mut Vec<String>) -> DbResult {
        let (d, end) = (self, fin.end());
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
                wait_mean_ms: s.primary.wait_mean_ms(),
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
                        wait_mean_ms: rep.pool.wait_mean_ms(),
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
            shards
                .iter()
                .map(|s| s.reads + s.writes)
                .enumerate()
                .fold(
                    (0, 0),
                    |best, (i, o)| if o > best.1 { (i, o) } else { best },
                );
        let mean = ops as f64 / shards.len() as f64;
        // Per time-series bucket after the warm-up: busiest shard /
        // mean shard, averaged with the bucket's statements as
        // weights. Shards that are hot in turn (range on time)
        // average out over the run but not here.
        let first_bucket = (fin.period.warmup.0 / fin.spec.interval.0) as usize;
        let (mut num, mut den) = (0.0, 0.0);
        for b in first_bucket..fin.spec.buckets {
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
            shard_key: fin.keys[def.shard_key].clone(),
            ops,
            hot_spot_index: if ops == 0 { 0.0 } else { max_ops as f64 / mean },
            hot_spot_index_by_interval: if den > 0.0 { num / den } else { 0.0 },
            hottest_shard: hottest,
            max_utilisation: shards
                .iter()
                .flat_map(|s| {
                    std::iter::once(s.utilisation).chain(s.replicas.iter().map(|r| r.utilisation))
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
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{accepted, assert_refused, base, changed, merged};

    /// What a database refuses: no shard or connection, a shard key no
    /// workload draws, too many replicas or reads from replicas there are
    /// not, bad service times, lag, prices and failures. (Strategies:
    /// `sharding`; scatter steps: `system::program`.)
    #[test]
    fn refusals() {
        let b = base();
        let db = |fields: Value| merged(&b["databases"][0], fields);
        let bad_dist = || json!({ "uniform": { "min": "2ms", "max": "1ms" } });
        assert_refused(
            &b,
            vec![
                (
                    "/databases/0/shards",
                    json!(0),
                    "databases[0].shards: a database needs at least 1 shard",
                ),
                (
                    "/databases/0/connections",
                    json!(0),
                    "databases[0].connections: a shard needs at least 1 connection",
                ),
                (
                    "/databases/0/shard_key",
                    json!("usr"),
                    "databases[0].shard_key: no key drawn by any workload named `usr` (known: user_id, item_id)",
                ),
                (
                    "/databases/0/replicas",
                    json!(65),
                    "databases[0].replicas: at most 64 read replicas per shard are simulated, got 65",
                ),
                (
                    "/databases/0/read_from",
                    json!("replicas"),
                    "databases[0].read_from: read_from \"replicas\" needs replicas >= 1 (there is no replica to read from)",
                ),
                (
                    "/databases/0/read_from",
                    json!("replica"),
                    "databases[0].read_from: unknown variant `replica`",
                ),
                (
                    "/databases/0/read_time",
                    bad_dist(),
                    "databases[0].read_time: uniform: min (2ms) must not exceed max (1ms)",
                ),
                (
                    "/databases/0/write_time",
                    bad_dist(),
                    "databases[0].write_time: uniform: min (2ms)",
                ),
                (
                    "/databases/0",
                    db(json!({ "replicas": 1, "replication_lag": bad_dist() })),
                    "databases[0].replication_lag: uniform: min (2ms)",
                ),
                (
                    "/databases/0/price_per_shard_hour",
                    json!(-1),
                    "databases[0].price_per_shard_hour: a price must be a finite number >= 0, got -1",
                ),
                (
                    "/databases/0",
                    db(json!({ "replicas": 1, "price_per_replica_hour": -1.0 })),
                    "databases[0].price_per_replica_hour: a price must be a finite number >= 0, got -1",
                ),
                (
                    "/databases/0/failures",
                    json!({ "mtbf": "0s", "mttr": "1m" }),
                    "databases[0].failures.mtbf: must be positive",
                ),
                (
                    "/databases/0/failures",
                    json!({ "mtbf": "1h" }),
                    "databases[0].failures.mttr: must be positive: a failed node is down until it is repaired",
                ),
            ],
        );
    }

    /// Replicas read in turn with a lag, and failures, load.
    #[test]
    fn replicas_and_failures_load() {
        let b = base();
        let db = merged(
            &b["databases"][0],
            json!({ "replicas": 2, "read_from": "round_robin",
                    "replication_lag": { "lognormal": { "median": "20ms", "p99": "500ms" } },
                    "failures": { "mtbf": "30d", "mttr": "20m" } }),
        );
        accepted(&changed(&b, &[("/databases/0", db)]));
    }
}
