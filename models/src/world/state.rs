//! Run-time state of each component kind, and its statistics.

use std::collections::VecDeque;

use sim_core::stats::{
    CountSeries, GaugeSeries, LatencyHistogram, LatencySeries, SeriesSpec, TimeWeighted,
};
use sim_core::{RngStream, SimTime};

use super::lru::Lru;

/// A pod: workers and a FIFO waiting room.
#[derive(Clone)]
pub struct Pod {
    pub busy: u32,
    pub queue: VecDeque<u32>,
    pub busy_tw: TimeWeighted,
    pub queue_tw: TimeWeighted,
    pub requests: u64,
    pub rejected: u64,
}

impl Pod {
    pub fn new() -> Self {
        Pod {
            busy: 0,
            queue: VecDeque::new(),
            busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            queue_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            requests: 0,
            rejected: 0,
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
}

/// A cache.
#[derive(Clone)]
pub struct CacheState {
    pub lru: Lru,
    pub hits: u64,
    pub misses: u64,
    pub hit_rng: RngStream,
    pub miss_rng: RngStream,
    pub fill_rng: RngStream,
    pub hits_series: CountSeries,
    pub lookups_series: CountSeries,
    /// LRU counters at the warm-up instant (results report the difference).
    pub base: (u64, u64, u64),
}

/// A database shard.
#[derive(Clone)]
pub struct Shard {
    pub busy: u32,
    pub queue: VecDeque<u32>,
    pub busy_tw: TimeWeighted,
    pub queue_tw: TimeWeighted,
    pub reads: u64,
    pub writes: u64,
    pub wait_sum_ns: f64,
    pub wait_n: u64,
    pub read_rng: RngStream,
    pub write_rng: RngStream,
    pub util_series: GaugeSeries,
    pub ops_series: CountSeries,
}

/// A database.
#[derive(Clone)]
pub struct DbState {
    pub shards: Vec<Shard>,
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
    pub latency_series: LatencySeries,
}
