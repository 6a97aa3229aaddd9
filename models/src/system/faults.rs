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
                    match consumers {
                        0 => format!("queue `{}` has no consumers to cut off", pc.queue),
                        1 => format!(
                            "queue `{}` has 1 consumer: cut it off with a count of 1, got {}",
                            pc.queue, pc.count
                        ),
                        _ => format!(
                            "queue `{}` has {consumers} consumers: cut off 1 to {consumers}, got {}",
                            pc.queue, pc.count
                        ),
                    },
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{accepted, base, changed, error};

    /// The base with a database `orders` of 6 shards, a cache `sessions`
    /// of 2 nodes and 4 consumers on queue `q`.
    fn targets() -> Value {
        changed(
            &base(),
            &[
                (
                    "/databases/1",
                    json!({ "name": "orders", "shards": 6, "shard_key": "user_id", "connections": 4,
                            "read_time": "1ms", "write_time": "1ms" }),
                ),
                (
                    "/caches/1",
                    json!({ "name": "sessions", "capacity": 10, "nodes": 2, "hit_latency": "1ms" }),
                ),
                ("/queues/0/consumers", json!(4)),
            ],
        )
    }

    /// `LINE:COLUMN` of the first `needle` after the first `anchor`.
    fn position(text: &str, anchor: &str, needle: &str) -> String {
        let from = text.find(anchor).expect(anchor);
        let before = &text[..from + text[from..].find(needle).expect(needle)];
        let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
            .chars()
            .count();
        format!("{}:{}", before.matches('\n').count() + 1, column + 1)
    }

    /// What a fault refuses, each error located at the offending value
    /// (or object), with a suggestion for a misspelt name and no other:
    /// a start after the end, no action or two, a slow-down, outage or
    /// partition without a window, targets that do not exist or mix a
    /// database's shards and roles with a cache's nodes, factors below 1,
    /// pods to kill that are no pods, consumers to cut off that are not
    /// there.
    #[test]
    fn refusals() {
        let b = targets();
        let top = ("\"faults\":", "{");
        // A fault, where its error points (a field and its value), the
        // message, and the suggestion if any.
        type Case<'a> = (Value, (&'a str, &'a str), &'a str, Option<&'a str>);
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            (json!({ "at": "30s", "kill_pods": { "service": "app", "count": 1 } }), ("\"at\":", "\"30s\""),
             "faults[0].at: the fault starts at 30s but the run lasts 20s", None),
            (json!({ "at": "10s" }), top,
             "faults[0]: a fault needs an action, e.g. \"kill_pods\": {\"service\": \"app\", \"count\": 2}", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "database": "orders" },
                     "kill_pods": { "service": "app", "count": 1 } }), ("\"outage\"", "{"),
             "faults[0].outage: a fault does one thing, and this one has `kill_pods` and `outage`: write two faults with the same `at`", None),
            (json!({ "at": "10s", "slow_down": { "database": "orders", "factor": 2 } }), top,
             "faults[0]: a slow-down lasts for a window: set `for`, e.g. \"for\": \"30s\"", None),
            (json!({ "at": "10s", "outage": { "cache": "sessions" } }), top,
             "faults[0]: an outage lasts for a window: set `for`", None),
            (json!({ "at": "0s", "partition_consumers": { "queue": "q", "count": 1 } }), top,
             "faults[0]: a network partition lasts for a window: set `for`", None),
            (json!({ "at": "10s", "for": "0s", "outage": { "cache": "sessions" } }), ("\"faults\":", "\"0s\""),
             "faults[0].for: must be positive", None),
            (json!({ "at": "10s", "for": "5s", "slow_down": { "database": "orders", "factor": 0.5 } }), ("\"factor\"", "0.5"),
             "faults[0].slow_down.factor: a slow-down factor must be a finite number >= 1 (1: no change; service times are multiplied by it), got 0.5", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "database": "orders", "shard": 6 } }), ("\"shard\":", "6"),
             "faults[0].outage.shard: database `orders` has 6 shards (0 to 5), so there is no shard 6", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "database": "order" } }), ("\"outage\"", "\"order\""),
             "faults[0].outage.database: no database named `order` (known: d, orders)", Some("orders")),
            (json!({ "at": "10s", "for": "5s", "slow_down": { "cache": "session", "factor": 2 } }), ("\"slow_down\"", "\"session\""),
             "faults[0].slow_down.cache: no cache named `session` (known: c, sessions)", Some("sessions")),
            (json!({ "at": "10s", "for": "5s", "outage": { "database": "orders", "cache": "sessions" } }), ("\"outage\"", "\"sessions\""),
             "faults[0].outage.cache: name one target, `database` or `cache`, not both: write two faults", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "shard": 1 } }), ("\"outage\"", "{"),
             "faults[0].outage: name the `database` or the `cache` to take down", None),
            (json!({ "at": "10s", "for": "5s", "slow_down": { "factor": 2 } }), ("\"slow_down\"", "{"),
             "faults[0].slow_down: name the `database` or the `cache` to slow down", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "cache": "sessions", "node": 2 } }), ("\"node\":", "2"),
             "faults[0].outage.node: cache `sessions` has 2 nodes (0 to 1), so there is no node 2", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "cache": "c", "node": 1 } }), ("\"node\":", "1"),
             "faults[0].outage.node: cache `c` has 1 node (0 to 0), so there is no node 1", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "cache": "sessions", "shard": 0 } }), ("\"shard\":", "0"),
             "faults[0].outage.shard: `shard` applies to a database; for a cache name a `node`", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "database": "orders", "node": 0 } }), ("\"node\":", "0"),
             "faults[0].outage.node: `node` applies to a cache; for a database name a `shard`", None),
            (json!({ "at": "10s", "for": "5s", "slow_down": { "database": "orders", "role": "replicas", "factor": 2 } }), ("\"role\":", "\"replicas\""),
             "faults[0].slow_down.role: database `orders` has no read replicas", None),
            (json!({ "at": "10s", "for": "5s", "slow_down": { "cache": "sessions", "role": "primary", "factor": 2 } }), ("\"role\":", "\"primary\""),
             "faults[0].slow_down.role: `role` applies to a database", None),
            (json!({ "at": "10s", "for": "5s", "outage": { "database": "orders", "role": "primary" } }), ("\"outage\"", "\"role\""),
             "faults[0].outage.role: unknown field `role`", None),
            (json!({ "at": "10s", "kill_pods": { "service": "ap", "count": 1 } }), ("\"service\":", "\"ap\""),
             "faults[0].kill_pods.service: no service named `ap` (known: app)", Some("app")),
            (json!({ "at": "10s", "kill_pods": { "service": "app", "count": 0 } }), ("\"count\":", "0"),
             "faults[0].kill_pods.count: must be at least 1", None),
            (json!({ "at": "10s", "for": "5s", "kill_pods": { "service": "app", "count": 1 } }), ("\"for\":", "\"5s\""),
             "faults[0].for: killed pods restart on their own (the service's restart_delay and startup_time); `for` applies to slow-downs and outages", None),
            (json!({ "at": "0s", "for": "1s", "partition_consumers": { "queue": "q", "count": 5 } }), ("\"count\":", "5"),
             "faults[0].partition_consumers.count: queue `q` has 4 consumers: cut off 1 to 4, got 5", None),
            (json!({ "at": "0s", "for": "1s", "partition_consumers": { "queue": "q", "count": 0 } }), ("\"count\":", "0"),
             "faults[0].partition_consumers.count: queue `q` has 4 consumers: cut off 1 to 4, got 0", None),
            (json!({ "at": "0s", "for": "1s", "partition_consumers": { "queue": "p", "count": 1 } }), ("\"partition_consumers\"", "\"p\""),
             "faults[0].partition_consumers.queue: no queue named `p` (known: q)", None),
        ];
        let failed: Vec<String> = cases
            .into_iter()
            .filter_map(|(fault, (anchor, needle), want, help)| {
                let doc = changed(&b, &[("/faults/0", fault.clone())]);
                let text = serde_json::to_string_pretty(&doc).expect("json");
                let err = error(&doc);
                let want = format!("bad.json:{}: {want}", position(&text, anchor, needle));
                let helped = match help {
                    Some(h) => err.ends_with(&format!("\n  help: did you mean `{h}`?")),
                    None => !err.contains("help:"),
                };
                (!(err.starts_with(&want) && helped))
                    .then(|| format!("{fault}:\n got: {err}\nwant: {want} (help: {help:?})"))
            })
            .collect();
        assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    }

    /// A queue with one consumer, or none, says so in words.
    #[test]
    fn few_consumers_are_counted_in_words() {
        let cut = json!([{ "at": "0s", "for": "1s", "partition_consumers": { "queue": "q", "count": 2 } }]);
        for (consumers, want) in [
            (
                1,
                "queue `q` has 1 consumer: cut it off with a count of 1, got 2",
            ),
            (0, "queue `q` has no consumers to cut off"),
        ] {
            let doc = changed(
                &targets(),
                &[
                    ("/queues/0/consumers", json!(consumers)),
                    ("/faults", cut.clone()),
                ],
            );
            let err = error(&doc);
            assert!(
                err.contains(&format!("faults[0].partition_consumers.count: {want}")),
                "{err}"
            );
        }
    }

    /// Slow-downs and outages of a shard's primary, a cache node, a whole
    /// database for longer than the run, and random failures, load.
    #[test]
    fn good_faults_load() {
        accepted(&changed(
            &targets(),
            &[
                (
                    "/databases/1/failures",
                    json!({ "mtbf": "30d", "mttr": "20m" }),
                ),
                ("/caches/1/failures", json!({ "mtbf": "30d", "mttr": "2m" })),
                (
                    "/faults",
                    json!([
                        { "at": "10s", "for": "5s", "slow_down": { "database": "orders", "shard": 5, "role": "primary", "factor": 1 } },
                        { "at": "10s", "for": "5s", "slow_down": { "cache": "sessions", "node": 1, "factor": 10 } },
                        { "at": "15s", "for": "1h", "outage": { "database": "orders" } },
                        { "at": "15s", "for": "1s", "outage": { "cache": "sessions", "node": 0 } },
                        { "at": "1s", "for": "1s", "partition_consumers": { "queue": "q", "count": 4 } },
                        { "at": "5s", "kill_pods": { "service": "app", "count": 1 } }
                    ]),
                ),
            ],
        ));
    }
}
