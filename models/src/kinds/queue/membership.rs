//! A consumer group's membership: consumer crashes and restarts, network
//! partitions, session (heartbeat) timeouts, and a topic's eager
//! rebalances (see `group.rs` for the whole picture).

use sim_core::SimDuration;

use super::group::Queues;
use super::topic::{Hold, assign};
use super::{Sink, What};
use crate::kernel::Cx;
use crate::kernel::failures::exponential;

/// "No consumer" in a partition's owner.
const NONE: u32 = u32::MAX;

impl Queues<'_> {
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

    pub(super) fn schedule_consumer_crash(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let Some((mtbf, _)) = self.defs[q].consumer_failures else {
            return;
        };
        let now = cx.now();
        let cons = &mut self.topics[q].consumers[c];
        let rng = cons.fail_rng.as_mut().expect("a failure stream");
        let at = now + exponential(rng, mtbf);
        let life = cons.life;
        self.queue_ev(at, q, What::Crash, c, life, cx);
    }

    /// The consumer's process crashes: what it holds is lost (and handed
    /// out again), and it comes back after a repair time.
    pub(super) fn crash_consumer(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
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
            _ => SimDuration::ZERO,
        };
        self.queue_ev(now + repair, q, What::Restart, c, life, cx);
        self.update_stuck(q, cx);
    }

    /// The consumer went silent (crash or cut) from a present state: a
    /// member's session timeout starts.
    pub(super) fn go_silent(
        &mut self,
        q: usize,
        c: usize,
        was_present: bool,
        cx: &mut Cx<impl Sink>,
    ) {
        let now = cx.now();
        let timeout = self.defs[q].session_timeout;
        let cons = &mut self.topics[q].consumers[c];
        if !was_present {
            return;
        }
        cons.absent_seq = cons.absent_seq.wrapping_add(1);
        if cons.member {
            let seq = cons.absent_seq;
            self.queue_ev(now + timeout, q, What::SessionTimeout, c, seq, cx);
        }
    }

    /// A topic consumer loses the message it holds (a crash): its work is
    /// abandoned and the message waits at the head of its partition, to be
    /// read again by the partition's next owner. A message in a blocking
    /// backoff had failed already and is not counted as a redelivery.
    pub(super) fn drop_held(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
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
    pub(super) fn leave(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
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
    pub(super) fn restart_consumer(
        &mut self,
        q: usize,
        c: usize,
        life: u32,
        cx: &mut Cx<impl Sink>,
    ) {
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
    pub(super) fn rejoin(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
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
    pub(super) fn session_timeout(&mut self, q: usize, c: usize, seq: u32, cx: &mut Cx<impl Sink>) {
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
    /// for `length`: the lowest-numbered ones that are present.
    pub fn partition_consumers(
        &mut self,
        q: usize,
        count: u32,
        length: SimDuration,
        cx: &mut Cx<impl Sink>,
    ) {
        let heal = cx.now() + length;
        let victims: Vec<usize> = (0..self.topics[q].consumers.len())
            .filter(|&c| self.topics[q].consumers[c].present())
            .take(count as usize)
            .collect();
        for c in victims {
            self.topics[q].cuts += 1;
            self.topics[q].consumers[c].cut = true;
            self.go_silent(q, c, true, cx);
            self.queue_ev(heal, q, What::Heal, c, 0, cx);
        }
        self.update_stuck(q, cx);
    }

    /// The network partition heals: a consumer still a member
    /// acknowledges what it finished meanwhile and goes on; one already
    /// removed joins again.
    pub(super) fn heal_consumer(&mut self, q: usize, c: usize, cx: &mut Cx<impl Sink>) {
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
    pub(super) fn rebalance(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let t = &mut self.topics[q];
        t.generation = t.generation.wrapping_add(1);
        if !t.paused {
            t.rebalances += 1;
            t.paused = true;
            t.paused_since = now;
            t.paused_series.set(now, 1.0);
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
    pub(super) fn try_join(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
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
    pub(super) fn rebalance_done(&mut self, q: usize, generation: u32, cx: &mut Cx<impl Sink>) {
        let now = cx.now();
        let def = &self.defs[q];
        let t = &mut self.topics[q];
        if t.generation != generation || !t.paused {
            return;
        }
        t.paused = false;
        t.paused_before += now.saturating_since(t.paused_since);
        t.paused_series.set(now, 0.0);
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
    pub(super) fn update_stuck(&mut self, q: usize, cx: &mut Cx<impl Sink>) {
        if self.defs[q].is_work_queue() {
            return;
        }
        let now = cx.now();
        let t = &mut self.topics[q];
        let stuck: usize = t
            .consumers
            .iter()
            .filter(|c| c.member && !c.present())
            .map(|c| c.partitions.len())
            .sum();
        if stuck as f64 != t.stuck_tw.value() {
            t.stuck_tw.set(now, stuck as f64);
        }
    }
}
