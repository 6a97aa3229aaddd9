//! Databases: the `databases` section — shards, each a primary with read
//! replicas and a connection pool per node, routed by a sharding strategy.

pub mod sharding;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::{Dist, DistSpec};

use crate::kernel::resolve::{Path, Resolve};
use crate::model::KeyId;
use crate::model::vocab::Failures;
use crate::scenario::ScenarioError;
pub use sharding::Router;

/// The section's name in the file and in the results document.
pub const SECTION: &str = "databases";

/// A sharded database: `shards` primaries, each with a connection limit and
/// read/write service times; requests wait FIFO for a connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DirectoryDefaultText", into = "DirectoryDefaultText")]
pub enum DirectoryDefault {
    /// This shard.
    Shard(u32),
    /// This strategy (not `directory`).
    Strategy(ShardStrategy),
}

#[derive(Serialize, Deserialize)]
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
