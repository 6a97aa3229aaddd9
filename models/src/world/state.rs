//! Run-time state of each component kind, and its statistics.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

use sim_core::stats::{
    CoarseHistogram, CountSeries, GaugeSeries, LatencyHistogram, LatencySeries, SeriesSpec,
    TimeWeighted,
};
use sim_core::{RngStream, SimTime};

use super::cache::Fetches;
pub use crate::kernel::failures::{Health, SlowDowns, scaled};
use crate::kernel::store::Store;
use crate::kinds::queue::Assignor;
use crate::kinds::queue::QueueDef;

/// Where a pod is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Requested (by the autoscaler) or restarting: not ready yet.
    Starting,
    /// Serving.
    Ready,
    /// Crashed: anything sent to it fails until it restarts.
    Down,
    /// Scaled down: finishes what it holds, takes nothing new.
    Draining,
    /// Gone: its slot may be reused by a new pod.
    Gone,
}

/// A pod: workers and a FIFO waiting room.
#[derive(Clone)]
pub struct Pod {
    pub phase: Phase,
    /// Balancers send to it: it was ready since it was created and is not
    /// draining (a crashed pod stays registered until a health check
    /// notices).
    pub registered: bool,
    /// Incremented when the pod crashes or goes: events of an earlier
    /// life are ignored.
    pub life: u32,
    pub busy: u32,
    pub queue: VecDeque<u32>,
    pub busy_tw: TimeWeighted,
    pub queue_tw: TimeWeighted,
    pub requests: u64,
    pub rejected: u64,
    /// Requests lost because the pod crashed, or sent to it while down.
    pub aborted: u64,
    pub crashes: u64,
    pub fail_rng: Option<RngStream>,
}

impl Pod {
    pub fn new(phase: Phase) -> Self {
        Pod {
            phase,
            registered: phase == Phase::Ready,
            life: 0,
            busy: 0,
            queue: VecDeque::new(),
            busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            queue_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            requests: 0,
            rejected: 0,
            aborted: 0,
            crashes: 0,
            fail_rng: None,
        }
    }

    /// Requests in flight at this pod (busy + waiting), for least-connections.
    pub fn load(&self) -> usize {
        self.busy as usize + self.queue.len()
    }
}

/// A service's pods and service-wide gauges.
#[derive(Clone)]
pub struct SvcState {
    pub pods: Vec<Pod>,
    pub rr: usize,
    pub busy_total: u64,
    pub queued_total: u64,
    pub queued_tw: TimeWeighted,
    pub wait_sum_ns: f64,
    pub wait_n: u64,
    pub util_series: GaugeSeries,
    pub queue_series: GaugeSeries,
    /// Pods can come and go (autoscaling, crashes).
    pub dynamic: bool,
    /// An autoscaler watches it (the `hpa_*` gauges are kept).
    pub hpa: bool,
    /// Ready pods now.
    pub ready: u32,
    /// Pods paid for now (requested and not gone).
    pub billed: u32,
    pub ready_tw: TimeWeighted,
    pub billed_tw: TimeWeighted,
    /// Never reset: the autoscaler's view (busy workers, ready pods,
    /// waiting requests) and their integrals at its last decision.
    pub hpa_busy: TimeWeighted,
    pub hpa_ready: TimeWeighted,
    pub hpa_queued: TimeWeighted,
    pub hpa_last: (f64, f64, f64),
    /// When the autoscaler last decided.
    pub hpa_last_at: u64,
    /// (time, desired) recommendations inside the scale-down window.
    pub hpa_recs: VecDeque<(u64, u32)>,
    pub ready_series: GaugeSeries,
    pub billed_series: GaugeSeries,
    /// Scaling decisions: (time ns, from, to, metric per pod).
    pub scale_events: Vec<(u64, u32, u32, f64)>,
    pub startup_rng: Option<RngStream>,
    pub aborted: u64,
    /// Who holds which session (with `sessions`).
    pub sessions: Option<super::sessions::SessionTable>,
}

impl SvcState {
    /// Workers of ready pods (at least 1, for ratios).
    pub fn capacity(&self, concurrency: u32) -> f64 {
        f64::from(self.ready.max(1)) * f64::from(concurrency)
    }
}

/// A balancer's view of one pod, from its health checks.
#[derive(Clone, Copy)]
pub struct PodView {
    pub healthy: bool,
    pub fails: u32,
    pub oks: u32,
}

impl PodView {
    /// A pod just registered: healthy, no checks yet.
    pub const FRESH: PodView = PodView {
        healthy: true,
        fails: 0,
        oks: 0,
    };

    /// Grows `views` to cover `n` pod slots, new ones fresh.
    pub fn cover(views: &mut Vec<PodView>, n: usize) {
        if views.len() < n {
            views.resize(n, PodView::FRESH);
        }
    }
}

/// A load balancer.
#[derive(Clone)]
pub struct LbState {
    pub rr: usize,
    pub in_flight: u64,
    pub tw: TimeWeighted,
    pub requests: u64,
    pub rejected: u64,
    pub rng: Option<RngStream>,
    /// Per pod slot, what the health checks concluded.
    pub views: Vec<PodView>,
    /// Smooth weighted round robin: current weight per pod slot.
    pub current: Vec<i64>,
    pub pick_rng: Option<RngStream>,
    /// Consistent-hash ring: (point, pod slot), sorted.
    pub ring: Vec<(u64, u32)>,
    /// Scratch list of routable pods.
    pub scratch: Vec<u32>,
    /// Requests sent to a crashed pod before a health check took it out.
    pub sent_to_down: u64,
    /// Times a health check took a pod out.
    pub marked_down: u64,
    /// The gateway's token buckets (with a `rate_limit`).
    pub limiter: Option<super::gateway::Limiter>,
    /// Requests refused by the rate limiter (HTTP 429).
    pub rate_limited: u64,
}

/// A cache.
#[derive(Clone)]
pub struct CacheState {
    pub store: Store,
    pub hits: u64,
    pub misses: u64,
    pub hit_rng: RngStream,
    pub miss_rng: RngStream,
    pub fill_rng: RngStream,
    pub hits_series: CountSeries,
    pub lookups_series: CountSeries,
    /// Store counters at the warm-up instant (results report the difference).
    pub base: (u64, u64, u64),
    /// Keys being fetched, coalescing and stampede counters (cache.rs).
    pub fetches: Fetches,
    /// Draws of write-through stores.
    pub write_rng: RngStream,
    /// Per node, failures and slow-downs; empty when no failure or fault
    /// can touch the cache (then keys are not mapped to nodes).
    pub nodes: Vec<Health>,
    /// Lookups that failed because their key's node was down.
    pub errors: u64,
    /// Keys lost when their node went down.
    pub keys_lost: u64,
}

/// A connection pool: `connections` statements execute at once, the rest
/// wait FIFO. Each database node (a shard's primary, each replica) has one.
#[derive(Clone)]
pub struct Pool {
    pub busy: u32,
    /// Waiting statements (ids into [`Stmts`]).
    pub queue: VecDeque<u32>,
    pub busy_tw: TimeWeighted,
    pub queue_tw: TimeWeighted,
    /// Waits for a connection, counted when one is obtained (0 at once).
    pub wait_sum_ns: f64,
    pub wait_n: u64,
    pub wait_hist: CoarseHistogram,
}

impl Pool {
    pub fn new() -> Self {
        Pool {
            busy: 0,
            queue: VecDeque::new(),
            busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            queue_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            wait_sum_ns: 0.0,
            wait_n: 0,
            wait_hist: CoarseHistogram::new(),
        }
    }

    /// The warm-up is over: statistics restart at `now`.
    pub fn reset(&mut self, now: SimTime) {
        self.busy_tw.reset(now);
        self.queue_tw.reset(now);
        self.wait_sum_ns = 0.0;
        self.wait_n = 0;
        self.wait_hist.reset();
    }
}

/// A read replica of a shard: its own pool, and the writes it has not
/// applied yet (asynchronous replication).
///
/// A write committed on the primary at `t` becomes visible here at
/// `t + lag` (a fresh draw per write and replica), but never before an
/// earlier write of the same row: a replica applies a row's writes in
/// order. A read of a row is stale when a write of that row is not visible
/// yet. Only rows with a write still in flight are remembered, so memory is
/// the replication backlog (write rate x mean lag, by Little's law), not
/// the key space or the run's length.
#[derive(Clone)]
pub struct Replica {
    pub pool: Pool,
    pub reads: u64,
    pub stale_reads: u64,
    pub read_rng: RngStream,
    pub lag_rng: RngStream,
    /// Row (routing key id, value) -> when its latest write becomes
    /// visible; only rows with a write not visible yet. Looked up, never
    /// iterated.
    pub pending: HashMap<(u32, u64), u64>,
    /// The same writes as (visible at, key id, value), earliest first, to
    /// forget them once visible.
    pub backlog: BinaryHeap<Reverse<(u64, u32, u64)>>,
    /// Replication lag of each write: from its commit on the primary to
    /// its visibility here (read_from other than primary only).
    pub lag_hist: CoarseHistogram,
}

impl Replica {
    /// Forgets writes visible by `now`.
    pub fn forget_visible(&mut self, now: u64) {
        while let Some(&Reverse((at, key, value))) = self.backlog.peek() {
            if at > now {
                break;
            }
            self.backlog.pop();
            if self.pending.get(&(key, value)) == Some(&at) {
                self.pending.remove(&(key, value));
            }
        }
    }
}

/// A database shard: the primary's pool, and its read replicas.
#[derive(Clone)]
pub struct Shard {
    pub primary: Pool,
    /// Reads routed to the shard (primary and replicas, scatter included).
    pub reads: u64,
    pub writes: u64,
    /// Reads served by replicas.
    pub replica_reads: u64,
    pub stale_reads: u64,
    /// Next node to read from (`read_from` replicas or round robin).
    pub rr: u32,
    pub read_rng: RngStream,
    pub write_rng: RngStream,
    pub util_series: GaugeSeries,
    pub ops_series: CountSeries,
    pub replicas: Vec<Replica>,
    /// The primary's failures and slow-downs.
    pub health: Health,
    /// Slow-down factors in effect on the replicas.
    pub replica_slow: SlowDowns,
    /// Statements that failed: sent while the primary was down, or
    /// waiting or running on it when it went down.
    pub failed: u64,
}

/// A database.
#[derive(Clone)]
pub struct DbState {
    pub shards: Vec<Shard>,
}

/// A statement in flight: waiting for a connection or executing.
#[derive(Clone, Copy)]
pub struct Stmt {
    pub job: u32,
    pub db: u32,
    pub shard: u32,
    /// 0: the primary; `r + 1`: replica `r`.
    pub node: u32,
    pub write: bool,
    /// The row: routing key id ([`NO_ROW`] for a scatter's reads) and value.
    pub key: u32,
    pub value: u64,
    pub wait_from: u64,
    /// Its node went down while it ran: it already failed, and its end
    /// only frees its slot.
    pub dead: bool,
}

/// [`Stmt::key`] of a read that is not of one row (a scatter's).
pub const NO_ROW: u32 = u32::MAX;

/// Statements in flight, in a slab whose free slots are reused.
#[derive(Clone, Default)]
pub struct Stmts {
    pub slab: Vec<Stmt>,
    pub free: Vec<u32>,
}

impl Stmts {
    pub fn alloc(&mut self, s: Stmt) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = s;
                i
            }
            None => {
                self.slab.push(s);
                (self.slab.len() - 1) as u32
            }
        }
    }
}

/// A queue partition (a work queue has one: its FIFO). Messages are
/// stored flat, [`MSG_HEAD`] words (`published_at`, [`Meta`] bits) and
/// then the message's key values.
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
    Running(u32),
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
    pub paused_since: u64,
    /// Time paused before `paused_since`, ns.
    pub paused_ns: u64,
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
    pub delayed: BTreeMap<(u64, u64), (u32, Vec<u64>)>,
    pub delayed_seq: u64,
}

impl TopicState {
    /// A queue as its group starts: topics deal their partitions to the
    /// consumers with the queue's assignor (round robin: partition p to
    /// consumer p mod consumers); consumers beyond the partition count
    /// stay idle, as in Kafka. Every consumer of a work queue takes from
    /// its one FIFO.
    pub fn new(def: &QueueDef, seed: u64, spec: SeriesSpec) -> Self {
        let rng = |purpose: &str| RngStream::new(seed, &format!("queue/{}/{purpose}", def.name));
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
            paused_since: 0,
            paused_ns: 0,
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

/// Per-endpoint statistics over the measured period.
#[derive(Clone)]
pub struct EpStats {
    pub count: u64,
    pub ok: u64,
    pub timeouts: u64,
    pub rejected: u64,
    pub latency: LatencyHistogram,
    pub ok_series: CountSeries,
    pub timeout_series: CountSeries,
    pub rejected_series: CountSeries,
    /// Failed because their pod crashed or was down (HTTP 502).
    pub aborted: u64,
    pub aborted_series: CountSeries,
    /// Refused by a gateway's rate limiter (HTTP 429).
    pub rate_limited: u64,
    pub rate_limited_series: CountSeries,
    pub latency_series: LatencySeries,
}
