//! Queues: the `queues` section — Kafka-like topics with partitions and
//! a consumer group, RabbitMQ-like work queues, retries, dead letters,
//! consumer crashes and network partitions.

pub mod group;
pub mod membership;
pub mod result;
pub mod retries;
pub mod topic;

pub use retries::{MessageRetry, MessageRetryDef};

use serde::{Deserialize, Serialize};
use sim_core::{Dist, DistSpec, SimDuration, SimTime};

use crate::kernel::Cx;
use crate::kernel::cx::Event;
use crate::kernel::kind::{Finish, ratio};
use crate::kernel::resolve::{Path, Programs, Resolve};
use crate::model::KeyId;
use crate::model::ids::{ProgramId, QueueId};
use crate::model::steps::Step;
use crate::model::vocab::{Failures, Fraction};
use crate::scenario::ScenarioError;
pub use group::Queues;
use result::{PartitionResult, QueueResult, QueueSeries};
use topic::{MSG_HEAD, TopicState};

/// The section's name in the file and in the results document.
pub const SECTION: &str = "queues";

/// A message queue with a consumer group: a Kafka-like topic (messages
/// spread over partitions, each partition read in order by one consumer of
/// the group) or a RabbitMQ-like work queue (one FIFO, any idle consumer
/// takes the next message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Name, unique among all components.
    pub name: String,
    /// `topic` (default) or `work_queue`.
    #[serde(default)]
    pub kind: QueueKind,
    /// Number of partitions (topics only; required there).
    #[serde(default)]
    pub partitions: Option<u32>,
    /// The key that picks a message's partition (`hash mod partitions`).
    /// Absent: partitions in turn. Topics only.
    #[serde(default)]
    pub partition_key: Option<String>,
    /// Consumers in the group; on a topic, those beyond the partition count
    /// stay idle.
    pub consumers: u32,
    /// Steps each message costs its consumer.
    pub work: Vec<Step>,
    /// Time the publisher waits for the broker's acknowledgement (default 0).
    #[serde(default)]
    pub publish_latency: Option<DistSpec>,
    /// Messages retained per partition (a work queue: ready messages,
    /// RabbitMQ `x-max-length` with `drop-head`); beyond it the oldest
    /// unconsumed message is dropped and counted (default 1,000,000).
    #[serde(default)]
    pub retention: Option<u64>,
    /// Work queues: unacknowledged messages a consumer may hold (RabbitMQ
    /// `basic.qos` prefetch count; 0: unlimited). Default 1.
    #[serde(default)]
    pub prefetch: Option<u32>,
    /// Probability that an attempt's work fails (the handler throws after
    /// its steps), independently for every attempt: a transient error.
    #[serde(default)]
    pub failure_probability: Option<Fraction>,
    /// Probability that a message can never be processed (a poison
    /// message: every attempt of it fails).
    #[serde(default)]
    pub poison_probability: Option<Fraction>,
    /// What happens to a failed attempt. Absent: no retry, a failed message
    /// is dead-lettered at once.
    #[serde(default)]
    pub retry: Option<MessageRetry>,
    /// The queue that receives messages that failed `max_attempts` times
    /// (a dead-letter topic or queue). Absent: they are counted and dropped.
    #[serde(default)]
    pub dead_letter_queue: Option<String>,
    /// Random crashes of each consumer process: time between failures and
    /// time until it is back.
    #[serde(default)]
    pub consumer_failures: Option<Failures>,
    /// Topics: how long the group coordinator waits for a silent consumer
    /// before removing it from the group (Kafka `session.timeout.ms`,
    /// default 45s).
    #[serde(default)]
    pub session_timeout: Option<SimDuration>,
    /// Work queues: how long the broker waits for a silent consumer's
    /// connection before closing it and requeueing its unacknowledged
    /// messages (RabbitMQ heartbeat timeout, default 60s).
    #[serde(default)]
    pub heartbeat: Option<SimDuration>,
    /// Topics: how long every consumer of the group stops when the group's
    /// membership changes (an eager rebalance), after the members finish
    /// the message in hand. Default 3s.
    #[serde(default)]
    pub rebalance_pause: Option<SimDuration>,
    /// Topics: how partitions are dealt to the group's members (default
    /// `round_robin`).
    #[serde(default)]
    pub assignor: Option<Assignor>,
    /// Price per consumer per hour.
    #[serde(default)]
    pub price_per_consumer_hour: f64,
    /// Price per partition per hour (managed services that bill by
    /// partition).
    #[serde(default)]
    pub price_per_partition_hour: f64,
    /// Brokers serving the topic (for cost; default 0: not billed here).
    #[serde(default)]
    pub brokers: u32,
    /// Price per broker per hour.
    #[serde(default)]
    pub price_per_broker_hour: f64,
}

/// The two kinds of queue.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// Kafka-like: partitions, each owned by one consumer of the group and
    /// read in order.
    #[default]
    Topic,
    /// RabbitMQ-like: one FIFO; the broker hands the next message to a
    /// consumer with room under its prefetch count.
    WorkQueue,
}

/// How partitions are dealt to a group's members (Kafka
/// `partition.assignment.strategy`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Assignor {
    /// Partition p to member p mod members (`RoundRobinAssignor`).
    #[default]
    RoundRobin,
    /// Contiguous ranges, the first members one more when the partitions do
    /// not divide evenly (`RangeAssignor`).
    Range,
}

/// A resolved queue.
#[derive(Debug, Clone)]
pub struct QueueDef {
    /// Name.
    pub name: String,
    /// Topic or work queue.
    pub kind: QueueKind,
    /// Partitions (1 for a work queue: its one FIFO).
    pub partitions: u32,
    /// Partition key (None: in turn).
    pub partition_key: Option<KeyId>,
    /// Consumers in the group.
    pub consumers: u32,
    /// Program run per message.
    pub program: ProgramId,
    /// Publish acknowledgement latency.
    pub publish_latency: Option<Dist>,
    /// Messages retained per partition.
    pub retention: u64,
    /// Work queues: unacknowledged messages per consumer (0: unlimited).
    pub prefetch: u32,
    /// Probability that an attempt fails (transient).
    pub failure_probability: f64,
    /// Probability that a message fails every attempt (poison).
    pub poison_probability: f64,
    /// What happens to failed attempts.
    pub retry: MessageRetryDef,
    /// Where messages go after `retry.max_attempts` failures (None: counted
    /// and dropped).
    pub dead_letter: Option<QueueId>,
    /// Random consumer crashes: (mean ns between failures, mean ns to
    /// repair).
    pub consumer_failures: Option<(f64, f64)>,
    /// Time until a silent consumer is removed: the session timeout of a
    /// topic's group, the heartbeat timeout of a work queue's broker.
    pub session_timeout: SimDuration,
    /// Topics: the stop of every consumer on a rebalance.
    pub rebalance_pause: SimDuration,
    /// Topics: how partitions are dealt to members.
    pub assignor: Assignor,
    /// Price per consumer-hour.
    pub price_per_consumer_hour: f64,
    /// Price per partition-hour.
    pub price_per_partition_hour: f64,
    /// Brokers billed.
    pub brokers: u32,
    /// Price per broker-hour.
    pub price_per_broker_hour: f64,
}

impl QueueDef {
    /// A work queue (one FIFO, no partitions).
    pub fn is_work_queue(&self) -> bool {
        self.kind == QueueKind::WorkQueue
    }

    /// Attempts can fail (a failure or poison probability above 0).
    pub fn can_fail(&self) -> bool {
        self.failure_probability > 0.0 || self.poison_probability > 0.0
    }
}

/// Default retention of a queue partition, messages.
pub const DEFAULT_RETENTION: u64 = 1_000_000;

/// Most queues in a scenario.
pub const MAX_QUEUES: usize = 10_000;

/// Default session timeout of a topic's consumer group (Kafka's
/// `session.timeout.ms` since 3.0).
pub const DEFAULT_SESSION_TIMEOUT: SimDuration = SimDuration(45_000_000_000);

/// Default heartbeat timeout of a work queue's broker (RabbitMQ).
pub const DEFAULT_HEARTBEAT: SimDuration = SimDuration(60_000_000_000);

/// Default stop of a topic's consumers on a rebalance.
pub const DEFAULT_REBALANCE_PAUSE: SimDuration = SimDuration(3_000_000_000);

/// Checks a queue's settings and resolves it (its work program included).
pub fn resolve(
    cx: &Resolve<'_>,
    programs: &mut dyn Programs,
    all: &[Queue],
    i: usize,
    q: &Queue,
) -> Result<QueueDef, ScenarioError> {
    let p = Path::root(SECTION).i(i);
    if i >= MAX_QUEUES {
        return Err(cx.err(&p, format!("at most {MAX_QUEUES} queues per scenario")));
    }
    let work_queue = q.kind == QueueKind::WorkQueue;
    let topic_only = |field: &str, given: bool| {
        if work_queue && given {
            Err(cx.err(
                &p.k(field),
                format!("`{field}` is for topics; a work queue (\"kind\": \"work_queue\") is one FIFO that any idle consumer takes from, with no partitions and no consumer-group rebalancing"),
            ))
        } else {
            Ok(())
        }
    };
    topic_only("partitions", q.partitions.is_some())?;
    topic_only("partition_key", q.partition_key.is_some())?;
    topic_only("session_timeout", q.session_timeout.is_some())?;
    topic_only("rebalance_pause", q.rebalance_pause.is_some())?;
    topic_only("assignor", q.assignor.is_some())?;
    if !work_queue {
        for (field, given, instead) in [
            (
                "prefetch",
                q.prefetch.is_some(),
                "a topic's consumer reads its partitions in order, one message at a time",
            ),
            (
                "heartbeat",
                q.heartbeat.is_some(),
                "a topic's group notices a silent consumer after `session_timeout`",
            ),
        ] {
            if given {
                return Err(cx.err(
                    &p.k(field),
                    format!("`{field}` is for work queues (\"kind\": \"work_queue\"); {instead}"),
                ));
            }
        }
    }
    let partitions = match (work_queue, q.partitions) {
        (true, _) => 1,
        (false, None) => {
            return Err(cx.err(
                &p,
                "a topic needs `partitions` (or \"kind\": \"work_queue\" for one FIFO without partitions)",
            ));
        }
        (false, Some(0)) => {
            return Err(cx.err(&p.k("partitions"), "a queue needs at least 1 partition"));
        }
        (false, Some(n)) => n,
    };
    if q.retention == Some(0) {
        return Err(cx.err(&p.k("retention"), "retention must be at least 1 message"));
    }
    let probability = |field: &str, v: Option<Fraction>| match v {
        None => Ok(0.0),
        Some(f) if f.0.is_finite() && (0.0..=1.0).contains(&f.0) => Ok(f.0),
        Some(f) => Err(cx.err(
            &p.k(field),
            format!("a probability is in [0, 1] (0.02 or \"2%\"), got {}", f.0),
        )),
    };
    let failure_probability = probability("failure_probability", q.failure_probability)?;
    let poison_probability = probability("poison_probability", q.poison_probability)?;
    let retry = retries::resolve(cx, &p, q.retry, work_queue)?;
    let dead_letter = dead_letter(cx, &p, all, i, q)?;
    let consumer_failures = match q.consumer_failures {
        None => None,
        Some(f) => {
            if f.mtbf.0 == 0 {
                return Err(cx.err(&p.k("consumer_failures").k("mtbf"), "must be positive"));
            }
            Some((f.mtbf.0 as f64, f.mttr.0 as f64))
        }
    };
    let session_timeout = if work_queue {
        q.heartbeat.unwrap_or(DEFAULT_HEARTBEAT)
    } else {
        q.session_timeout.unwrap_or(DEFAULT_SESSION_TIMEOUT)
    };
    if session_timeout == SimDuration::ZERO {
        let field = if work_queue {
            "heartbeat"
        } else {
            "session_timeout"
        };
        return Err(cx.err(&p.k(field), "must be positive"));
    }
    let partition_key = q
        .partition_key
        .as_ref()
        .map(|k| cx.key(&p.k("partition_key"), k))
        .transpose()?;
    let stream = format!("queue/{}/work", q.name);
    let program = programs.compile(cx, &p.k("work"), &q.work, &stream, true)?;
    Ok(QueueDef {
        name: q.name.clone(),
        kind: q.kind,
        partitions,
        partition_key,
        consumers: q.consumers,
        program,
        publish_latency: q
            .publish_latency
            .as_ref()
            .map(|d| cx.dist(&p.k("publish_latency"), d))
            .transpose()?,
        retention: q.retention.unwrap_or(DEFAULT_RETENTION),
        prefetch: if work_queue {
            q.prefetch.unwrap_or(1)
        } else {
            1
        },
        failure_probability,
        poison_probability,
        retry,
        dead_letter,
        consumer_failures,
        session_timeout,
        rebalance_pause: q.rebalance_pause.unwrap_or(DEFAULT_REBALANCE_PAUSE),
        assignor: q.assignor.unwrap_or_default(),
        price_per_consumer_hour: cx
            .price(&p.k("price_per_consumer_hour"), q.price_per_consumer_hour)?,
        price_per_partition_hour: cx
            .price(&p.k("price_per_partition_hour"), q.price_per_partition_hour)?,
        brokers: q.brokers,
        price_per_broker_hour: cx.price(&p.k("price_per_broker_hour"), q.price_per_broker_hour)?,
    })
}

/// The dead-letter queue of queue `i` (at `p`), if it names one: another
/// queue, and no chain of dead-letter queues comes back to it.
fn dead_letter(
    cx: &Resolve<'_>,
    p: &Path,
    all: &[Queue],
    i: usize,
    q: &Queue,
) -> Result<Option<QueueId>, ScenarioError> {
    Ok(match &q.dead_letter_queue {
        None => None,
        Some(name) => {
            let dp = p.k("dead_letter_queue");
            let d = cx.index_in(&dp, name, SECTION, "queue")?;
            if d == i {
                return Err(cx.err(
                    &dp,
                    format!("queue `{name}` cannot be its own dead-letter queue: a message that failed for good would come back to fail again"),
                ));
            }
            // Dead letters must end somewhere: no cycle of dead-letter queues.
            let mut chain = vec![all[i].name.as_str()];
            let mut at = Some(d);
            while let Some(n) = at {
                chain.push(all[n].name.as_str());
                if n == i {
                    return Err(cx.err(
                        &dp,
                        format!("dead-letter queues form a cycle ({}): a message that fails everywhere would circle for ever", chain.join(" -> ")),
                    ));
                }
                at = match all[n]
                    .dead_letter_queue
                    .as_ref()
                    .map(|x| cx.names.index_in(x, SECTION))
                {
                    Some(Some(x)) if chain.len() <= all.len() => Some(x),
                    _ => None,
                };
            }
            Some(QueueId::new(d))
        }
    })
}

/// A queue's event (consumers, retries, rebalances), carried by
/// the world's event type.
#[derive(Debug, Clone, Copy)]
pub struct Ev {
    /// Queue index (validation keeps it below 2^16).
    pub(crate) queue: u16,
    pub(crate) what: What,
    pub(crate) consumer: u32,
    /// The sequence number, life or generation the event belongs to.
    pub(crate) arg: u32,
}

/// The world's events, as this kind schedules its own ([`Ev`]) and resumes
/// jobs.
pub trait Sink: Event + From<Ev> {}

impl<E: Event + From<Ev>> Sink for E {}

/// What a queue event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// A blocking backoff is over: the consumer tries again.
    Backoff,
    /// Retry-topic messages are due.
    RetryDue,
    /// A random consumer crash.
    Crash,
    /// A crashed consumer is back.
    Restart,
    /// A silent consumer's session (or heartbeat) timeout.
    SessionTimeout,
    /// A cut-off consumer is reachable again.
    Heal,
    /// A rebalance ends: partitions are dealt again.
    RebalanceDone,
}

impl<'m> Queues<'m> {
    /// The queues of `defs` at time 0, their messages carrying `nkeys`
    /// keys; queue NAME's streams are `queue/NAME/publish`, `/failures`,
    /// `/poison` and `queue/NAME/consumer/I/failures`.
    pub fn start(defs: &'m [QueueDef], nkeys: usize, cx: &Cx<impl Event>) -> Self {
        Queues {
            defs,
            topics: defs.iter().map(|d| TopicState::new(d, cx)).collect(),
            nkeys,
        }
    }

    /// The warm-up is over: lag statistics restart at `now`.
    pub fn reset(&mut self, now: SimTime) {
        for t in &mut self.topics {
            t.reset(now);
        }
    }

    /// Each queue's section of the results document.
    pub fn finish(&self, fin: &Finish<'_>, warnings: &mut Vec<String>) -> Vec<QueueResult> {
        let end = fin.end();
        self.defs
            .iter()
            .zip(&self.topics)
            .map(|(def, t)| {
                let active: Vec<_> = t.consumers.iter().filter(|c| !c.partitions.is_empty()).collect();
                let stride = MSG_HEAD + self.nkeys;
                // A dead-letter queue without consumers is normal: people
                // inspect it.
                let is_dlq = self.defs
                    .iter()
                    .any(|x| x.dead_letter.is_some_and(|d| self.defs[d].name == def.name));
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
                            .map(|d| format!(" to `{}`", self.defs[d].name))
                            .unwrap_or_default()
                    ));
                }
                if let Some(w) = never_caught_up(def, t, end) {
                    warnings.push(w);
                }
                let (hottest, max_published) = t
                    .partitions
                    .iter()
                    .map(|p| p.published)
                    .enumerate()
                    .fold((0, 0), |best, (i, n)| if n > best.1 { (i, n) } else { best });
                let mean_published = t.published as f64 / t.partitions.len() as f64;
                let paused = if t.paused {
                    t.paused_before + end.saturating_since(t.paused_since)
                } else {
                    t.paused_before
                };
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
                    end_to_end: t.end_to_end(def.consumers, stride, &fin.period),
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
                    dead_letter_queue: def.dead_letter.map(|d| self.defs[d].name.clone()),
                    dead_letter_depth: match def.dead_letter {
                        Some(d) => self.topics[d].lag,
                        None => t.dead_lettered,
                    },
                    redeliveries: t.redeliveries,
                    consumer_crashes: t.crashes,
                    consumers_cut: t.cuts,
                    session_timeouts: t.session_timeouts,
                    rebalances: t.rebalances,
                    rebalance_paused_s: paused.as_secs_f64(),
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
            .collect()
    }

    /// Each queue's time series.
    pub fn series(&self, fin: &Finish<'_>) -> Vec<QueueSeries> {
        let end = fin.end();
        self.defs
            .iter()
            .zip(&self.topics)
            .map(|(d, t)| QueueSeries {
                name: d.name.clone(),
                lag: t.lag_series.finish(end),
                dead_lettered_rps: if t.dead_lettered > 0 {
                    fin.per_sec(t.dead_series.values())
                } else {
                    Vec::new()
                },
                rebalancing: if t.rebalances > 0 {
                    t.paused_series.finish(end)
                } else {
                    Vec::new()
                },
            })
            .collect()
    }
}

/// Lag from which a growing backlog is worth a warning, messages.
const GROWING_LAG_MIN: u64 = 100;

/// A warning when the queue's consumers never caught up: its lag at the
/// end is at least [`GROWING_LAG_MIN`], within 20% of the most it
/// reached, and a fifth more than three quarters into the run (a lag that
/// grows with time rises about a third over the last quarter; one that
/// merely fluctuates does not stay at its maximum).
fn never_caught_up(def: &QueueDef, t: &TopicState, end: SimTime) -> Option<String> {
    let lag = t.lag;
    let max = t.lag_tw.max();
    let lag_f = lag as f64;
    // Without consumers the backlog is the point (a dead-letter queue)
    // or has its own warning.
    if def.consumers == 0 || lag < GROWING_LAG_MIN || lag_f < 0.8 * max {
        return None;
    }
    let series = t.lag_series.finish(end);
    let at = series.len() * 3 / 4;
    let earlier = *series.get(at).filter(|v| v.is_finite())?;
    if lag_f < 1.2 * earlier {
        return None;
    }
    let when = t.lag_series.spec().bucket_start(at);
    Some(format!(
        "queue `{}`: its lag grew to the end of the run ({:.0} messages at {}, {lag} at the end): its {} consumer(s) never caught up; add consumers (and partitions), make their work lighter, or run longer to see how far it goes",
        def.name,
        earlier,
        SimDuration(when.0),
        def.consumers
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::MAX_QUEUES;
    use crate::system::compile::testing::{accepted, assert_refused, base, changed, merged};

    /// What a queue refuses: a topic's settings on a work queue and a work
    /// queue's on a topic, a topic without partitions, no retention,
    /// probabilities outside [0, 1], retries that cannot be, dead-letter
    /// queues that are unknown, itself or a cycle, zero failure or session
    /// times, a partition key no workload draws, bad latencies and prices,
    /// unknown kinds, modes and assignors, too many queues. (Its work's
    /// steps: `system::program`; partitioning faults: `system::faults`.)
    #[test]
    fn refusals() {
        let b = base();
        let topic = |fields: Value| merged(&b["queues"][0], fields);
        let wq = |fields: Value| {
            topic(merged(
                &json!({ "kind": "work_queue", "partitions": null }),
                fields,
            ))
        };
        let retry = |r: Value| topic(json!({ "retry": r }));
        let other = |name: &str, dead_letter: Option<&str>| {
            merged(
                &json!({ "name": name, "partitions": 1, "consumers": 1, "work": [{ "compute": "1ms" }] }),
                json!({ "dead_letter_queue": dead_letter }),
            )
        };
        let many: Vec<Value> = std::iter::once(b["queues"][0].clone())
            .chain((1..=MAX_QUEUES).map(|i| other(&format!("q{i}"), None)))
            .collect();
        let at = "/queues/0";
        let for_topics = "is for topics; a work queue (\"kind\": \"work_queue\") is one FIFO that any idle consumer takes from, with no partitions and no consumer-group rebalancing";
        let topic_only = [
            ("partitions", json!(4)),
            ("partition_key", json!("user_id")),
            ("session_timeout", json!("1s")),
            ("rebalance_pause", json!("1s")),
            ("assignor", json!("range")),
        ]
        .map(|(field, v)| {
            (
                wq(json!({ field: v })),
                format!("queues[0].{field}: `{field}` {for_topics}"),
            )
        });
        let mut cases: Vec<(&str, Value, &str)> = topic_only
            .iter()
            .map(|(v, want)| (at, v.clone(), want.as_str()))
            .collect();
        cases.extend([
            (
                at,
                topic(json!({ "prefetch": 3 })),
                "queues[0].prefetch: `prefetch` is for work queues (\"kind\": \"work_queue\"); a topic's consumer reads its partitions in order, one message at a time",
            ),
            (
                at,
                topic(json!({ "heartbeat": "5s" })),
                "queues[0].heartbeat: `heartbeat` is for work queues (\"kind\": \"work_queue\"); a topic's group notices a silent consumer after `session_timeout`",
            ),
            (
                at,
                topic(json!({ "partitions": null })),
                "queues[0]: a topic needs `partitions` (or \"kind\": \"work_queue\" for one FIFO without partitions)",
            ),
            ("/queues/0/partitions", json!(0), "queues[0].partitions: a queue needs at least 1 partition"),
            ("/queues/0/retention", json!(0), "queues[0].retention: retention must be at least 1 message"),
            (
                "/queues/0/failure_probability",
                json!(1.5),
                "queues[0].failure_probability: a probability is in [0, 1] (0.02 or \"2%\"), got 1.5",
            ),
            (
                "/queues/0/failure_probability",
                json!("120%"),
                "queues[0].failure_probability: a probability is in [0, 1] (0.02 or \"2%\"), got 1.2",
            ),
            (
                "/queues/0/poison_probability",
                json!(-0.1),
                "queues[0].poison_probability: a probability is in [0, 1] (0.02 or \"2%\"), got -0.1",
            ),
            (
                at,
                retry(json!({ "max_attempts": 0 })),
                "queues[0].retry.max_attempts: at least 1 attempt (the first); 1 means no retry",
            ),
            (
                at,
                retry(json!({ "max_attempts": 3, "mode": "requeue" })),
                "queues[0].retry.mode: `requeue` (basic.nack with requeue) is a work queue's; a topic retries in place (`blocking`) or through retry topics (`retry_topic`)",
            ),
            (
                at,
                wq(json!({ "retry": { "max_attempts": 3, "mode": "requeue", "backoff": "1s" } })),
                "queues[0].retry.backoff: a requeued message is redelivered at once, without a backoff; for a delay use \"mode\": \"retry_topic\" (a TTL queue) or \"blocking\"",
            ),
            (
                at,
                wq(json!({ "retry": { "max_attempts": 3, "mode": "requeue", "multiplier": 2 } })),
                "queues[0].retry.multiplier: a requeued message is redelivered at once, without a backoff",
            ),
            (
                at,
                wq(json!({ "retry": { "max_attempts": 3, "mode": "requeue", "max_backoff": "1m" } })),
                "queues[0].retry.max_backoff: a requeued message is redelivered at once, without a backoff",
            ),
            (
                at,
                retry(json!({ "max_attempts": 3, "multiplier": 0.5 })),
                "queues[0].retry.multiplier: a backoff multiplier is in [1, 100] (1: a fixed backoff), got 0.5",
            ),
            (
                at,
                retry(json!({ "max_attempts": 3, "multiplier": 101 })),
                "queues[0].retry.multiplier: a backoff multiplier is in [1, 100] (1: a fixed backoff), got 101",
            ),
            (
                at,
                retry(json!({ "max_attempts": 3, "backoff": "10s", "max_backoff": "1s" })),
                "queues[0].retry.max_backoff: the longest backoff (1s) is shorter than the first (10s)",
            ),
            (
                at,
                retry(json!({ "max_attempts": 3, "mode": "later" })),
                "queues[0].retry.mode: unknown variant `later`",
            ),
            ("/queues/0/kind", json!("stream"), "queues[0].kind: unknown variant `stream`"),
            ("/queues/0/assignor", json!("sticky"), "queues[0].assignor: unknown variant `sticky`"),
            (
                "/queues",
                json!([topic(json!({ "dead_letter_queue": "dql" })), other("dlq", None)]),
                "queues[0].dead_letter_queue: no queue named `dql` (known: q, dlq)\n  help: did you mean `dlq`?",
            ),
            (
                "/queues/0/dead_letter_queue",
                json!("q"),
                "queues[0].dead_letter_queue: queue `q` cannot be its own dead-letter queue: a message that failed for good would come back to fail again",
            ),
            (
                "/queues",
                json!([topic(json!({ "dead_letter_queue": "b" })), other("b", Some("q"))]),
                "queues[0].dead_letter_queue: dead-letter queues form a cycle (q -> b -> q): a message that fails everywhere would circle for ever",
            ),
            (
                "/queues/0/consumer_failures",
                json!({ "mtbf": "0s", "mttr": "1m" }),
                "queues[0].consumer_failures.mtbf: must be positive",
            ),
            ("/queues/0/session_timeout", json!("0s"), "queues[0].session_timeout: must be positive"),
            (at, wq(json!({ "heartbeat": "0s" })), "queues[0].heartbeat: must be positive"),
            (
                "/queues/1",
                merged(&other("q2", None), json!({ "partition_key": "usr" })),
                "queues[1].partition_key: no key drawn by any workload named `usr` (known: user_id, item_id)",
            ),
            (
                "/queues/0/publish_latency",
                json!({ "uniform": { "min": "2ms", "max": "1ms" } }),
                "queues[0].publish_latency: uniform: min (2ms) must not exceed max (1ms)",
            ),
        ]);
        let prices = [
            "price_per_consumer_hour",
            "price_per_partition_hour",
            "price_per_broker_hour",
        ]
        .map(|field| {
            (
                format!("/queues/0/{field}"),
                format!("queues[0].{field}: a price must be a finite number >= 0, got -1"),
            )
        });
        cases.extend(
            prices
                .iter()
                .map(|(p, want)| (p.as_str(), json!(-1), want.as_str())),
        );
        cases.push((
            "/queues",
            Value::Array(many),
            // Their histograms alone would take 12 GiB: the memory
            // budget refuses them before the count limit is reached.
            "queues: 10001 queues need about 6.7 GiB",
        ));
        assert_refused(&b, cases);
    }

    /// A validation error names the file, line and column of the field.
    #[test]
    fn an_error_names_the_line_and_column_of_its_field() {
        let text = "{\n  \"name\": \"x\", \"duration\": \"1s\",\n  \"workloads\": [{ \"name\": \"w\", \"target\": \"app\", \"rate\": [{ \"rps\": 1 }], \"mix\": { \"e\": 1 } }],\n  \"services\": [{ \"name\": \"app\", \"replicas\": 1, \"concurrency\": 1, \"endpoints\": { \"e\": [{ \"publish\": { \"queue\": \"q\" } }] } }],\n  \"queues\": [{ \"name\": \"q\", \"kind\": \"work_queue\", \"consumers\": 1,\n    \"retry\": { \"max_attempts\": 0 }, \"work\": [{ \"compute\": \"1ms\" }] }]\n}\n";
        let e = match crate::system::compile::load("q.json", text, &[]) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            e.starts_with("q.json:6:32: queues[0].retry.max_attempts: "),
            "{e}"
        );
    }

    /// A work queue with unlimited prefetch and requeues, and a topic with
    /// every setting, load.
    #[test]
    fn good_queues_load() {
        let b = base();
        for fields in [
            json!({ "kind": "work_queue", "partitions": null, "prefetch": 0, "heartbeat": "30s",
                    "retry": { "mode": "requeue", "max_attempts": 20 } }),
            json!({ "partitions": 6, "assignor": "range",
                    "retry": { "mode": "retry_topic", "max_attempts": 3, "backoff": "1s", "multiplier": 2, "max_backoff": "1m" },
                    "failure_probability": "2%", "poison_probability": 0.0001,
                    "consumer_failures": { "mtbf": "1h", "mttr": "30s" } }),
        ] {
            let q = merged(&b["queues"][0], fields);
            accepted(&changed(&b, &[("/queues/0", q)]));
        }
    }
}
