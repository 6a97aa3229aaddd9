//! Failed attempts: in-place (blocking) retries, retry topics, requeues,
//! and dead letters, by the queue's retry policy (see `group.rs` for the
//! whole picture).

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::group::Queues;
use super::topic::{Hold, MSG_HEAD, Meta, published_at, push_message};
use super::{Sink, What};
use crate::kernel::Cx;
use crate::kernel::resolve::{Path, Resolve};
use crate::model::ids::QueueId;
use crate::scenario::ScenarioError;

/// Retries of failed attempts of a message (named `MessageRetry`: a workload's `Retry` is the clients' retry policy).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRetry {
    /// Attempts in all, the first included (default 3); a message that
    /// fails them all is dead-lettered.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Where a failed message waits for its next attempt (default
    /// `blocking`).
    #[serde(default)]
    pub mode: RetryMode,
    /// Wait before the first retry (default 1s; not with `requeue`).
    #[serde(default)]
    pub backoff: Option<SimDuration>,
    /// Each further retry waits this many times longer (default 1: a fixed
    /// backoff).
    #[serde(default)]
    pub multiplier: Option<f64>,
    /// Longest wait between attempts (default 30s).
    #[serde(default)]
    pub max_backoff: Option<SimDuration>,
}

fn default_attempts() -> u32 {
    3
}

/// Where a failed message waits for its next attempt.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RetryMode {
    /// In place: the consumer keeps the message, sleeps the backoff and
    /// tries again, taking nothing else meanwhile (Spring Kafka's
    /// `DefaultErrorHandler`, Spring AMQP's stateless retry). On a topic
    /// the consumer's partitions wait behind it: head-of-line blocking.
    #[default]
    Blocking,
    /// Through a delay queue: the message is set aside for the backoff and
    /// then consumed again, while the consumer goes on with the next
    /// message (Spring Kafka's retry topics; RabbitMQ's TTL queue that
    /// dead-letters back to the work queue). Order within a partition is
    /// lost.
    RetryTopic,
    /// Work queues: negative acknowledgement with requeue (`basic.nack`,
    /// `requeue=true`): back at the head of the queue at once, no backoff
    /// (a quorum queue's `delivery-limit` is `max_attempts`).
    Requeue,
}

/// A resolved retry policy of a queue's messages (a request's is [`RetryDef`](crate::kernel::retry::RetryDef)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageRetryDef {
    /// Attempts in all (1: no retry).
    pub max_attempts: u32,
    /// Where a failed message waits.
    pub mode: RetryMode,
    /// Wait before the first retry.
    pub backoff: SimDuration,
    /// Growth of the wait per retry.
    pub multiplier: f64,
    /// Longest wait.
    pub max_backoff: SimDuration,
}

impl MessageRetryDef {
    /// The wait before the attempt that follows `failed` failed attempts
    /// (`failed` ≥ 1): `backoff × multiplier^(failed-1)`, rounded to the
    /// nanosecond, at most `max_backoff`.
    pub fn delay(&self, failed: u32) -> SimDuration {
        let exp = i32::try_from(failed.saturating_sub(1)).unwrap_or(i32::MAX);
        let d = self.backoff.as_nanos() as f64 * self.multiplier.powi(exp);
        if d >= self.max_backoff.as_nanos() as f64 {
            self.max_backoff
        } else {
            SimDuration(d.round() as u64)
        }
    }
}

/// Default wait before a queue's first retry (Spring's `@RetryableTopic`).
pub const DEFAULT_BACKOFF: SimDuration = SimDuration(1_000_000_000);

/// Default longest wait between retries (Spring's `ExponentialBackOff`).
pub const DEFAULT_MAX_BACKOFF: SimDuration = SimDuration(30_000_000_000);

/// Checks a queue's retry policy (at `p.retry`; `work_queue`: the queue is
/// one FIFO) and resolves it; none means one attempt.
pub fn resolve(
    cx: &Resolve<'_>,
    p: &Path,
    retry: Option<MessageRetry>,
    work_queue: bool,
) -> Result<MessageRetryDef, ScenarioError> {
    Ok(match retry {
        None => MessageRetryDef {
            max_attempts: 1,
            mode: RetryMode::Blocking,
            backoff: SimDuration::ZERO,
            multiplier: 1.0,
            max_backoff: SimDuration::ZERO,
        },
        Some(r) => {
            let rp = p.k("retry");
            if r.max_attempts == 0 {
                return Err(cx.err(
                    &rp.k("max_attempts"),
                    "at least 1 attempt (the first); 1 means no retry",
                ));
            }
            if r.mode == RetryMode::Requeue {
                if !work_queue {
                    return Err(cx.err(
                        &rp.k("mode"),
                        "`requeue` (basic.nack with requeue) is a work queue's; a topic retries in place (`blocking`) or through retry topics (`retry_topic`)",
                    ));
                }
                for (field, given) in [
                    ("backoff", r.backoff.is_some()),
                    ("multiplier", r.multiplier.is_some()),
                    ("max_backoff", r.max_backoff.is_some()),
                ] {
                    if given {
                        return Err(cx.err(
                            &rp.k(field),
                            "a requeued message is redelivered at once, without a backoff; for a delay use \"mode\": \"retry_topic\" (a TTL queue) or \"blocking\"",
                        ));
                    }
                }
            }
            let multiplier = r.multiplier.unwrap_or(1.0);
            if !(multiplier.is_finite() && (1.0..=100.0).contains(&multiplier)) {
                return Err(cx.err(
                    &rp.k("multiplier"),
                    format!(
                        "a backoff multiplier is in [1, 100] (1: a fixed backoff), got {multiplier}"
                    ),
                ));
            }
            let (backoff, max_backoff) = if r.mode == RetryMode::Requeue {
                (SimDuration::ZERO, SimDuration::ZERO)
            } else {
                let backoff = r.backoff.unwrap_or(DEFAULT_BACKOFF);
                let max_backoff = r.max_backoff.unwrap_or(DEFAULT_MAX_BACKOFF.max(backoff));
                if max_backoff < backoff {
                    return Err(cx.err(
                        &rp.k("max_backoff"),
                        format!(
                            "the longest backoff ({max_backoff}) is shorter than the first ({backoff})"
                        ),
                    ));
                }
                (backoff, max_backoff)
            };
            MessageRetryDef {
                max_attempts: r.max_attempts,
                mode: r.mode,
                backoff,
                multiplier,
                max_backoff,
            }
        }
    })
}

impl Queues<'_> {
    /// The consumer's attempt failed (its job is released): retry the
    /// message by the queue's policy, or dead-letter it.
    pub(super) fn attempt_failed(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let def = &self.defs[q];
        let retry = def.retry;
        let t = &mut self.topics[q];
        t.failed_attempts += 1;
        let cons = &mut t.consumers[c];
        cons.msg[1] += 1;
        let failed = (cons.msg[1] & Meta::FAILED) as u32;
        if failed >= retry.max_attempts {
            let msg = std::mem::take(&mut cons.msg);
            let part = cons.part as usize;
            cons.hold = Hold::Idle;
            cons.busy_tw.set(now, 0.0);
            self.dead_letter(q, part, &msg, cx);
            self.topics[q].consumers[c].msg = msg;
            self.after_free(q, c, cx);
            return;
        }
        t.retries += 1;
        let delay = retry.delay(failed);
        match retry.mode {
            RetryMode::Blocking if !t.paused || def.is_work_queue() => {
                cons.hold = Hold::Backoff;
                cons.busy_tw.set(now, 1.0);
                cons.backoff_seq = cons.backoff_seq.wrapping_add(1);
                let seq = cons.backoff_seq;
                self.queue_ev(now + delay, q, What::Backoff, c, seq, cx);
            }
            RetryMode::Blocking | RetryMode::Requeue => {
                // A rebalance is pending: the consumer seeks back to the
                // failed record and whoever owns the partition next polls
                // it again. Requeue: back at the head of the work queue.
                self.put_back(q, c, cx);
                self.after_free(q, c, cx);
            }
            RetryMode::RetryTopic => {
                let msg = std::mem::take(&mut cons.msg);
                let part = cons.part;
                cons.hold = Hold::Idle;
                cons.busy_tw.set(now, 0.0);
                let due = now + delay;
                t.delayed_seq += 1;
                t.delayed.insert((due, t.delayed_seq), (part, msg));
                self.queue_ev(due, q, What::RetryDue, 0, 0, cx);
                self.after_free(q, c, cx);
            }
        }
    }

    /// The consumer's held message goes back to the head of its partition
    /// (of the work queue), and the consumer holds nothing.
    pub(super) fn put_back(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let t = &mut self.topics[q];
        let cons = &mut t.consumers[c];
        if cons.hold == Hold::Idle {
            return;
        }
        let lane = &mut t.partitions[cons.part as usize].msgs;
        for &w in cons.msg.iter().rev() {
            lane.push_front(w);
        }
        cons.msg.clear();
        cons.busy_tw.set(now, 0.0);
        cons.hold = Hold::Idle;
    }

    /// Retry-topic messages whose backoff is over are consumed again: on a
    /// topic from their partition's retry lane, on a work queue from the
    /// tail of the queue (a TTL queue dead-letters them back).
    pub(super) fn retries_due(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let work_queue = self.defs[q].is_work_queue();
        let mut parts = Vec::new();
        let t = &mut self.topics[q];
        while let Some(entry) = t.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (part, msg) = entry.remove();
            let p = &mut t.partitions[part as usize];
            if work_queue {
                p.msgs.extend(&msg);
            } else {
                p.retries.extend(&msg);
            }
            parts.push(part as usize);
        }
        for part in parts {
            self.wake(q, part, cx);
        }
    }

    /// A message failed for good: counted, and published to the
    /// dead-letter queue if there is one.
    pub(super) fn dead_letter(
        &mut self,
        q: usize,
        part: usize,
        msg: &[u64],
        cx: &mut Cx<impl Sink>,
    ) {
        let now = cx.now();
        self.track(q, published_at(msg), false, cx);
        let t = &mut self.topics[q];
        t.dead_lettered += 1;
        t.lag -= 1;
        t.lag_tw.set(now, t.lag as f64);
        t.lag_series.set(now, t.lag as f64);
        t.dead_series.add(now, 1.0);
        let p = &mut t.partitions[part];
        p.lag -= 1;
        p.lag_tw.set(now, p.lag as f64);
        let Some(d) = self.defs[q].dead_letter.map(QueueId::ix) else {
            return;
        };
        let keys = &msg[MSG_HEAD..];
        let key = self.defs[d].partition_key.map(|k| keys[k]);
        let dpart = self.pick_partition(d, key);
        let meta = self.poison_meta(d);
        let dropped = push_message(
            &mut self.topics[d],
            self.defs[d].retention,
            MSG_HEAD + self.nkeys,
            dpart,
            now,
            meta,
            keys,
        );
        self.stored(d, now, dropped, cx);
        self.wake(d, dpart, cx);
    }
}
