//! The `faults` section resolved: component names turned into indices.

use sim_core::SimDuration;

use super::scenario::Scenario;
use crate::kernel::resolve::{Path, Resolve};
use crate::kinds::{cache, database, queue, service};
use crate::model::faults::{DbRole, FaultDef, FaultTarget};
use crate::model::ids::{CacheId, DbId, QueueId, ServiceId};
use crate::scenario::ScenarioError;

/// Resolves the scheduled faults.
pub fn resolve(
    cx: &Resolve<'_>,
    sc: &Scenario,
    duration: SimDuration,
) -> Result<Vec<FaultDef>, ScenarioError> {
    let mut out = Vec::new();
    for (i, f) in sc.faults.iter().enumerate() {
        let p = Path::root("faults").i(i);
        if f.at >= duration {
            return Err(cx.err(
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
            return Err(cx.err(
                &p.k(second),
                format!("a fault does one thing, and this one has `{first}` and `{second}`: write two faults with the same `at`"),
            ));
        }
        let window = |what: &str| match f.length {
            None => Err(cx.err(
                &p,
                format!("{what} lasts for a window: set `for`, e.g. \"for\": \"30s\""),
            )),
            Some(SimDuration::ZERO) => Err(cx.err(&p.k("for"), "must be positive")),
            Some(d) => Ok(d.0),
        };
        if let Some(sd) = &f.slow_down {
            let sp = p.k("slow_down");
            let length = window("a slow-down")?;
            let target = fault_target(
                cx,
                &sp,
                sc,
                (sd.database.as_deref(), sd.cache.as_deref()),
                (sd.shard, sd.node, sd.role),
                "slow down",
            )?;
            if !(sd.factor.is_finite() && sd.factor >= 1.0) {
                return Err(cx.err(
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
                cx,
                &op,
                sc,
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
            let queue = cx.index_in(&pp.k("queue"), &pc.queue, queue::SECTION, "queue")?;
            let consumers = sc.queues[queue].consumers;
            if pc.count == 0 || pc.count > consumers {
                return Err(cx.err(
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
                queue: QueueId::new(queue),
                count: pc.count,
            });
            continue;
        }
        match &f.kill_pods {
            Some(k) => {
                let kp = p.k("kill_pods");
                let service =
                    cx.index_in(&kp.k("service"), &k.service, service::SECTION, "service")?;
                if k.count == 0 {
                    return Err(cx.err(&kp.k("count"), "must be at least 1"));
                }
                if f.length.is_some() {
                    return Err(cx.err(
                        &p.k("for"),
                        "killed pods restart on their own (the service's restart_delay and startup_time); `for` applies to slow-downs and outages",
                    ));
                }
                out.push(FaultDef::KillPods {
                    at: f.at.0,
                    service: ServiceId::new(service),
                    count: k.count,
                });
            }
            None => {
                return Err(cx.err(&p, "a fault needs an action, e.g. \"kill_pods\": {\"service\": \"app\", \"count\": 2}"));
            }
        }
    }
    Ok(out)
}

/// Resolves the target of a slow-down or an outage at `p`: a database
/// (optionally one shard, and for slow-downs the nodes' `role`) or a cache
/// (optionally one node). `verb` says what the fault does, for messages.
fn fault_target(
    cx: &Resolve<'_>,
    p: &Path,
    sc: &Scenario,
    (database, cache): (Option<&str>, Option<&str>),
    (shard, node, role): (Option<u32>, Option<u32>, Option<DbRole>),
    verb: &str,
) -> Result<FaultTarget, ScenarioError> {
    match (database, cache) {
        (Some(_), Some(_)) => Err(cx.err(
            &p.k("cache"),
            "name one target, `database` or `cache`, not both: write two faults",
        )),
        (None, None) => Err(cx.err(p, format!("name the `database` or the `cache` to {verb}"))),
        (Some(name), None) => {
            let db = cx.index_in(&p.k("database"), name, database::SECTION, "database")?;
            let d = &sc.databases[db];
            if node.is_some() {
                return Err(cx.err(
                    &p.k("node"),
                    "`node` applies to a cache; for a database name a `shard`",
                ));
            }
            if let Some(s) = shard
                && s >= d.shards
            {
                return Err(cx.err(
                    &p.k("shard"),
                    format!(
                        "database `{name}` has {} shards (0 to {}), so there is no shard {s}",
                        d.shards,
                        d.shards - 1
                    ),
                ));
            }
            if role == Some(DbRole::Replicas) && d.replicas == 0 {
                return Err(cx.err(
                    &p.k("role"),
                    format!("database `{name}` has no read replicas"),
                ));
            }
            Ok(FaultTarget::Db {
                db: DbId::new(db),
                shard,
                role: role.unwrap_or_default(),
            })
        }
        (None, Some(name)) => {
            let cache = cx.index_in(&p.k("cache"), name, cache::SECTION, "cache")?;
            let c = &sc.caches[cache];
            if shard.is_some() {
                return Err(cx.err(
                    &p.k("shard"),
                    "`shard` applies to a database; for a cache name a `node`",
                ));
            }
            if role.is_some() {
                return Err(cx.err(&p.k("role"), "`role` applies to a database"));
            }
            if let Some(n) = node
                && n >= c.nodes
            {
                return Err(cx.err(
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
                cache: CacheId::new(cache),
                node,
            })
        }
    }
}
