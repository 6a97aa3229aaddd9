//! Engine benchmarks: the M/M/c station of `scenarios/mmc.json` (requests
//! per wall second is the headline figure) and the whole shipped flash
//! sale. Run with `cargo bench --bench engine`; criterion reports the time
//! per run and, for mmc, the throughput in requests (elements) per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn load(name: &str, sets: &[&str]) -> models::Model {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("read scenario");
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    models::load(&path, &text, &sets).expect("valid scenario").1
}

fn mmc(c: &mut Criterion) {
    // 20 simulated seconds at 9000/s: about 180,000 customers per run.
    let model = load("mmc.json", &["duration=\"20s\"", "warmup=\"1s\""]);
    let requests = models::simulate(&model).expect("runs").totals.generated;
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(requests));
    g.bench_function("mmc_180k_customers", |b| {
        b.iter(|| black_box(models::simulate(black_box(&model)).expect("runs")))
    });
    g.finish();
}

fn flash_sale(c: &mut Criterion) {
    let model = load("flash-sale.json", &[]);
    let requests = models::simulate(&model).expect("runs").totals.generated;
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(25));
    g.throughput(Throughput::Elements(requests));
    g.bench_function("flash_sale_full", |b| {
        b.iter(|| black_box(models::simulate(black_box(&model)).expect("runs")))
    });
    g.finish();
}

criterion_group!(benches, mmc, flash_sale);
criterion_main!(benches);
