//! Run-time state of each component kind, and its statistics.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use sim_core::stats::{
    CoarseHistogram, CountSeries, GaugeSeries, LatencyHistogram, LatencySeries, SeriesSpec,
    TimeWeighted,
};
use sim_core::{RngStream, SimTime};

use super::cache::Fetches;
use super::store::Store;

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

/// A queue partition: messages stored flat as `[published_at, keys...]`.
#[derive(Clone)]
pub struct Partition {
    pub msgs: VecDeque<u64>,
    pub published: u64,
}

/// A consumer of a group.
#[derive(Clone)]
pub struct Consumer {
    pub partitions: Vec<u32>,
    pub next: usize,
    pub busy: bool,
    pub busy_tw: TimeWeighted,
}

/// A topic with its consumer group.
#[derive(Clone)]
pub struct TopicState {
    pub partitions: Vec<Partition>,
    pub consumers: Vec<Consumer>,
    pub owner: Vec<u32>,
    pub rr: usize,
    pub published: u64,
    pub consumed: u64,
    pub dropped: u64,
    pub lag: u64,
    pub lag_tw: TimeWeighted,
    pub lag_series: GaugeSeries,
    pub e2e: LatencyHistogram,
    pub publish_rng: RngStream,
}

impl TopicState {
    /// Partitions are dealt to the first `min(consumers, partitions)`
    /// consumers in turn (partition p to consumer p mod active); the rest
    /// of the group stays idle, as in Kafka.
    pub fn new(partitions: u32, consumers: u32, spec: SeriesSpec, publish_rng: RngStream) -> Self {
        let active = consumers.min(partitions);
        let mut cons: Vec<Consumer> = (0..consumers)
            .map(|_| Consumer {
                partitions: Vec::new(),
                next: 0,
                busy: false,
                busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            })
            .collect();
        let mut owner = Vec::new();
        for p in 0..partitions {
            if active > 0 {
                let c = p % active;
                cons[c as usize].partitions.push(p);
                owner.push(c);
            } else {
                owner.push(u32::MAX);
            }
        }
        TopicState {
            partitions: (0..partitions)
                .map(|_| Partition {
                    msgs: VecDeque::new(),
                    published: 0,
                })
                .collect(),
            consumers: cons,
            owner,
            rr: 0,
            published: 0,
            consumed: 0,
            dropped: 0,
            lag: 0,
            lag_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            lag_series: GaugeSeries::new(spec),
            e2e: LatencyHistogram::new(),
            publish_rng,
        }
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
    pub latency_series: LatencySeries,
}
