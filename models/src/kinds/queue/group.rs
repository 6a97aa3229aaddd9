//! A queue group's run: publishing, consumers taking messages, failed attempts and
//! their retries, dead letters, consumer crashes and network partitions,
//! and a topic's consumer-group rebalances.
//!
//! **Topics** (Kafka) spread messages over partitions; each partition is
//! assigned to one member of the consumer group, which reads it in order,
//! one message at a time, cycling through its partitions. **Work queues**
//! (RabbitMQ) are one FIFO: the broker delivers the next message to a
//! consumer with fewer unacknowledged messages than its prefetch count,
//! in turn.
//!
//! A message is stored flat, `[published_at, meta, keys...]` (see
//! [`Meta`]); a consumer holds at most one message at a time ([`Hold`]),
//! and each attempt at it runs the queue's work as a fresh job.
//!
//! **Failures.** An attempt fails with the queue's failure probability
//! (every attempt of a poison message fails), or when a database
//! statement of it fails ([`World::message_failed`]). The retry policy
//! then keeps the message at its consumer for the backoff (`blocking`:
//! the consumer takes nothing else meanwhile, so its partitions wait — the
//! head-of-line blocking of in-place retries), sets it aside and consumes
//! it again once the backoff is over (`retry_topic`), or puts it back at
//! the head of a work queue at once (`requeue`). After `max_attempts`
//! failed attempts it is dead-lettered: counted, and published to the
//! dead-letter queue if there is one.
//!
//! **Membership.** A crashed consumer loses what it holds; a consumer cut
//! off the network finishes what it holds but cannot acknowledge it. A
//! topic's coordinator notices either after the session timeout, removes
//! the member and rebalances; until then the member's partitions are
//! stuck. A work queue's broker closes a crashed consumer's connection at
//! once (the operating system resets it) and a silent one's after the
//! heartbeat timeout, and requeues its unacknowledged messages at the
//! head. Messages handed out again this way are redeliveries: their work
//! may already have been done (at-least-once delivery).
//!
//! **Rebalances** (topics, eager protocol): when the membership changes
//! every member stops taking messages and gives up its partitions; once
//! every member has finished the message in hand (the JoinGroup barrier)
//! and every silent member has been removed, the group waits
//! `rebalance_pause` and the partitions are dealt again.

use sim_core::SimTime;

use super::Sink;
use super::topic::{Hold, MSG_HEAD, Meta, TopicState, published_at, push_message};
use super::{Ev, QueueDef, What};
use crate::kernel::Cx;
use crate::kernel::job::{Job, Reply, Route};
use crate::model::ids::{JobId, QueueId};

/// "No consumer" in a partition's owner.
const NONE: u32 = u32::MAX;

/// The queues of a run, with their definitions: a message that fails for
/// good moves to another queue (its dead-letter queue), so the section is
/// run as a whole.
#[derive(Clone)]
pub struct Queues<'m> {
    pub(super) defs: &'m [QueueDef],
    /// Each queue's state, in file order.
    pub topics: Vec<TopicState>,
    pub(super) nkeys: usize,
}

impl Queues<'_> {
    /// Words per stored message.
    pub(super) fn stride(&self) -> usize {
        MSG_HEAD + self.nkeys
    }

    pub(super) fn queue_ev(
        &mut self,
        at: SimTime,
        queue: usize,
        what: What,
        consumer: usize,
        arg: u32,
        cx: &mut Cx<impl Sink>,
    ) {
        cx.at(
            at,
            Ev {
                queue: queue as u16,
                what,
                consumer: consumer as u32,
                arg,
            },
        );
    }

    /// One of the queues' own events.
    pub fn on(&mut self, e: Ev, cx: &mut Cx<impl Sink>) {
        let (q, c, arg) = (usize::from(e.queue), e.consumer as usize, e.arg);
        match e.what {
            What::Backoff => {
                let cons = &self.topics[q].consumers[c];
                if cons.hold == Hold::Backoff && cons.backoff_seq == arg {
                    self.begin_attempt(q, c, cx);
                }
            }
            What::RetryDue => self.retries_due(q, cx),
            What::Crash => {
                if self.topics[q].consumers[c].life == arg && self.topics[q].consumers[c].up {
                    self.crash_consumer(q, c, cx);
                }
            }
            What::Restart => self.restart_consumer(q, c, arg, cx),
            What::SessionTimeout => self.session_timeout(q, c, arg, cx),
            What::Heal => self.heal_consumer(q, c, cx),
            What::RebalanceDone => self.rebalance_done(q, arg, cx),
        }
    }

    // ------------------------------------------------------------ publish

    /// The job publishes a message with its key values to `queue`.
    pub fn publish(&mut self, j: JobId, queue: usize, key: Option<usize>, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let value = key.map(|k| cx.key(j, k));
        let part = self.pick_partition(queue, value);
        let meta = self.poison_meta(queue);
        let stride = self.stride();
        let def = &self.defs[queue];
        let dropped = push_message(
            &mut self.topics[queue],
            def.retention,
            stride,
            part,
            now,
            meta,
            cx.jobs.keys(j),
        );
        self.stored(queue, now, dropped, cx);
        self.wake(queue, part, cx);
    }

    /// A message of `queue` published `now` was stored, and the one
    /// published at `dropped` dropped to make room, if any: see
    /// [`Queues::track`].
    pub(super) fn stored(
        &self,
        queue: usize,
        now: SimTime,
        dropped: Option<SimTime>,
        cx: &mut Cx<impl Sink>,
    ) {
        self.track(queue, now, true, cx);
        if let Some(t) = dropped {
            self.track(queue, t, false, cx);
        }
    }

    /// A message of `queue` published at `published` enters (`true`) or
    /// leaves the queue (processed, dead-lettered or dropped). A measured
    /// one counts among what the run of an observation window waits for
    /// ([`Jobs::measured_live`](crate::kernel::job::Jobs::measured_live)),
    /// so that a window's end-to-end latency is not cut short, in a queue
    /// with consumers only: a queue without consumers never drains (a
    /// dead-letter queue is for people to read).
    #[inline]
    pub(super) fn track(
        &self,
        queue: usize,
        published: SimTime,
        enters: bool,
        cx: &mut Cx<impl Sink>,
    ) {
        if self.defs[queue].consumers == 0 || !cx.period.measures(published) {
            return;
        }
        if enters {
            cx.jobs.measured_live += 1;
        } else {
            cx.jobs.measured_live -= 1;
        }
    }

    /// The partition of a message whose partition key has `value` (None:
    /// the next partition in turn).
    pub(super) fn pick_partition(&mut self, queue: usize, value: Option<u64>) -> usize {
        let np = self.defs[queue].partitions as usize;
        match value {
            Some(v) => (sim_core::stable_hash(v) % np as u64) as usize,
            None => {
                let t = &mut self.topics[queue];
                t.rr = (t.rr + 1) % np;
                t.rr
            }
        }
    }

    /// A new message's meta word: poison or not (a draw only with a
    /// poison probability).
    pub(super) fn poison_meta(&mut self, queue: usize) -> u64 {
        let p = self.defs[queue].poison_probability;
        let poison = self.topics[queue]
            .poison_rng
            .as_mut()
            .is_some_and(|rng| rng.unit() < p);
        if poison { Meta::POISON } else { 0 }
    }

    /// A message arrived in `part`: its owner (topic) takes it if idle,
    /// or the broker delivers it (work queue).
    pub(super) fn wake(&mut self, queue: usize, part: usize, cx: &mut Cx<impl Sink>) {
        if self.defs[queue].is_work_queue() {
            self.deliver(queue, cx);
        } else {
            let owner = self.topics[queue].owner[part];
            if owner != NONE {
                self.start_consumer(queue, owner as usize, cx);
            }
        }
    }

    // ----------------------------------------------------------- consume

    /// An idle consumer takes its next message: a topic's consumer from
    /// its partitions in turn (a partition's due retries first), a work
    /// queue's from the messages delivered to it.
    pub fn start_consumer(&mut self, queue: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let stride = self.stride();
        let work_queue = self.defs[queue].is_work_queue();
        let t = &mut self.topics[queue];
        let cons = &mut t.consumers[c];
        if !cons.present() || cons.hold != Hold::Idle || (t.paused && !work_queue) {
            return;
        }
        if work_queue {
            if cons.buffer.is_empty() {
                return;
            }
            cons.msg.clear();
            cons.msg.extend(cons.buffer.drain(..stride));
            cons.part = 0;
            self.begin_attempt(queue, c, cx);
            return;
        }
        let n = cons.partitions.len();
        for k in 0..n {
            let pi = cons.partitions[(cons.next + k) % n] as usize;
            let p = &mut t.partitions[pi];
            let lane = if !p.retries.is_empty() {
                &mut p.retries
            } else if !p.msgs.is_empty() {
                &mut p.msgs
            } else {
                continue;
            };
            cons.next = (cons.next + k + 1) % n;
            cons.msg.clear();
            cons.msg.extend(lane.drain(..stride));
            cons.part = pi as u32;
            self.begin_attempt(queue, c, cx);
            return;
        }
    }

    /// The consumer starts an attempt at the message it holds: its work
    /// runs as a new job.
    pub(super) fn begin_attempt(&mut self, queue: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let program = self.defs[queue].program;
        let t = &mut self.topics[queue];
        let cons = &mut t.consumers[c];
        cons.busy_tw.set(now, 1.0);
        let published = published_at(&cons.msg);
        let measured = cx.period.measures(published);
        if cons.msg[1] & Meta::STARTED == 0 {
            cons.msg[1] |= Meta::STARTED;
            if measured {
                t.wait.record(now.saturating_since(published).as_nanos());
            }
        }
        let reply = Reply::Consumer {
            queue: QueueId::new(queue),
            consumer: c as u32,
        };
        let mut job = Job::new(reply, Route::default(), program, now, measured);
        job.born = published;
        let j = cx.jobs.alloc(job);
        let cons = &mut self.topics[queue].consumers[c];
        cons.hold = Hold::Running(j);
        cx.jobs.keys_mut(j).copy_from_slice(&cons.msg[MSG_HEAD..]);
        cx.resume(j, now);
    }

    /// The work of message job `j` ran to its end: the attempt succeeded,
    /// or failed by the queue's failure probability (always, for a poison
    /// message).
    pub fn message_done(&mut self, j: JobId, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let def = &self.defs[q];
        let t = &mut self.topics[q];
        let failed = def.can_fail()
            && (t.consumers[c].msg[1] & Meta::POISON != 0
                || t.fail_rng
                    .as_mut()
                    .is_some_and(|r| r.unit() < def.failure_probability));
        if failed {
            self.message_failed(j, q, c, cx);
        } else if t.consumers[c].cut {
            self.hold_done(q, c, j, false, cx);
        } else {
            self.ack(q, c, cx);
            cx.jobs.release(j);
            self.after_free(q, c, cx);
        }
    }

    /// The message job `j` failed in the middle of its program (its work
    /// threw, or a database statement of it failed): its consumer is free,
    /// and the message is retried or dead-lettered by the queue's policy.
    /// Call it when no event of the job is pending. A job killed earlier
    /// (its consumer crashed or was removed) is only released.
    pub fn message_failed(&mut self, j: JobId, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        if cx.jobs[j].killed {
            cx.jobs.release(j);
            return;
        }
        debug_assert_eq!(self.topics[q].consumers[c].hold, Hold::Running(j));
        if self.topics[q].consumers[c].cut {
            self.hold_done(q, c, j, true, cx);
            return;
        }
        cx.jobs.release(j);
        self.attempt_failed(q, c, cx);
    }

    /// A cut-off consumer finished an attempt: it keeps the message
    /// unacknowledged until it is reachable again or removed.
    pub(super) fn hold_done(
        &mut self,
        q: usize,
        c: usize,
        j: JobId,
        failed: bool,
        cx: &mut Cx<impl Sink>,
    ) {
        let now = cx.now();
        let cons = &mut self.topics[q].consumers[c];
        cons.hold = Hold::Done { failed };
        cons.busy_tw.set(now, 0.0);
        cx.jobs.release(j);
    }

    /// The consumer's message is processed: acknowledged (committed).
    pub(super) fn ack(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let published = published_at(&self.topics[q].consumers[c].msg);
        self.track(q, published, false, cx);
        let t = &mut self.topics[q];
        t.consumed += 1;
        t.lag -= 1;
        t.lag_tw.set(now, t.lag as f64);
        t.lag_series.set(now, t.lag as f64);
        let cons = &mut t.consumers[c];
        if cx.period.measures(published) {
            t.e2e.record(now.saturating_since(published).as_nanos());
        }
        let p = &mut t.partitions[cons.part as usize];
        p.consumed += 1;
        p.lag -= 1;
        p.lag_tw.set(now, p.lag as f64);
        cons.hold = Hold::Idle;
        cons.busy_tw.set(now, 0.0);
    }

    /// The consumer is free again: it takes its next message, or lets a
    /// pending rebalance go on.
    pub(super) fn after_free(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        if self.defs[q].is_work_queue() {
            self.start_consumer(q, c, cx);
            self.deliver(q, cx);
        } else if self.topics[q].paused {
            self.try_join(q, cx);
        } else {
            self.start_consumer(q, c, cx);
        }
    }

    // -------------------------------------------------------- work queues

    /// The broker delivers waiting messages, in turn, to members with
    /// fewer unacknowledged messages than the prefetch count (`retention`
    /// with prefetch 0, "unlimited"); an idle consumer starts on its
    /// delivery at once.
    pub(super) fn deliver(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        let stride = self.stride();
        let def = &self.defs[q];
        // Unlimited prefetch still stops at `retention` messages per
        // consumer, so memory stays bounded.
        let prefetch = match def.prefetch {
            0 => usize::try_from(def.retention).unwrap_or(usize::MAX),
            n => n as usize,
        };
        loop {
            let t = &mut self.topics[q];
            if t.partitions[0].msgs.is_empty() {
                return;
            }
            let n = t.consumers.len();
            let Some(c) = (0..n).map(|k| (t.next_consumer + k) % n).find(|&c| {
                let cons = &t.consumers[c];
                cons.member && cons.unacked(stride) < prefetch
            }) else {
                return;
            };
            t.next_consumer = (c + 1) % n;
            let cons = &mut t.consumers[c];
            cons.buffer.extend(t.partitions[0].msgs.drain(..stride));
            self.start_consumer(q, c, cx);
        }
    }
}

impl Queues<'_> {
    /// The broker's acknowledgement of a publish to `queue`: its latency,
    /// ns (0 without a `publish_latency`).
    pub fn publish_ack(&mut self, queue: usize) -> u64 {
        let def = &self.defs[queue];
        def.publish_latency
            .as_ref()
            .map_or(0, |d| d.sample(&mut self.topics[queue].publish_rng))
    }
}
