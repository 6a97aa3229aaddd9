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
use super::topic::{Hold, MSG_HEAD, Meta, TopicState, assign, push_message};
use super::{Ev, QueueDef, RetryMode, What};
use crate::kernel::Cx;
use crate::kernel::failures::exponential;
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
    fn stride(&self) -> usize {
        MSG_HEAD + self.nkeys
    }

    fn queue_ev(
        &mut self,
        at: u64,
        queue: usize,
        what: What,
        consumer: usize,
        arg: u32,
        cx: &mut Cx<impl Sink>,
    ) {
        cx.at(
            SimTime(at),
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
        let now = cx.now().0;
        let value = key.map(|k| cx.key(j, k));
        let part = self.pick_partition(queue, value);
        let meta = self.poison_meta(queue);
        let stride = self.stride();
        let def = &self.defs[queue];
        push_message(
            &mut self.topics[queue],
            def.retention,
            stride,
            part,
            [now, meta],
            cx.jobs.keys(j),
        );
        self.wake(queue, part, cx);
    }

    /// The partition of a message whose partition key has `value` (None:
    /// the next partition in turn).
    fn pick_partition(&mut self, queue: usize, value: Option<u64>) -> usize {
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
    fn poison_meta(&mut self, queue: usize) -> u64 {
        let p = self.defs[queue].poison_probability;
        let poison = self.topics[queue]
            .poison_rng
            .as_mut()
            .is_some_and(|rng| rng.unit() < p);
        if poison { Meta::POISON } else { 0 }
    }

    /// A message arrived in `part`: its owner (topic) takes it if idle,
    /// or the broker delivers it (work queue).
    fn wake(&mut self, queue: usize, part: usize, cx: &mut Cx<impl Sink>) {
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
    fn begin_attempt(&mut self, queue: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let program = self.defs[queue].program;
        let t = &mut self.topics[queue];
        let cons = &mut t.consumers[c];
        cons.busy_tw.set(SimTime(now), 1.0);
        let published = cons.msg[0];
        let measured = cx.period.measures(SimTime(published));
        if cons.msg[1] & Meta::STARTED == 0 {
            cons.msg[1] |= Meta::STARTED;
            if measured {
                t.wait.record(now - published);
            }
        }
        let reply = Reply::Consumer {
            queue: QueueId::new(queue),
            consumer: c as u32,
        };
        let mut job = Job::new(reply, Route::default(), program, SimTime(now), measured);
        job.born = SimTime(published);
        let j = cx.jobs.alloc(job);
        let cons = &mut self.topics[queue].consumers[c];
        cons.hold = Hold::Running(j);
        cx.jobs.keys_mut(j).copy_from_slice(&cons.msg[MSG_HEAD..]);
        cx.resume(j, SimTime(now));
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
    fn hold_done(&mut self, q: usize, c: usize, j: JobId, failed: bool, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let cons = &mut self.topics[q].consumers[c];
        cons.hold = Hold::Done { failed };
        cons.busy_tw.set(SimTime(now), 0.0);
        cx.jobs.release(j);
    }

    /// The consumer's message is processed: acknowledged (committed).
    fn ack(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let t = &mut self.topics[q];
        t.consumed += 1;
        t.lag -= 1;
        t.lag_tw.set(SimTime(now), t.lag as f64);
        t.lag_series.set(SimTime(now), t.lag as f64);
        let cons = &mut t.consumers[c];
        let published = cons.msg[0];
        if cx.period.measures(SimTime(published)) {
            t.e2e.record(now - published);
        }
        let p = &mut t.partitions[cons.part as usize];
        p.consumed += 1;
        p.lag -= 1;
        p.lag_tw.set(SimTime(now), p.lag as f64);
        cons.hold = Hold::Idle;
        cons.busy_tw.set(SimTime(now), 0.0);
    }

    /// The consumer is free again: it takes its next message, or lets a
    /// pending rebalance go on.
    fn after_free(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        if self.defs[q].is_work_queue() {
            self.start_consumer(q, c, cx);
            self.deliver(q, cx);
        } else if self.topics[q].paused {
            self.try_join(q, cx);
        } else {
            self.start_consumer(q, c, cx);
        }
    }

    /// The consumer's attempt failed (its job is released): retry the
    /// message by the queue's policy, or dead-letter it.
    fn attempt_failed(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
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
            cons.busy_tw.set(SimTime(now), 0.0);
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
                cons.busy_tw.set(SimTime(now), 1.0);
                cons.backoff_seq = cons.backoff_seq.wrapping_add(1);
                let seq = cons.backoff_seq;
                self.queue_ev(now.saturating_add(delay), q, What::Backoff, c, seq, cx);
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
                cons.busy_tw.set(SimTime(now), 0.0);
                let due = now.saturating_add(delay);
                t.delayed_seq += 1;
                t.delayed.insert((due, t.delayed_seq), (part, msg));
                self.queue_ev(due, q, What::RetryDue, 0, 0, cx);
                self.after_free(q, c, cx);
            }
        }
    }

    /// The consumer's held message goes back to the head of its partition
    /// (of the work queue), and the consumer holds nothing.
    fn put_back(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
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
        cons.busy_tw.set(SimTime(now), 0.0);
        cons.hold = Hold::Idle;
    }

    /// Retry-topic messages whose backoff is over are consumed again: on a
    /// topic from their partition's retry lane, on a work queue from the
    /// tail of the queue (a TTL queue dead-letters them back).
    fn retries_due(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
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
    fn dead_letter(&mut self, q: usize, part: usize, msg: &[u64], cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let t = &mut self.topics[q];
        t.dead_lettered += 1;
        t.lag -= 1;
        t.lag_tw.set(SimTime(now), t.lag as f64);
        t.lag_series.set(SimTime(now), t.lag as f64);
        t.dead_series.add(SimTime(now), 1.0);
        let p = &mut t.partitions[part];
        p.lag -= 1;
        p.lag_tw.set(SimTime(now), p.lag as f64);
        let Some(d) = self.defs[q].dead_letter.map(QueueId::ix) else {
            return;
        };
        let keys = &msg[MSG_HEAD..];
        let key = self.defs[d].partition_key.map(|k| keys[k]);
        let dpart = self.pick_partition(d, key);
        let meta = self.poison_meta(d);
        push_message(
            &mut self.topics[d],
            self.defs[d].retention,
            MSG_HEAD + self.nkeys,
            dpart,
            [now, meta],
            keys,
        );
        self.wake(d, dpart, cx);
    }

    // -------------------------------------------------------- work queues

    /// The broker delivers waiting messages, in turn, to members with
    /// fewer unacknowledged messages than the prefetch count (`retention`
    /// with prefetch 0, "unlimited"); an idle consumer starts on its
    /// delivery at once.
    fn deliver(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
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

    // ------------------------------------------------- crashes, partitions

    /// Schedules the first random crash of every consumer of queues with
    /// `consumer_failures`.
    pub fn schedule_consumer_failures(&mut self, cx: &mut Cx<impl Sink>) {
        for q in 0..self.defs.len() {
            if self.defs[q].consumer_failures.is_some() {
                for c in 0..self.topics[q].consumers.len() {
                    self.schedule_consumer_crash(q, c, cx);
                }
            }
        }
    }

    fn schedule_consumer_crash(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let Some((mtbf, _)) = self.defs[q].consumer_failures else {
            return;
        };
        let now = cx.now().0;
        let cons = &mut self.topics[q].consumers[c];
        let rng = cons.fail_rng.as_mut().expect("a failure stream");
        let at = now.saturating_add(exponential(rng, mtbf));
        let life = cons.life;
        self.queue_ev(at, q, What::Crash, c, life, cx);
    }

    /// The consumer's process crashes: what it holds is lost (and handed
    /// out again), and it comes back after a repair time.
    fn crash_consumer(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let work_queue = self.defs[q].is_work_queue();
        let t = &mut self.topics[q];
        t.crashes += 1;
        let cons = &mut t.consumers[c];
        let was_present = cons.present();
        cons.up = false;
        cons.life = cons.life.wrapping_add(1);
        let life = cons.life;
        self.go_silent(q, c, was_present, cx);
        if work_queue {
            // The kernel resets the dead process's connection: the broker
            // requeues its unacknowledged messages at once.
            self.leave(q, c, cx);
            self.deliver(q, cx);
        } else {
            self.drop_held(q, c, cx);
        }
        let mttr = self.defs[q].consumer_failures.map_or(0.0, |f| f.1);
        let cons = &mut self.topics[q].consumers[c];
        let repair = match (&mut cons.fail_rng, mttr > 0.0) {
            (Some(rng), true) => exponential(rng, mttr),
            _ => 0,
        };
        self.queue_ev(now.saturating_add(repair), q, What::Restart, c, life, cx);
        self.update_stuck(q, cx);
    }

    /// The consumer went silent (crash or cut) from a present state: a
    /// member's session timeout starts.
    fn go_silent(&mut self, q: usize, c: usize, was_present: bool, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let timeout = self.defs[q].session_timeout;
        let cons = &mut self.topics[q].consumers[c];
        if !was_present {
            return;
        }
        cons.absent_seq = cons.absent_seq.wrapping_add(1);
        if cons.member {
            let seq = cons.absent_seq;
            self.queue_ev(
                now.saturating_add(timeout),
                q,
                What::SessionTimeout,
                c,
                seq,
                cx,
            );
        }
    }

    /// A topic consumer loses the message it holds (a crash): its work is
    /// abandoned and the message waits at the head of its partition, to be
    /// read again by the partition's next owner. A message in a blocking
    /// backoff had failed already and is not counted as a redelivery.
    fn drop_held(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let hold = self.topics[q].consumers[c].hold;
        match hold {
            Hold::Idle => return,
            Hold::Running(j) => cx.jobs[j].killed = true,
            Hold::Backoff | Hold::Done { .. } => {}
        }
        if hold != Hold::Backoff {
            self.topics[q].redeliveries += 1;
        }
        self.put_back(q, c, cx);
    }

    /// A work queue's broker closes the consumer's connection: its
    /// unacknowledged messages (held and prefetched) go back to the head
    /// of the queue in their order.
    fn leave(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let stride = self.stride();
        let hold = self.topics[q].consumers[c].hold;
        if let Hold::Running(j) = hold {
            cx.jobs[j].killed = true;
        }
        let t = &mut self.topics[q];
        let cons = &mut t.consumers[c];
        cons.member = false;
        let lane = &mut t.partitions[0].msgs;
        let mut n = cons.buffer.len() / stride;
        for &w in cons.buffer.iter().rev() {
            lane.push_front(w);
        }
        cons.buffer.clear();
        if hold != Hold::Idle && hold != Hold::Backoff {
            n += 1;
        }
        t.redeliveries += n as u64;
        self.put_back(q, c, cx);
    }

    /// A crashed consumer's process is back: it joins the group again (a
    /// rebalance) or reconnects to the broker, unless it is cut off.
    fn restart_consumer(&mut self, q: usize, c: usize, life: u32, cx: &mut Cx<impl Sink>) {
        let cons = &mut self.topics[q].consumers[c];
        if cons.life != life || cons.up {
            return;
        }
        cons.up = true;
        self.schedule_consumer_crash(q, c, cx);
        if !self.topics[q].consumers[c].cut {
            self.rejoin(q, c, cx);
        }
    }

    /// A consumer present again after being removed (or restarted) joins:
    /// a topic's group rebalances; a work queue's broker delivers to it.
    fn rejoin(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        self.topics[q].consumers[c].member = true;
        if self.defs[q].is_work_queue() {
            self.deliver(q, cx);
        } else {
            self.rebalance(q, cx);
        }
    }

    /// The coordinator (the broker) has not heard from a silent member
    /// for the session (heartbeat) timeout: it is removed, and what it
    /// held is handed out again.
    fn session_timeout(&mut self, q: usize, c: usize, seq: u32, cx: &mut Cx<impl Sink>) {
        let cons = &self.topics[q].consumers[c];
        if cons.absent_seq != seq || cons.present() || !cons.member {
            return;
        }
        self.topics[q].session_timeouts += 1;
        if self.defs[q].is_work_queue() {
            self.leave(q, c, cx);
            self.deliver(q, cx);
        } else {
            if let Hold::Running(j) = self.topics[q].consumers[c].hold {
                // The cut-off consumer's work goes on, wasted: its commit
                // will be refused.
                cx.jobs[j].killed = true;
            }
            self.drop_held(q, c, cx);
            self.topics[q].consumers[c].member = false;
            self.rebalance(q, cx);
        }
        self.update_stuck(q, cx);
    }

    /// A scheduled network partition cuts `count` consumers of `q` off
    /// for `length` ns: the lowest-numbered ones that are present.
    pub fn partition_consumers(
        &mut self,
        q: usize,
        count: u32,
        length: u64,
        cx: &mut Cx<impl Sink>,
    ) {
        let now = cx.now().0;
        let victims: Vec<usize> = (0..self.topics[q].consumers.len())
            .filter(|&c| self.topics[q].consumers[c].present())
            .take(count as usize)
            .collect();
        for c in victims {
            self.topics[q].cuts += 1;
            self.topics[q].consumers[c].cut = true;
            self.go_silent(q, c, true, cx);
            self.queue_ev(now.saturating_add(length), q, What::Heal, c, 0, cx);
        }
        self.update_stuck(q, cx);
    }

    /// The network partition heals: a consumer still a member
    /// acknowledges what it finished meanwhile and goes on; one already
    /// removed joins again.
    fn heal_consumer(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let cons = &mut self.topics[q].consumers[c];
        cons.cut = false;
        if !cons.up {
            self.update_stuck(q, cx);
            return;
        }
        if !cons.member {
            self.rejoin(q, c, cx);
            self.update_stuck(q, cx);
            return;
        }
        match cons.hold {
            Hold::Done { failed: false } => {
                self.ack(q, c, cx);
                self.after_free(q, c, cx);
            }
            Hold::Done { failed: true } => self.attempt_failed(q, c, cx),
            _ => self.after_free(q, c, cx),
        }
        self.update_stuck(q, cx);
    }

    // ---------------------------------------------------------- rebalance

    /// The group's membership changed: an eager rebalance starts. Every
    /// member stops taking messages and gives up its partitions; a
    /// consumer in a blocking backoff seeks back to its failed record. A
    /// change during a rebalance joins it (the members rejoin the same
    /// round, as Kafka's coordinator does while preparing a rebalance):
    /// its pause starts again once the barrier is passed, and it counts
    /// as one rebalance.
    fn rebalance(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let t = &mut self.topics[q];
        t.generation = t.generation.wrapping_add(1);
        if !t.paused {
            t.rebalances += 1;
            t.paused = true;
            t.paused_since = now;
            t.paused_series.set(SimTime(now), 1.0);
        }
        for c in 0..self.topics[q].consumers.len() {
            let cons = &mut self.topics[q].consumers[c];
            cons.partitions.clear();
            if cons.hold == Hold::Backoff {
                self.put_back(q, c, cx);
            }
        }
        self.topics[q].owner.fill(NONE);
        self.update_stuck(q, cx);
        self.try_join(q, cx);
    }

    /// The rebalance goes on once no present member is running a message
    /// and no silent member is left in the group: then, after the pause,
    /// the partitions are dealt.
    fn try_join(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let t = &mut self.topics[q];
        if !t.paused || t.join_scheduled == t.generation {
            return;
        }
        let waiting = t
            .consumers
            .iter()
            .any(|c| c.member && (!c.present() || matches!(c.hold, Hold::Running(_))));
        if waiting {
            return;
        }
        t.join_scheduled = t.generation;
        let generation = t.generation;
        let pause = self.defs[q].rebalance_pause;
        self.queue_ev(now + pause, q, What::RebalanceDone, 0, generation, cx);
    }

    /// The rebalance of `generation` ends (unless a later one started):
    /// the members get their partitions and resume.
    fn rebalance_done(&mut self, q: usize, generation: u32, cx: &mut Cx<impl Sink>) {
        let now = cx.now().0;
        let def = &self.defs[q];
        let t = &mut self.topics[q];
        if t.generation != generation || !t.paused {
            return;
        }
        t.paused = false;
        t.paused_ns += now - t.paused_since;
        t.paused_series.set(SimTime(now), 0.0);
        let members: Vec<u32> = (0..t.consumers.len() as u32)
            .filter(|&c| t.consumers[c as usize].member)
            .collect();
        assign(def.assignor, &members, &mut t.consumers, &mut t.owner);
        self.update_stuck(q, cx);
        for c in members {
            self.start_consumer(q, c as usize, cx);
        }
    }

    /// Partitions assigned to members that are silent: nobody reads them.
    fn update_stuck(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        if self.defs[q].is_work_queue() {
            return;
        }
        let now = cx.now().0;
        let t = &mut self.topics[q];
        let stuck: usize = t
            .consumers
            .iter()
            .filter(|c| c.member && !c.present())
            .map(|c| c.partitions.len())
            .sum();
        if stuck as f64 != t.stuck_tw.value() {
            t.stuck_tw.set(SimTime(now), stuck as f64);
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
