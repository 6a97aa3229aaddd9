//! The golden gate: the results of every shipped scenario at three seeds,
//! the `layouts` sweep of `sharding-compare.json` and the flash sale's run
//! report, compared with hashes committed in `tests/golden/golden.txt`.
//!
//! A refactor proves it changed nothing by keeping this gate green. A
//! change that must move numbers re-blesses the file in a commit of its
//! own, saying why and by how much:
//!
//! ```sh
//! CAPSIM_BLESS=1 cargo test --test tests golden
//! ```
//!
//! Each results document (without its `engine` section, the only part
//! that depends on the machine) is hashed whole (xxh3-128 of its compact
//! JSON) and, to find *where* a changed document differs without
//! committing whole documents, node by node: a 32-bit hash of every
//! object, array and value down to [`FINGERPRINT_DEPTH`] levels, in
//! document order (the *fingerprint*). On a mismatch the gate prints the
//! scenario, the seed, the first differing JSON path (the deepest node of
//! the first differing branch, to that depth) and the command that
//! reproduces the run. For the exact leaf, dump the documents of a good
//! commit and point the gate at them:
//!
//! ```sh
//! git stash && CAPSIM_GOLDEN_DUMP=/tmp/good cargo test --test tests golden; git stash pop
//! CAPSIM_GOLDEN_REFERENCE=/tmp/good cargo test --test tests golden
//! ```
//!
//! The hashes are for detecting change, not for security: xxh3 is already
//! a dependency and is stable across platforms and releases.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::cli::capsim;
use crate::conservation::shipped_scenarios;
use crate::support::first_difference;

/// Seeds every shipped scenario runs with.
const SEEDS: [u64; 3] = [1, 7, 42];

/// Levels of nodes hashed one by one below the document's root (the root
/// is level 0, `results.endpoints` level 1, `results.endpoints[2]` level 2,
/// `results.endpoints[2].latency` level 3).
const FINGERPRINT_DEPTH: usize = 3;

/// The committed hashes.
fn golden_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/golden.txt")
}

/// One entry of the gate: what it is, its hash, and the fingerprint of a
/// JSON document (empty for other files).
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    hash: String,
    fingerprint: String,
}

/// One node of a document, hashed.
struct Node {
    path: String,
    depth: usize,
    hash: u32,
    /// A number, string, boolean or null.
    leaf: bool,
}

/// Hashes of the nodes of `v` down to `FINGERPRINT_DEPTH`, in document
/// order, with their paths.
fn nodes(v: &Value) -> Vec<Node> {
    fn walk(v: &Value, path: String, depth: usize, out: &mut Vec<Node>) {
        let text = serde_json::to_string(v).expect("a JSON value serialises");
        out.push(Node {
            path: path.clone(),
            depth,
            hash: xxh3_64(text.as_bytes()) as u32,
            leaf: !(v.is_object() || v.is_array()),
        });
        if depth == FINGERPRINT_DEPTH {
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    walk(x, format!("{path}.{k}"), depth + 1, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, format!("{path}[{i}]"), depth + 1, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "results".to_owned(), 0, &mut out);
    out
}

/// The entry of a JSON document given as its canonical text.
fn json_entry(text: &str) -> Entry {
    let v: Value = serde_json::from_str(text).expect("a JSON document");
    let mut fingerprint = String::new();
    for n in nodes(&v) {
        write!(fingerprint, "{:08x}", n.hash).expect("writing to a String");
    }
    Entry {
        hash: format!("{:032x}", xxh3_128(text.as_bytes())),
        fingerprint,
    }
}

/// The entry of any other file.
fn file_entry(bytes: &[u8]) -> Entry {
    Entry {
        hash: format!("{:032x}", xxh3_128(bytes)),
        fingerprint: String::new(),
    }
}

/// Where a document differs from the one `golden` fingerprints: the
/// deepest node of the first differing branch.
fn locate_change(text: &str, golden: &str) -> String {
    let v: Value = serde_json::from_str(text).expect("a JSON document");
    let now = nodes(&v);
    let was: Vec<u32> = (0..golden.len() / 8)
        .map(|i| u32::from_str_radix(&golden[8 * i..8 * i + 8], 16).unwrap_or(0))
        .collect();
    let mut found: Option<&Node> = None;
    for (n, w) in now.iter().zip(&was) {
        if n.hash == *w {
            continue;
        }
        match found {
            // A differing child of the node found so far: go down.
            Some(f)
                if n.depth == f.depth + 1
                    && n.path.starts_with(&f.path)
                    && matches!(n.path.as_bytes().get(f.path.len()), Some(b'.' | b'[')) => {}
            Some(_) => break,
            None => {}
        }
        found = Some(n);
    }
    let shape = if now.len() == was.len() {
        String::new()
    } else {
        format!(
            " (the document's shape changed: {} nodes to depth {FINGERPRINT_DEPTH}, {} in the golden; paths past the first change may be shifted)",
            now.len(),
            was.len()
        )
    };
    match found {
        Some(n) if n.depth == FINGERPRINT_DEPTH && !n.leaf => {
            format!("{} (or below it){shape}", n.path)
        }
        Some(n) => format!("{}{shape}", n.path),
        None => format!("results (a node past the fingerprint's end){shape}"),
    }
}

/// The committed entries, by key.
fn read_golden() -> BTreeMap<String, Entry> {
    let text = std::fs::read_to_string(golden_file()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split(' ');
            let key = f.next().unwrap_or_default().to_owned();
            let hash = f.next().unwrap_or_default().to_owned();
            let fingerprint = f.next().unwrap_or_default().to_owned();
            (key, Entry { hash, fingerprint })
        })
        .collect()
}

/// Rewrites the entries whose keys start with `prefix` (one test owns
/// each prefix), keeping the others. Tests run in parallel: the file is
/// read and written under a lock.
fn bless(prefix: &str, entries: &BTreeMap<String, Entry>) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut all = read_golden();
    all.retain(|k, _| !k.starts_with(prefix));
    all.extend(entries.iter().map(|(k, e)| (k.clone(), e.clone())));
    let mut text = String::from(
        "# capsim's golden gate (tests/golden.rs): KEY XXH3-128 [FINGERPRINT]\n\
         # Re-bless only in a commit of its own that says why the numbers moved:\n\
         #   CAPSIM_BLESS=1 cargo test --test tests golden\n",
    );
    for (k, e) in &all {
        writeln!(text, "{k} {} {}", e.hash, e.fingerprint).expect("writing to a String");
    }
    std::fs::create_dir_all(golden_file().parent().expect("a folder")).expect("tests/golden");
    std::fs::write(golden_file(), text.replace(" \n", "\n")).expect("writing the golden file");
}

/// A document the gate computed, with how to reproduce it.
struct Doc {
    key: String,
    text: String,
    json: bool,
    reproduce: String,
}

/// Compares `docs` with the golden file (or blesses them) and panics with
/// every difference.
fn gate(prefix: &str, docs: Vec<Doc>) {
    let dump = std::env::var_os("CAPSIM_GOLDEN_DUMP").map(PathBuf::from);
    let reference = std::env::var_os("CAPSIM_GOLDEN_REFERENCE").map(PathBuf::from);
    let file_name = |key: &str| key.replace(['/', '#', ' '], "_");
    if let Some(dir) = &dump {
        std::fs::create_dir_all(dir).expect("the dump folder");
        for d in &docs {
            std::fs::write(dir.join(file_name(&d.key)), &d.text).expect("dumping a document");
        }
    }
    let entries: BTreeMap<String, Entry> = docs
        .iter()
        .map(|d| {
            let e = if d.json {
                json_entry(&d.text)
            } else {
                file_entry(d.text.as_bytes())
            };
            (d.key.clone(), e)
        })
        .collect();
    if std::env::var_os("CAPSIM_BLESS").is_some() {
        bless(prefix, &entries);
        return;
    }
    let golden: BTreeMap<String, Entry> = read_golden()
        .into_iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .collect();
    let mut problems = Vec::new();
    for d in &docs {
        let now = &entries[&d.key];
        let Some(was) = golden.get(&d.key) else {
            problems.push(format!(
                "{}: not in tests/golden/golden.txt (a new scenario? bless it in its own commit: CAPSIM_BLESS=1 cargo test --test tests golden)",
                d.key
            ));
            continue;
        };
        if now.hash == was.hash {
            continue;
        }
        let mut at = if d.json {
            locate_change(&d.text, &was.fingerprint)
        } else {
            "the file's bytes".to_owned()
        };
        if let Some(dir) = &reference
            && let Ok(old) = std::fs::read_to_string(dir.join(file_name(&d.key)))
        {
            at = match (
                serde_json::from_str::<Value>(&old),
                serde_json::from_str::<Value>(&d.text),
            ) {
                (Ok(a), Ok(b)) => first_difference(&a, &b, "results")
                    .unwrap_or_else(|| "the text (same values)".to_owned()),
                _ => old
                    .lines()
                    .zip(d.text.lines())
                    .position(|(a, b)| a != b)
                    .map_or("the end of the file".to_owned(), |l| {
                        format!("line {}", l + 1)
                    }),
            };
        }
        problems.push(format!(
            "{}: differs from the golden hash; first difference at {at}\n    reproduce: {}",
            d.key, d.reproduce
        ));
    }
    for k in golden.keys() {
        if !entries.contains_key(k) {
            problems.push(format!(
                "{k}: in tests/golden/golden.txt but no longer produced (a scenario removed? re-bless in its own commit)"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the golden gate failed ({} of {} entries):\n  {}\n\
         If the change is meant to move numbers, re-bless in a commit of its own that says why \
         and by how much: CAPSIM_BLESS=1 cargo test --test tests golden",
        problems.len(),
        docs.len(),
        problems.join("\n  ")
    );
}

/// `scenarios/NAME`, relative, as users type it.
fn shown(path: &Path) -> String {
    format!(
        "scenarios/{}",
        path.file_name().expect("a file").to_string_lossy()
    )
}

/// Runs `path` with `seed` as `capsim run PATH --seed SEED` does (its
/// objectives judged, window runs included).
fn run(path: &Path, seed: u64) -> models::Results {
    let file = shown(path);
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (_, model) =
        models::load(&file, &text, &[format!("seed={seed}")]).unwrap_or_else(|e| panic!("{e}"));
    models::simulate_judged(&model).unwrap_or_else(|e| panic!("{file} seed {seed}: {e}"))
}

/// Every shipped scenario at seeds 1, 7 and 42: the results document
/// without its engine figures, byte for byte.
#[test]
fn golden_results_of_every_shipped_scenario() {
    let jobs: Vec<(PathBuf, u64)> = shipped_scenarios()
        .into_iter()
        .flat_map(|p| SEEDS.map(|s| (p.clone(), s)))
        .collect();
    assert!(jobs.len() >= 30, "{} runs: scenarios missing?", jobs.len());
    let docs: Vec<Doc> = jobs
        .par_iter()
        .map(|(path, seed)| {
            let r = run(path, *seed);
            assert!(r.totals.generated > 0, "{}: no traffic", shown(path));
            Doc {
                key: format!("results/{}/{seed}", shown(path)),
                text: serde_json::to_string(&r.without_engine()).expect("results serialise"),
                json: true,
                reproduce: format!(
                    "cargo run --release -- run {} --seed {seed} --format json",
                    shown(path)
                ),
            }
        })
        .collect();
    gate("results/", docs);
}

/// `capsim sweep scenarios/sharding-compare.json --name layouts`: the
/// sweep document, byte for byte.
#[test]
fn golden_layouts_sweep() {
    let file = "scenarios/sharding-compare.json";
    let args = ["sweep", file, "--name", "layouts", "--format", "json", "-q"];
    let out = capsim(args).success();
    let v: Value = serde_json::from_str(&out.stdout).expect("a sweep document");
    assert!(
        v["variants"].as_array().is_some_and(|a| a.len() == 6),
        "the layouts sweep has 6 variants: {}",
        out.stdout
    );
    gate(
        "sweep/",
        vec![Doc {
            key: format!("sweep/{file}#layouts"),
            text: serde_json::to_string(&v).expect("serialises"),
            json: true,
            reproduce: format!("cargo run --release -- {}", args.join(" ")),
        }],
    );
}

/// The flash sale's run report at its own seed (index.html and every SVG),
/// rendered from the results without engine figures, byte for byte.
#[test]
fn golden_flash_sale_report() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flash-sale.json");
    let text = std::fs::read_to_string(&path).expect("flash-sale.json");
    let (_, model) = models::load("scenarios/flash-sale.json", &text, &[]).expect("flash sale");
    let r = models::simulate_judged(&model)
        .expect("runs")
        .without_engine();
    let files = reports::run_report(&r).expect("the report renders");
    assert!(files.len() > 5, "{} files", files.len());
    let docs = files
        .into_iter()
        .map(|f| Doc {
            key: format!("report/scenarios/flash-sale.json/{}", f.name),
            text: String::from_utf8(f.bytes).expect("reports are UTF-8"),
            json: false,
            reproduce: "cargo run --release -- run scenarios/flash-sale.json --out out/flash-sale \
                        (the gate renders it without engine figures)"
                .to_owned(),
        })
        .collect();
    gate("report/", docs);
}

/// The gate's locator names the deepest node of the first differing
/// branch, and its hashes see a change in the last digit of a number.
#[test]
fn golden_locator_finds_the_first_differing_path() {
    let a = r#"{"a":1,"b":{"c":[1,2,{"d":3}],"e":2},"f":[0.1]}"#;
    let b = r#"{"a":1,"b":{"c":[1,2,{"d":4}],"e":5},"f":[0.2]}"#;
    let golden = json_entry(a);
    assert_ne!(golden.hash, json_entry(b).hash);
    assert_eq!(
        locate_change(b, &golden.fingerprint),
        "results.b.c[2] (or below it)"
    );
    let c = r#"{"a":1,"b":{"c":[1,2,{"d":3}],"e":2},"f":[0.10000000000000002]}"#;
    assert_eq!(locate_change(c, &golden.fingerprint), "results.f[0]");
    assert_eq!(json_entry(a), json_entry(a), "deterministic");
}
