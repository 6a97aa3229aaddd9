//! This example demonstrates capsim's mutation fuzzer: it mutates the
//! shipped scenarios (`scenarios/*.json`) and feeds them to the library
//! entry points in-process, on the stable toolchain.
//!
//! ```sh
//! cargo run --release --example fuzz -- --seconds 30             # the CI smoke
//! nice -n 10 cargo run --release --example fuzz -- --seconds 14400 --seed 7   # a long run
//! cargo run --release --example fuzz -- --replay target/fuzz-findings/panic-1-42.json
//! ```
//!
//! Each execution decodes the bytes (UTF-8, a byte-order mark), parses
//! and validates them (`models::load`) and, when they validate and are
//! small, simulates one simulated second. The oracles:
//!
//! - no panic (caught, with the panic's message);
//! - every refusal is an error value whose message starts with the file
//!   name, and with `file:line:column` when it has a location;
//! - results serialize to a document that reads back (no NaN, no
//!   infinity: `capsim::output::document_json`);
//! - the same input simulated twice gives the same bytes (every 8th run).
//!
//! A finding is written to `target/fuzz-findings/` (its kind, the seed and
//! the execution number in the name) and the harness exits 1. The input
//! being executed is also kept in `target/fuzz-findings/in-flight.json`
//! until it returns, so an abort (which no harness can catch) leaves it
//! behind. See docs/fuzzing.md.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::{Map, Value, json};

/// The name every input is given (messages must start with it).
const FILE: &str = "fuzz.json";
/// Fields that size what a run allocates: values above [`MAX_COUNT`]
/// there are not executed until validation bounds memory (issue 14, item
/// 2); `--huge-counts` executes them anyway.
const COUNT_KEYS: &[&str] = &[
    "replicas",
    "shards",
    "partitions",
    "consumers",
    "read_replicas",
    "concurrency",
    "users",
    "virtual_nodes",
    "tokens",
    "capacity",
    "queue_capacity",
    "max_connections",
    "connections",
    "prefetch",
    "nodes",
    "brokers",
    "max_replicas",
    "min_replicas",
    "max_in_flight",
    "slots",
    "copies",
    "keys",
    "max_attempts",
    "attempts",
    "retries",
    "pool",
];
const MAX_COUNT: f64 = 10_000.0;
/// Inputs expected to make more requests in the shortened run are only
/// validated.
const MAX_REQUESTS: f64 = 20_000.0;
/// The shortened run.
const SHORT: [&str; 2] = ["duration=\"1s\"", "warmup=\"0s\""];

/// The message of the last panic (the hook records it).
static PANIC: Mutex<Option<String>> = Mutex::new(None);

struct Options {
    seconds: u64,
    seed: u64,
    findings: PathBuf,
    replay: Option<PathBuf>,
    huge_counts: bool,
}

fn options() -> Options {
    let mut o = Options {
        seconds: 30,
        seed: 1,
        findings: PathBuf::from("target/fuzz-findings"),
        replay: None,
        huge_counts: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--seconds" => o.seconds = value().parse().unwrap_or_else(|_| usage("--seconds N")),
            "--seed" => o.seed = value().parse().unwrap_or_else(|_| usage("--seed N")),
            "--findings" => o.findings = value().into(),
            "--replay" => o.replay = Some(value().into()),
            "--huge-counts" => o.huge_counts = true,
            _ => usage(&format!("unknown option {a}")),
        }
    }
    o
}

fn usage(why: &str) -> ! {
    eprintln!(
        "fuzz: {why}\nusage: fuzz [--seconds N] [--seed N] [--findings DIR] [--replay FILE] [--huge-counts]"
    );
    std::process::exit(2)
}

/// What one execution did.
#[derive(Debug, Default)]
struct Tally {
    execs: u64,
    refused: u64,
    valid: u64,
    simulated: u64,
    skipped: u64,
    determinism: u64,
}

fn main() {
    let o = options();
    limit_memory();
    std::panic::set_hook(Box::new(|info| {
        *PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(info.to_string());
    }));
    if let Some(file) = &o.replay {
        let bytes =
            std::fs::read(file).unwrap_or_else(|e| usage(&format!("{}: {e}", file.display())));
        let mut t = Tally::default();
        match execute(&bytes, true, o.huge_counts, &mut t) {
            Ok(()) => println!("{}: no finding ({t:?})", file.display()),
            Err(f) => {
                println!("{}: {f}", file.display());
                std::process::exit(1);
            }
        }
        return;
    }
    let corpus = corpus();
    let keys = keys(&corpus);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(o.seed);
    let mut t = Tally::default();
    std::fs::create_dir_all(&o.findings).expect("creating the findings folder");
    let in_flight = o.findings.join("in-flight.json");
    let start = Instant::now();
    let deadline = Duration::from_secs(o.seconds);
    let mut slowest = (Duration::ZERO, 0u64);
    let mut findings = 0;
    while start.elapsed() < deadline {
        let bytes = mutate(&corpus, &keys, &mut rng);
        let _ = std::fs::write(&in_flight, &bytes);
        let began = Instant::now();
        let check_determinism = t.simulated % 8 == 0;
        let outcome = execute(&bytes, check_determinism, o.huge_counts, &mut t);
        if began.elapsed() > slowest.0 {
            slowest = (began.elapsed(), t.execs);
        }
        if let Err(f) = outcome {
            findings += 1;
            let path = o
                .findings
                .join(format!("{}-{}-{}.json", f.kind, o.seed, t.execs));
            std::fs::write(&path, &bytes).expect("writing a finding");
            eprintln!("FINDING {}: {}", path.display(), f);
            if findings >= 10 {
                break;
            }
        }
    }
    let _ = std::fs::remove_file(&in_flight);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fuzz: seed {}, {} executions in {:.1}s ({:.0}/s): {} refused, {} valid, {} simulated ({} twice for determinism), {} not executed (counts above {MAX_COUNT}); slowest {:.0} ms (execution {}); {} findings",
        o.seed,
        t.execs,
        secs,
        t.execs as f64 / secs,
        t.refused,
        t.valid,
        t.simulated,
        t.determinism,
        t.skipped,
        slowest.0.as_secs_f64() * 1e3,
        slowest.1,
        findings
    );
    if findings > 0 {
        std::process::exit(1);
    }
}

/// Caps the address space (8 GiB) so that an input allocating without
/// bound aborts the harness (its input kept in `in-flight.json`) instead
/// of taking the machine's memory.
fn limit_memory() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        let cap = 8u64 << 30;
        let _ = setrlimit(
            Resource::As,
            Rlimit {
                current: Some(cap),
                maximum: None,
            },
        );
    }
}

/// A broken oracle.
#[derive(Debug)]
struct Finding {
    kind: &'static str,
    what: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.what)
    }
}

fn finding(kind: &'static str, what: impl Into<String>) -> Finding {
    Finding {
        kind,
        what: what.into(),
    }
}

/// Runs `f`, turning a panic into a finding.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Finding> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| {
        let message = PANIC
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        finding("panic", format!("{what}: {message}"))
    })
}

/// Checks a refusal's message: the file first, then `line:column` if the
/// error has a location.
fn located(e: &models::ScenarioError) -> Result<(), Finding> {
    let message = e.to_string();
    let expected = match e.location {
        Some(l) => format!("{FILE}:{l}: "),
        None => format!("{FILE}: "),
    };
    if !message.starts_with(&expected) {
        return Err(finding(
            "message",
            format!("expected `{expected}` first: {message}"),
        ));
    }
    if message.contains("panicked") {
        return Err(finding("message", message));
    }
    Ok(())
}

/// Whether a document holds a count above [`MAX_COUNT`] (see
/// [`COUNT_KEYS`]).
fn huge_count(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| {
            (COUNT_KEYS.contains(&k.as_str()) && v.as_f64().is_some_and(|x| x.abs() > MAX_COUNT))
                || huge_count(v)
        }),
        Value::Array(a) => a.iter().any(huge_count),
        _ => false,
    }
}

/// One execution: decode, load, and for small valid inputs a short run.
fn execute(bytes: &[u8], twice: bool, huge_counts: bool, t: &mut Tally) -> Result<(), Finding> {
    t.execs += 1;
    let text = match guarded("decode", || models::decode(FILE, bytes.to_vec()))? {
        Ok(text) => text,
        Err(e) => {
            t.refused += 1;
            return located(&e);
        }
    };
    if !huge_counts
        && let Ok(v) = serde_json::from_str::<Value>(&text)
        && huge_count(&v)
    {
        t.skipped += 1;
        return Ok(());
    }
    let loaded = guarded("load", || models::load(FILE, &text, &[]))?;
    if let Err(e) = loaded {
        t.refused += 1;
        return located(&e);
    }
    t.valid += 1;
    let sets: Vec<String> = SHORT.iter().map(|s| s.to_string()).collect();
    let model = match guarded("load with a short duration", || {
        models::load(FILE, &text, &sets)
    })? {
        Ok((_, model)) => model,
        Err(e) => return located(&e),
    };
    let expected: f64 = model
        .workloads
        .iter()
        .map(|w| w.profile.expected_arrivals(model.duration.0))
        .sum();
    // NaN expected counts as too many.
    if expected.is_nan() || expected > MAX_REQUESTS {
        return Ok(());
    }
    t.simulated += 1;
    let first = simulate(&model)?;
    if twice && let Some(first) = first {
        t.determinism += 1;
        if simulate(&model)? != Some(first) {
            return Err(finding(
                "determinism",
                "the same input simulated twice gave different documents",
            ));
        }
    }
    Ok(())
}

/// The results document of a run without its wall-clock `engine` section
/// (`None` for a run refused as unstable).
fn simulate(model: &models::Model) -> Result<Option<String>, Finding> {
    let Ok(results) = guarded("simulate", || models::simulate_judged(model))? else {
        return Ok(None);
    };
    let json = capsim::output::document_json(&results, "results document")
        .map_err(|e| finding("document", e))?;
    let mut doc: Value =
        serde_json::from_str(&json).map_err(|e| finding("document", e.to_string()))?;
    if let Some(m) = doc.as_object_mut() {
        m.shift_remove("engine");
    }
    Ok(Some(doc.to_string()))
}

/// The shipped scenarios, parsed.
fn corpus() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("reading scenarios/")
        .map(|e| e.expect("a scenario").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("reading a scenario");
            serde_json::from_str(&text).expect("a shipped scenario is JSON")
        })
        .collect()
}

/// Every object key of the corpus (for misplaced and duplicated keys).
fn keys(corpus: &[Value]) -> Vec<String> {
    fn walk(v: &Value, into: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    into.insert(k.clone());
                    walk(v, into);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, into)),
            _ => {}
        }
    }
    let mut set = BTreeSet::new();
    corpus.iter().for_each(|v| walk(v, &mut set));
    set.into_iter().collect()
}

/// Counts the nodes of `v`.
fn size(v: &Value) -> usize {
    1 + match v {
        Value::Object(m) => m.values().map(size).sum(),
        Value::Array(a) => a.iter().map(size).sum(),
        _ => 0,
    }
}

/// Applies `f` to the `n`-th node of `v` in pre-order; true once done.
fn apply<F: FnOnce(&mut Value)>(v: &mut Value, n: &mut usize, f: &mut Option<F>) -> bool {
    if *n == 0 {
        if let Some(f) = f.take() {
            f(v);
        }
        return true;
    }
    *n -= 1;
    match v {
        Value::Object(m) => m.values_mut().any(|c| apply(c, n, f)),
        Value::Array(a) => a.iter_mut().any(|c| apply(c, n, f)),
        _ => false,
    }
}

/// A random node of `v`, handed to `f`.
fn with_node(v: &mut Value, rng: &mut Xoshiro256PlusPlus, f: impl FnOnce(&mut Value)) {
    let mut n = rng.random_range(0..size(v));
    apply(v, &mut n, &mut Some(f));
}

fn pick<'a, T>(rng: &mut Xoshiro256PlusPlus, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Values that break things.
fn nasty(rng: &mut Xoshiro256PlusPlus, keys: &[String]) -> Value {
    match rng.random_range(0..22) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(1),
        3 => json!(1e308),
        4 => json!(-1e308),
        5 => json!(5e-324),
        6 => json!(u64::MAX),
        7 => json!(i64::MIN),
        8 => json!(4_294_967_296u64),
        9 => json!(0.5),
        10 => json!("NaN"),
        11 => json!("inf"),
        12 => json!("-1ms"),
        13 => json!("1e30h"),
        14 => json!(""),
        15 => json!("x".repeat(rng.random_range(1..20_000))),
        16 => json!("\u{0}\u{1b}[2J\u{7}name\n"),
        17 => json!([]),
        18 => json!({}),
        19 => json!(true),
        20 => Value::Null,
        _ => json!(pick(rng, keys)),
    }
}

/// One random mutation of a copy of a shipped scenario, as bytes.
fn mutate(corpus: &[Value], keys: &[String], rng: &mut Xoshiro256PlusPlus) -> Vec<u8> {
    let mut v = pick(rng, corpus).clone();
    // Mostly one mutation, so that many inputs still validate and run.
    let mutations = *pick(rng, &[1, 1, 1, 2, 2, 3, 4]);
    for _ in 0..mutations {
        match rng.random_range(0..9) {
            // Replace a value with a nasty one.
            0..=2 => {
                let x = nasty(rng, keys);
                with_node(&mut v, rng, |n| *n = x);
            }
            // Replace a number by a nearby or extreme number.
            3 => {
                let factor = *pick(rng, &[0.0, -1.0, 2.0, 1000.0, 1e-9, 1e300]);
                with_node(&mut v, rng, |n| {
                    if let Some(x) = n.as_f64() {
                        *n = serde_json::Number::from_f64(x * factor)
                            .map_or(json!(0), Value::Number);
                    }
                });
            }
            // Delete a key or an element.
            4 => with_node(&mut v, rng, |n| match n {
                Value::Object(m) if !m.is_empty() => {
                    let k = m.keys().next().cloned().unwrap_or_default();
                    m.shift_remove(&k);
                }
                Value::Array(a) if !a.is_empty() => {
                    a.pop();
                }
                _ => {}
            }),
            // Insert a key (known elsewhere, or unknown).
            5 => {
                let k = if rng.random_bool(0.8) {
                    pick(rng, keys).clone()
                } else {
                    "unknown_field".to_string()
                };
                let x = nasty(rng, keys);
                with_node(&mut v, rng, |n| {
                    if let Value::Object(m) = n {
                        m.insert(k, x);
                    }
                });
            }
            // Splice a subtree of another scenario, or duplicate an element.
            6 => {
                let mut other = pick(rng, corpus).clone();
                let mut graft = Value::Null;
                with_node(&mut other, rng, |n| graft = n.clone());
                let duplicate = rng.random_bool(0.5);
                with_node(&mut v, rng, |n| match n {
                    Value::Array(a) if !a.is_empty() && duplicate => {
                        let first = a[0].clone();
                        a.push(first);
                    }
                    _ => *n = graft,
                });
            }
            // Nest a value deeply.
            7 => {
                let depth = rng.random_range(1..300);
                with_node(&mut v, rng, |n| {
                    for _ in 0..depth {
                        *n = Value::Array(vec![n.take()]);
                    }
                });
            }
            // Wrap an object's members under a new object.
            _ => with_node(&mut v, rng, |n| {
                if let Value::Object(m) = n {
                    let inner = std::mem::take(m);
                    let mut outer = Map::new();
                    outer.insert("nested".into(), Value::Object(inner));
                    *m = outer;
                }
            }),
        }
    }
    let text = if rng.random_bool(0.5) {
        serde_json::to_string_pretty(&v)
    } else {
        serde_json::to_string(&v)
    }
    .expect("a Value serializes");
    let mut bytes = text.into_bytes();
    // Byte-level damage, one input in four.
    let damage = if rng.random_bool(0.25) {
        rng.random_range(1..3u32)
    } else {
        0
    };
    for _ in 0..damage {
        if bytes.is_empty() {
            break;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..6) {
            0 => bytes.truncate(at),
            1 => bytes[at] ^= 1 << rng.random_range(0..8),
            2 => bytes.insert(at, rng.random()),
            3 => {
                let end = (at + rng.random_range(1..64)).min(bytes.len());
                bytes.drain(at..end);
            }
            4 => bytes
                .splice(at..at, b"\xEF\xBB\xBF".iter().copied())
                .for_each(drop),
            _ => {
                // Duplicate a line: duplicate keys in an object.
                let start = bytes[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = bytes[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| at + p + 1);
                let line = bytes[start..end].to_vec();
                bytes.splice(start..start, line).for_each(drop);
            }
        }
    }
    bytes
}
