//! Sweep benchmarks: the same sweep of `scenarios/mmc.json` run on one
//! and on two threads through `SweepSetup::run_all`, so criterion reports
//! both times and their ratio is the parallel speed-up. Run with
//! `cargo bench --bench sweep`.
//!
//! The sweep: 8 variants (concurrency 10..=17) x 2 replications = 16 runs
//! of 2 simulated seconds at 9000/s, about 18,000 customers each.

use std::hint::black_box;
use std::path::Path;

use capsim::progress::Progress;
use capsim::sweep::SweepSetup;
use capsim::sweep::spec::parse_vary;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

fn setup() -> SweepSetup {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/mmc.json");
    SweepSetup::new(
        Path::new(path),
        vec![r#"duration="2s""#.into(), r#"warmup="0.2s""#.into()],
        vec![parse_vary("services.station.concurrency=10..=17").expect("valid --vary")],
        Some(2),
        Some(1),
        None,
    )
    .expect("valid sweep")
}

fn sweep_threads(c: &mut Criterion) {
    let setup = setup();
    let progress = Progress::hidden();
    let mut g = c.benchmark_group("sweep_16_runs");
    // Each iteration is a whole sweep (tens of ms): flat sampling keeps
    // 20 samples within the measurement time.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(20);
    g.measurement_time(std::time::Duration::from_secs(8));
    g.throughput(Throughput::Elements(setup.runs() as u64));
    for threads in [1, 2] {
        g.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| black_box(setup.run_all(black_box(threads), &progress).expect("runs")))
        });
    }
    g.finish();
}

criterion_group!(benches, sweep_threads);
criterion_main!(benches);
