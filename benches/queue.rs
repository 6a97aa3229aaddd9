//! Event-queue benchmarks. Run with `cargo bench --bench queue`.
//!
//! - `hold/*`: the classic hold model of a future-event list. The queue
//!   holds `n` events (1,000 or 100,000); each operation pops the earliest
//!   and schedules a new one an exponential increment later (mean 1 ms),
//!   so the size stays `n`. `binary_heap` is the queue capsim had before
//!   (a `std` binary heap of `(time, seq, event)` entries), `event_queue`
//!   is `sim_core::EventQueue`; the events are 16 bytes, as the
//!   simulator's are. Throughput is in hold operations.
//! - `mmc/*`: the M/M/c station of `scenarios/mmc.json` (9,000 arrivals/s,
//!   exponential service of mean 1 ms, 10 servers, FIFO), 20 simulated
//!   seconds, twice: `bare_loop` is a minimal event loop written for this
//!   one model (integer-nanosecond clock, a `std` binary heap on
//!   `(time, seq)`, no statistics), `capsim` is `models::simulate` on the
//!   scenario (warm-up 1 s). Both report customers per second, so their
//!   ratio is what capsim's generality and statistics cost.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::{EventQueue, RngStream, SimDuration, SimTime};

/// A 16-byte event, the size of the simulator's.
type Payload = [u64; 2];

/// The queue capsim had before: a max-heap of reversed `(time, seq)` keys
/// with the event inline.
#[derive(Default)]
struct OldQueue {
    heap: BinaryHeap<Reverse<(u64, u64, Payload)>>,
    seq: u64,
}

/// What the hold model needs of a future-event list.
trait Fel: Default {
    fn push(&mut self, at: u64, ev: Payload);
    fn pop(&mut self) -> Option<(u64, Payload)>;
}

impl Fel for OldQueue {
    #[inline]
    fn push(&mut self, at: u64, ev: Payload) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, ev)));
    }
    #[inline]
    fn pop(&mut self) -> Option<(u64, Payload)> {
        self.heap.pop().map(|Reverse((t, _, ev))| (t, ev))
    }
}

impl Fel for EventQueue<Payload> {
    #[inline]
    fn push(&mut self, at: u64, ev: Payload) {
        EventQueue::push(self, SimTime(at), ev);
    }
    #[inline]
    fn pop(&mut self) -> Option<(u64, Payload)> {
        EventQueue::pop(self).map(|(t, ev)| (t.0, ev))
    }
}

/// Exponential increments of mean 1 ms, in whole nanoseconds, drawn once
/// so that the timed loop measures the queue only.
fn increments() -> Vec<u64> {
    let mut rng = RngStream::new(1, "hold");
    (0..1 << 16)
        .map(|_| (-rng.unit_open0().ln() * 1e6) as u64)
        .collect()
}

/// A queue of `n` events in its steady state.
fn filled<Q: Fel>(n: usize, inc: &[u64]) -> Q {
    let mut q = Q::default();
    for i in 0..n {
        q.push(inc[i % inc.len()] * 2, [i as u64, 0]);
    }
    // Let the times spread out as in a long run.
    hold(&mut q, 4 * n, inc);
    q
}

/// `ops` hold operations: pop the earliest, schedule one an increment later.
#[inline]
fn hold<Q: Fel>(q: &mut Q, ops: usize, inc: &[u64]) -> u64 {
    let mut sum = 0u64;
    for i in 0..ops {
        let (t, ev) = q.pop().expect("the size stays n");
        sum = sum.wrapping_add(ev[0]);
        q.push(t + inc[i & (inc.len() - 1)], [ev[0] + 1, t]);
    }
    sum
}

fn hold_model(c: &mut Criterion) {
    const OPS: usize = 100_000;
    let inc = increments();
    let mut g = c.benchmark_group("hold");
    g.throughput(Throughput::Elements(OPS as u64));
    for n in [1_000, 100_000] {
        let mut old: OldQueue = filled(n, &inc);
        g.bench_function(BenchmarkId::new("binary_heap", n), |b| {
            b.iter(|| black_box(hold(&mut old, OPS, &inc)))
        });
        let mut new: EventQueue<Payload> = filled(n, &inc);
        g.bench_function(BenchmarkId::new("event_queue", n), |b| {
            b.iter(|| black_box(hold(&mut new, OPS, &inc)))
        });
    }
    g.finish();
}

/// An event of the bare M/M/c loop.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum MmcEv {
    Arrival,
    Departure,
}

/// The bare M/M/c loop: arrivals at `rate` per second, exponential service
/// of mean `service_ns`, `servers` servers, a FIFO line, for `end_ns`.
/// Returns the customers generated and served.
fn bare_mmc(rate: f64, service_ns: f64, servers: u32, end_ns: u64) -> (u64, u64) {
    let mut arrivals = RngStream::new(1, "arrivals");
    let mut service = RngStream::new(1, "service");
    let interarrival_ns = 1e9 / rate;
    let exp = |rng: &mut RngStream, mean: f64| (-rng.unit_open0().ln() * mean) as u64;
    let mut heap: BinaryHeap<(Reverse<(u64, u64)>, MmcEv)> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut schedule = |heap: &mut BinaryHeap<_>, at: u64, ev: MmcEv| {
        seq += 1;
        heap.push((Reverse((at, seq)), ev));
    };
    let mut line: VecDeque<u64> = VecDeque::new();
    let mut busy = 0u32;
    let (mut generated, mut served) = (0u64, 0u64);
    let first = exp(&mut arrivals, interarrival_ns);
    schedule(&mut heap, first, MmcEv::Arrival);
    while let Some((Reverse((now, _)), ev)) = heap.pop() {
        if now > end_ns {
            break;
        }
        match ev {
            MmcEv::Arrival => {
                generated += 1;
                let next = now + exp(&mut arrivals, interarrival_ns);
                schedule(&mut heap, next, MmcEv::Arrival);
                if busy < servers {
                    busy += 1;
                    let done = now + exp(&mut service, service_ns);
                    schedule(&mut heap, done, MmcEv::Departure);
                } else {
                    line.push_back(now);
                }
            }
            MmcEv::Departure => {
                served += 1;
                if line.pop_front().is_some() {
                    let done = now + exp(&mut service, service_ns);
                    schedule(&mut heap, done, MmcEv::Departure);
                } else {
                    busy -= 1;
                }
            }
        }
    }
    (generated, served)
}

fn mmc(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mmc.json");
    let text = std::fs::read_to_string(path).expect("read scenario");
    let sets = vec![
        r#"duration="20s""#.to_string(),
        r#"warmup="1s""#.to_string(),
    ];
    let model = models::load(path, &text, &sets).expect("valid scenario").1;
    let end = SimDuration::from_secs_f64(20.0).as_nanos();
    let (generated, _) = bare_mmc(9_000.0, 1e6, 10, end);
    let customers = models::simulate(&model).expect("runs").totals.generated;
    let mut g = c.benchmark_group("mmc");
    g.throughput(Throughput::Elements(generated));
    g.bench_function("bare_loop", |b| {
        b.iter(|| black_box(bare_mmc(black_box(9_000.0), 1e6, 10, end)))
    });
    g.throughput(Throughput::Elements(customers));
    g.bench_function("capsim", |b| {
        b.iter(|| black_box(models::simulate(black_box(&model)).expect("runs")))
    });
    g.finish();
}

criterion_group!(benches, hold_model, mmc);
criterion_main!(benches);
