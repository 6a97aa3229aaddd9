//! Limits on what one run may take: memory, estimated from the counts in
//! the file before anything is built, and requests, from the arrival
//! rates and the duration. A file over a limit is refused (exit 2) at the
//! field that drives it, with the flag that raises the limit, instead of
//! exhausting the machine or running for years.
//!
//! The memory estimate sums, per count, what a run allocates for it (its
//! statistics and state), with constants measured on the release build
//! (peak resident set of `capsim run` with 1,000 to 100,000 of each, see
//! `docs/scenario-format.md#limits`), rounded up. It errs high: it is a
//! budget, not a prediction.

use bytesize::ByteSize;
use sim_core::SimDuration;

use super::compile::MAX_BUCKETS;
use super::model::Model;
use super::scenario::Scenario;
use super::stability::min_holding_ns;
use crate::kernel::resolve::{Path, Resolve};
use crate::kinds::client::RateSegment;
use crate::kinds::client::traffic::Rate;
use crate::scenario::{ScenarioError, format_path};

/// What one run may take. [`Limits::default`] is what `capsim` uses
/// without `--max-memory` and `--max-requests`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Memory one run may take, bytes (estimated from the file's counts).
    pub max_memory: u64,
    /// Requests one run may be expected to send.
    pub max_requests: f64,
}

/// The default memory budget of one run: 4 GiB. Fixed rather than a share
/// of the machine, so that a file valid on a laptop is valid in CI.
pub const DEFAULT_MAX_MEMORY: u64 = 4 << 30;

/// The default most requests one run may be expected to send: 10^9. The
/// engine handles about a million requests a second, so this is a run of
/// roughly a quarter of an hour; files beyond it are more likely a slip
/// (`rps: 1e308`, users thinking 1 ns) than intended.
pub const DEFAULT_MAX_REQUESTS: f64 = 1e9;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory: DEFAULT_MAX_MEMORY,
            max_requests: DEFAULT_MAX_REQUESTS,
        }
    }
}

/// Every run: the program, its buffers, the event queue at rest.
pub const BASE_BYTES: u64 = 16 << 20;
/// Per endpoint: its latency histograms (HDR, 3 and 2 significant digits,
/// taken as latencies are recorded: at most 270 + 37 KB, for latencies of
/// an hour), series and counters (measured: 39 KB never answered, 177 KB
/// answering within 16 ms).
pub const ENDPOINT_BYTES: u64 = 360_000;
/// Per queue: its end-to-end and wait histograms.
pub const QUEUE_BYTES: u64 = 2 * ENDPOINT_BYTES;
/// Per database shard: its primary's pool, wait histogram (taken as waits
/// are recorded: at most 37 KB, for waits of an hour) and streams
/// (measured: 3.6 KB with waits within milliseconds), besides its time
/// series.
pub const SHARD_BYTES: u64 = 40_000;
/// Per read replica of a shard: its pool, wait and lag histograms (at
/// most 2 x 37 KB) and streams (measured: 0.9 KB with waits and lags
/// within milliseconds).
pub const REPLICA_BYTES: u64 = 80_000;
/// Per shard and time-series bucket: its utilisation and statements
/// series, in the run and in its results (measured: 69 B).
pub const SHARD_BUCKET_BYTES: u64 = 80;
/// Per service replica (pod), its state and its entry in the results
/// (measured: 540 B).
pub const POD_BYTES: u64 = 640;
/// Per queue partition, its log and its entry in the results (measured:
/// 640 B).
pub const PARTITION_BYTES: u64 = 720;
/// Per queue consumer (measured: 200 B).
pub const CONSUMER_BYTES: u64 = 320;

/// One count that costs memory: where it is in the file, what it is, and
/// its share of the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    /// The field that sets the count.
    pub path: Path,
    /// The count in words (`1000000 shards x 2 read replicas`).
    pub what: String,
    /// The count is one (`1 endpoint needs`, not `need`).
    pub one: bool,
    /// Its share, bytes.
    pub bytes: u64,
}

/// A run's estimated memory: a fixed base and its drivers, largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    /// Total, bytes.
    pub bytes: u64,
    /// The counts behind it, largest share first.
    pub drivers: Vec<Driver>,
}

/// Time-series buckets of a run (an upper bound when the duration comes
/// from the profiles).
fn buckets(sc: &Scenario) -> u64 {
    match (sc.duration, sc.time_series_interval) {
        (Some(SimDuration(d)), Some(SimDuration(i))) if i > 0 => d.div_ceil(i).min(MAX_BUCKETS),
        (_, Some(_)) => MAX_BUCKETS,
        // The default interval is about a 120th of the run.
        (_, None) => 121,
    }
}

/// The memory a run of `sc` takes, estimated from its counts alone: cheap
/// whatever the counts (nothing is built), so it can refuse a file before
/// validation builds anything as large as the file asks for.
pub fn memory_estimate(sc: &Scenario) -> MemoryEstimate {
    let mut drivers = Vec::new();
    let mut add = |path: Path, what: String, count: u64, each: u64| {
        drivers.push(Driver {
            path,
            what,
            one: count == 1,
            bytes: count.saturating_mul(each),
        });
    };
    for (i, s) in sc.services.iter().enumerate() {
        let p = Path::root("services").i(i);
        add(
            p.k("endpoints"),
            counted(s.endpoints.len() as u64, "endpoint"),
            s.endpoints.len() as u64,
            ENDPOINT_BYTES,
        );
        let (path, pods) = match &s.autoscaling {
            Some(a) if a.max_replicas > s.replicas => {
                (p.k("autoscaling").k("max_replicas"), a.max_replicas)
            }
            _ => (p.k("replicas"), s.replicas),
        };
        add(
            path,
            counted(pods.into(), "replica"),
            pods.into(),
            POD_BYTES,
        );
    }
    let bucket_count = buckets(sc);
    for (i, d) in sc.databases.iter().enumerate() {
        let p = Path::root("databases").i(i);
        let replicas = d.replicas;
        let per_shard =
            SHARD_BYTES + u64::from(replicas) * REPLICA_BYTES + bucket_count * SHARD_BUCKET_BYTES;
        let what = match replicas {
            0 => counted(d.shards.into(), "shard"),
            r => format!(
                "{} x {}",
                counted(d.shards.into(), "shard"),
                counted(r.into(), "read replica")
            ),
        };
        add(p.k("shards"), what, d.shards.into(), per_shard);
    }
    add(
        Path::root("queues"),
        counted(sc.queues.len() as u64, "queue"),
        sc.queues.len() as u64,
        QUEUE_BYTES,
    );
    for (i, q) in sc.queues.iter().enumerate() {
        let p = Path::root("queues").i(i);
        if let Some(n) = q.partitions {
            add(
                p.k("partitions"),
                counted(n.into(), "partition"),
                n.into(),
                PARTITION_BYTES,
            );
        }
        add(
            p.k("consumers"),
            counted(q.consumers.into(), "consumer"),
            q.consumers.into(),
            CONSUMER_BYTES,
        );
    }
    drivers.sort_by_key(|d| std::cmp::Reverse(d.bytes));
    let bytes = drivers
        .iter()
        .fold(BASE_BYTES, |sum, d| sum.saturating_add(d.bytes));
    MemoryEstimate { bytes, drivers }
}

/// Refuses `sc` if a run of it would take more memory than `limits`
/// allow, at the field of its largest driver.
pub fn check_memory(cx: &Resolve<'_>, sc: &Scenario, limits: &Limits) -> Result<(), ScenarioError> {
    let estimate = memory_estimate(sc);
    if estimate.bytes <= limits.max_memory {
        return Ok(());
    }
    let top = &estimate.drivers[0];
    let mut err = cx.err(
        &top.path,
        format!(
            "{} {} about {} of statistics and state; the run would take about {}, above the {} budget (--max-memory to raise it)",
            top.what,
            if top.one { "needs" } else { "need" },
            size(top.bytes),
            size(estimate.bytes),
            size(limits.max_memory),
        ),
    );
    let others: Vec<String> = estimate.drivers[1..]
        .iter()
        .filter(|d| d.bytes >= estimate.bytes / 10)
        .map(|d| format!("{} ({}: {})", format_path(&d.path.0), d.what, size(d.bytes)))
        .collect();
    if !others.is_empty() {
        err.help = Some(format!("also large: {}", others.join(", ")));
    }
    Err(err)
}

/// The requests a run of `m` is expected to send, and the workload that
/// sends most: each open-loop workload's arrivals over the run; for
/// closed-loop users, the most a user can send, one request per mean
/// think time plus the least time its request takes (the mix's mean of
/// each endpoint's minimum holding time, as the stability check
/// computes it), times the users and the duration.
pub fn expected_requests(m: &Model) -> (f64, Option<usize>) {
    let mut total = 0.0;
    let mut top: Option<(usize, f64)> = None;
    for (i, w) in m.workloads.iter().enumerate() {
        let n = match &w.users {
            None => w.profile.expected_arrivals(m.duration.0),
            Some(cl) => {
                let mut before = 0.0;
                let least_response: f64 = w
                    .mix
                    .iter()
                    .map(|&(e, cumulative)| {
                        let share = cumulative - before;
                        before = cumulative;
                        share * min_holding_ns(m, m.endpoints[e].program)
                    })
                    .sum();
                let cycle_ns = cl.think_time.mean_ns() + least_response;
                cl.users as f64 * m.duration.0 as f64 / cycle_ns
            }
        };
        total += n;
        if top.is_none_or(|(_, t)| n > t || n.is_nan()) {
            top = Some((i, n));
        }
    }
    (total, top.map(|(i, _)| i))
}

/// Refuses `m` if a run is expected to send more requests than `limits`
/// allow, at the rate (or users) of the workload that sends most.
pub fn check_requests(
    cx: &Resolve<'_>,
    sc: &Scenario,
    m: &Model,
    limits: &Limits,
) -> Result<(), ScenarioError> {
    let (total, top) = expected_requests(m);
    let Some(i) = top else { return Ok(()) };
    if total <= limits.max_requests {
        return Ok(());
    }
    let w = &sc.workloads[i];
    let p = Path::root("workloads").i(i);
    let path = if w.users.is_some() {
        p.k("users")
    } else {
        match &w.rate {
            Rate::Segments(segments) => {
                busiest_rate(segments).map_or(p.k("rate"), |(j, field)| p.k("rate").i(j).k(field))
            }
            Rate::Shared(_) => p.k("rate"),
        }
    };
    let why = if w.users.is_some() {
        "users / (mean think time + least response time)"
    } else {
        "the arrival rate"
    };
    let about = if total.is_finite() {
        format!("about {total:.3e}")
    } else {
        "more than 1e308".to_string()
    };
    Err(cx.err(
        &path,
        format!(
            "the run would send {about} requests in {} ({why} x duration), above the limit of {:e} (--max-requests to raise it, or shorten the run)",
            m.duration, limits.max_requests
        ),
    ))
}

/// The rate segment with the highest rate, and its field holding it
/// (`rps` or `ramp_to`).
fn busiest_rate(rate: &[RateSegment]) -> Option<(usize, &'static str)> {
    rate.iter()
        .enumerate()
        .flat_map(|(j, s)| [(j, "rps", s.rps), (j, "ramp_to", s.ramp_to)])
        .filter_map(|(j, field, r)| Some((j, field, r?)))
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(j, field, _)| (j, field))
}

/// `1 shard`, `4 shards`.
fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// A size for people: `31.0 GiB`.
pub fn size(bytes: u64) -> String {
    ByteSize(bytes).display().iec().to_string()
}
