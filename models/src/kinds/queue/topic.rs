//! A queue's state: its partitions (a work queue has one: its FIFO) with
//! the messages stored flat, its consumer group, and Kafka's assignors.

use std::collections::{BTreeMap, VecDeque};

use sim_core::stats::{CountSeries, GaugeSeries, LatencyHistogram, LatencySummary, TimeWeighted};
use sim_core::{RngStream, SimDuration, SimTime};

use super::{Assignor, QueueDef};
use crate::kernel::Cx;
use crate::kernel::cx::{Event, Period};
use crate::model::ids::JobId;

/// A queue partition (a work queue has one: its FIFO). Messages are
/// stored flat, [`MSG_HEAD`] words (the publish time in ns, read with
/// [`published_at`], and the [`Meta`] bits) and then the message's key
/// values.
#[derive(Clone)]
pub struct Partition {
    pub msgs: VecDeque<u64>,
    /// Topics with retry topics: messages whose backoff is over, flat like
    /// `msgs`; the owner takes them before `msgs`.
    pub retries: VecDeque<u64>,
    pub published: u64,
    pub consumed: u64,
    /// Messages published here and not processed yet (waiting, held by a
    /// consumer, or waiting for a retry).
    pub lag: u64,
    pub lag_tw: TimeWeighted,
}

/// Words before the keys of a stored message: its publish time and its
/// [`Meta`] bits.
pub const MSG_HEAD: usize = 2;

/// When the stored message `msg` (flat, as in a partition) was published.
#[inline]
pub fn published_at(msg: &[u64]) -> SimTime {
    SimTime(msg[0])
}

/// The meta word of a stored message.
pub struct Meta;

impl Meta {
    /// Failed attempts so far (low 32 bits).
    pub const FAILED: u64 = 0xffff_ffff;
    /// A poison message: every attempt fails.
    pub const POISON: u64 = 1 << 32;
    /// Its first attempt has started (its wait was measured).
    pub const STARTED: u64 = 1 << 33;
}

/// What a consumer does with the message it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// Nothing held.
    Idle,
    /// Its work runs as this job.
    Running(JobId),
    /// A blocking retry: it sleeps the backoff, then tries again.
    Backoff,
    /// Cut off from the broker, it finished the work (and it failed or
    /// not) but cannot acknowledge it.
    Done { failed: bool },
}

/// A consumer of a group.
#[derive(Clone)]
pub struct Consumer {
    /// Topics: the partitions assigned to it (a work queue: `[0]`).
    pub partitions: Vec<u32>,
    pub next: usize,
    pub hold: Hold,
    /// Occupied: running a message's work or sleeping a blocking backoff.
    pub busy_tw: TimeWeighted,
    /// The message held (flat, as stored), when `hold` is not idle.
    pub msg: Vec<u64>,
    /// The partition the held message came from.
    pub part: u32,
    /// Work queues: messages delivered under the prefetch count and not
    /// started yet, flat.
    pub buffer: VecDeque<u64>,
    /// The process runs (not crashed).
    pub up: bool,
    /// Cut off the network by a fault.
    pub cut: bool,
    /// The coordinator (topics) or the broker (work queues) counts it in:
    /// false once a crash or a silence longer than the session timeout
    /// was noticed, until it is back.
    pub member: bool,
    /// Incremented at every crash: events of an earlier life are ignored.
    pub life: u32,
    /// Incremented each time it goes silent (crash or cut from a present
    /// state): its session timeout event carries it.
    pub absent_seq: u32,
    /// Incremented at every blocking backoff.
    pub backoff_seq: u32,
    pub fail_rng: Option<RngStream>,
}

impl Consumer {
    /// Up and reachable.
    pub fn present(&self) -> bool {
        self.up && !self.cut
    }

    /// Messages delivered to it and not acknowledged (work queues).
    pub fn unacked(&self, stride: usize) -> usize {
        self.buffer.len() / stride + usize::from(self.hold != Hold::Idle)
    }
}

/// A queue (topic or work queue) with its consumer group.
#[derive(Clone)]
pub struct TopicState {
    pub partitions: Vec<Partition>,
    pub consumers: Vec<Consumer>,
    /// Topics: the consumer each partition is assigned to (`u32::MAX`:
    /// none, e.g. during a rebalance).
    pub owner: Vec<u32>,
    /// Next partition, publishing without a key.
    pub rr: usize,
    /// Next consumer a work queue's broker delivers to.
    pub next_consumer: usize,
    pub published: u64,
    pub consumed: u64,
    pub dropped: u64,
    /// Messages that failed `max_attempts` times.
    pub dead_lettered: u64,
    pub lag: u64,
    pub lag_tw: TimeWeighted,
    pub lag_series: GaugeSeries,
    pub e2e: LatencyHistogram,
    /// Publish to the start of the first attempt (measured messages).
    pub wait: LatencyHistogram,
    pub publish_rng: RngStream,
    /// Draws of failed attempts (with a failure probability).
    pub fail_rng: Option<RngStream>,
    /// Draws of poison messages at publish (with a poison probability).
    pub poison_rng: Option<RngStream>,
    pub failed_attempts: u64,
    pub retries: u64,
    pub redeliveries: u64,
    pub crashes: u64,
    pub cuts: u64,
    pub session_timeouts: u64,
    pub rebalances: u64,
    /// Every consumer stopped for a rebalance since `paused_since`.
    pub paused: bool,
    pub paused_since: SimTime,
    /// Time paused before `paused_since`.
    pub paused_before: SimDuration,
    pub paused_series: GaugeSeries,
    /// Rebalances started (the group's generation).
    pub generation: u32,
    /// The generation whose end is scheduled (`u32::MAX`: none).
    pub join_scheduled: u32,
    /// Partitions assigned to a member that crashed or was cut off and is
    /// not yet removed: nobody reads them.
    pub stuck_tw: TimeWeighted,
    pub dead_series: CountSeries,
    /// Retry-topic messages waiting for their backoff: (due, sequence) ->
    /// (partition, flat message).
    pub delayed: BTreeMap<(SimTime, u64), (u32, Vec<u64>)>,
    pub delayed_seq: u64,
}

impl TopicState {
    /// A queue as its group starts: topics deal their partitions to the
    /// consumers with the queue's assignor (round robin: partition p to
    /// consumer p mod consumers); consumers beyond the partition count
    /// stay idle, as in Kafka. Every consumer of a work queue takes from
    /// its one FIFO.
    pub fn new(def: &QueueDef, cx: &Cx<impl Event>) -> Self {
        let spec = cx.spec;
        let rng = |purpose: &str| cx.stream(&format!("queue/{}/{purpose}", def.name));
        let mut consumers: Vec<Consumer> = (0..def.consumers)
            .map(|i| Consumer {
                partitions: if def.is_work_queue() {
                    vec![0]
                } else {
                    Vec::new()
                },
                next: 0,
                hold: Hold::Idle,
                busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
                msg: Vec::new(),
                part: 0,
                buffer: VecDeque::new(),
                up: true,
                cut: false,
                member: true,
                life: 0,
                absent_seq: 0,
                backoff_seq: 0,
                fail_rng: def
                    .consumer_failures
                    .map(|_| rng(&format!("consumer/{i}/failures"))),
            })
            .collect();
        let mut owner = vec![u32::MAX; def.partitions as usize];
        if !def.is_work_queue() {
            let members: Vec<u32> = (0..def.consumers).collect();
            assign(def.assignor, &members, &mut consumers, &mut owner);
        }
        TopicState {
            partitions: (0..def.partitions)
                .map(|_| Partition {
                    msgs: VecDeque::new(),
                    retries: VecDeque::new(),
                    published: 0,
                    consumed: 0,
                    lag: 0,
                    lag_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
                })
                .collect(),
            consumers,
            owner,
            rr: 0,
            next_consumer: 0,
            published: 0,
            consumed: 0,
            dropped: 0,
            dead_lettered: 0,
            lag: 0,
            lag_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            lag_series: GaugeSeries::new(spec),
            e2e: LatencyHistogram::new(),
            wait: LatencyHistogram::new(),
            publish_rng: rng("publish"),
            fail_rng: (def.failure_probability > 0.0).then(|| rng("failures")),
            poison_rng: (def.poison_probability > 0.0).then(|| rng("poison")),
            failed_attempts: 0,
            retries: 0,
            redeliveries: 0,
            crashes: 0,
            cuts: 0,
            session_timeouts: 0,
            rebalances: 0,
            paused: false,
            paused_since: SimTime::ZERO,
            paused_before: SimDuration::ZERO,
            paused_series: GaugeSeries::new(spec),
            generation: 0,
            join_scheduled: u32::MAX,
            stuck_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            dead_series: CountSeries::new(spec),
            delayed: BTreeMap::new(),
            delayed_seq: 0,
        }
    }

    /// The warm-up is over: lag statistics restart at `now`.
    pub fn reset(&mut self, now: SimTime) {
        self.lag_tw.reset(now);
        for p in &mut self.partitions {
            p.lag_tw.reset(now);
        }
        for c in &mut self.consumers {
            c.busy_tw.reset(now);
        }
    }

    /// When each message still in the queue at the end was published:
    /// waiting in a partition or its retry lane, delivered to a consumer
    /// and not acknowledged, or waiting for a retry's backoff.
    fn unprocessed(&self, stride: usize) -> impl Iterator<Item = SimTime> + '_ {
        // A flat message's first word is its publish time.
        fn starts(flat: &VecDeque<u64>, stride: usize) -> impl Iterator<Item = SimTime> + '_ {
            flat.iter().step_by(stride).map(|&t| SimTime(t))
        }
        let waiting = self
            .partitions
            .iter()
            .flat_map(move |p| starts(&p.msgs, stride).chain(starts(&p.retries, stride)));
        let held = self.consumers.iter().flat_map(move |c| {
            let msg = (c.hold != Hold::Idle).then(|| published_at(&c.msg));
            msg.into_iter().chain(starts(&c.buffer, stride))
        });
        let delayed = self.delayed.values().map(|(_, m)| published_at(m));
        waiting.chain(held).chain(delayed)
    }

    /// The end-to-end latency of the messages published in the measured
    /// period: those processed, and those still in the queue when the run
    /// stopped at `end`, counted at their age then (a lower bound on what
    /// they will take). Leaving the latter out would read a queue that
    /// never catches up as fast: its slowest messages are the ones never
    /// processed. A queue without consumers has none.
    pub fn end_to_end(&self, consumers: u32, stride: usize, period: &Period) -> LatencySummary {
        if consumers == 0 {
            return self.e2e.summary();
        }
        let mut e2e = self.e2e.clone();
        for published in self.unprocessed(stride) {
            if period.measures(published) {
                e2e.record(period.end.saturating_since(published).as_nanos());
            }
        }
        e2e.summary()
    }
}

/// Deals a topic's partitions to `members` (consumer indices, ascending)
/// as Kafka's assignors do, replacing every consumer's assignment.
pub fn assign(assignor: Assignor, members: &[u32], consumers: &mut [Consumer], owner: &mut [u32]) {
    for c in consumers.iter_mut() {
        c.partitions.clear();
        c.next = 0;
    }
    let (n, np) = (members.len(), owner.len());
    for (p, o) in owner.iter_mut().enumerate() {
        *o = u32::MAX;
        if n == 0 {
            continue;
        }
        let m = match assignor {
            Assignor::RoundRobin => p % n,
            // The first `np mod n` members take `np / n + 1` partitions.
            Assignor::Range => {
                let (base, extra) = (np / n, np % n);
                let big = extra * (base + 1);
                if p < big {
                    p / (base + 1)
                } else {
                    extra + (p - big) / base.max(1)
                }
            }
        };
        let c = members[m];
        *o = c;
        consumers[c as usize].partitions.push(p as u32);
    }
}

/// Appends a message published `now` with `meta` bits to partition `part`
/// of `t`, dropping the partition's oldest waiting message first when it
/// holds `retention` already: returns when the dropped message was
/// published.
#[must_use = "a dropped measured message leaves the window's count"]
pub fn push_message(
    t: &mut TopicState,
    retention: u64,
    stride: usize,
    part: usize,
    now: SimTime,
    meta: u64,
    keys: &[u64],
) -> Option<SimTime> {
    let p = &mut t.partitions[part];
    let mut dropped = None;
    if (p.msgs.len() / stride) as u64 >= retention {
        dropped = Some(SimTime(p.msgs[0]));
        p.msgs.drain(..stride);
        p.lag -= 1;
        t.dropped += 1;
        t.lag -= 1;
    }
    p.msgs.extend([now.as_nanos(), meta]);
    p.msgs.extend(keys);
    p.published += 1;
    p.lag += 1;
    p.lag_tw.set(now, p.lag as f64);
    t.published += 1;
    t.lag += 1;
    t.lag_tw.set(now, t.lag as f64);
    t.lag_series.set(now, t.lag as f64);
    dropped
}
