//! `capsim schema` (issue 14, item 7): the JSON Schema of scenario files
//! is draft 2020-12, printed the same every time, every shipped scenario
//! validates against it, and a misspelt field in any section fails it, as
//! a wrong duration or distribution does. Checked with `boon`, an
//! independent validator.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::cli::capsim;

/// The schema as `capsim schema` prints it.
fn printed_schema() -> Value {
    let out = capsim(["schema"]).success();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"))
}

/// A validator for the printed schema.
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Validator {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("capsim.schema.json", printed_schema())
            .expect("adding the schema");
        let index = compiler
            .compile("capsim.schema.json", &mut schemas)
            .unwrap_or_else(|e| panic!("the schema does not compile: {e:#}"));
        Validator { schemas, index }
    }

    /// The validation error's text, or `None` when `doc` is valid.
    fn errors(&self, doc: &Value) -> Option<String> {
        self.schemas
            .validate(doc, self.index)
            .err()
            .map(|e| format!("{e:#}"))
    }
}

/// The shipped scenarios, by file name (JSON and YAML).
pub fn shipped() -> Vec<PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    files
}

/// A shipped JSON scenario as a value.
fn scenario(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("reading")).expect("JSON")
}

#[test]
fn the_schema_is_draft_2020_12_and_printed_the_same_every_time() {
    let first = capsim(["schema"]).success();
    let second = capsim(["schema"]).success();
    assert_eq!(first.stdout, second.stdout);
    let schema = printed_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false);
    // Descriptions come from the types' doc comments, for editors.
    assert!(
        schema["properties"]["seed"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("seed")),
        "{}",
        schema["properties"]["seed"]
    );
    let help = capsim(["--help"]).success();
    assert!(help.stdout.contains("schema"), "{help}");
}

#[test]
fn every_shipped_scenario_validates() {
    let validator = Validator::new();
    for path in shipped() {
        let text = std::fs::read_to_string(&path).expect("reading");
        let doc: Value = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).expect("JSON")
        } else {
            continue; // YAML files are checked in `yaml`.
        };
        if let Some(errors) = validator.errors(&doc) {
            panic!("{}: {errors}", path.display());
        }
    }
}

/// Renames the key `from` of the object at `pointer` in `doc` to `to`,
/// keeping its value.
fn misspell(doc: &mut Value, pointer: &str, from: &str, to: &str) {
    let object = doc
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"));
    let value = object
        .shift_remove(from)
        .unwrap_or_else(|| panic!("no `{from}` at {pointer}"));
    object.insert(to.to_owned(), value);
}

#[test]
fn a_misspelt_field_fails_in_every_section() {
    let validator = Validator::new();
    for (file, pointer, from, to) in [
        ("flash-sale.json", "", "duration", "duraton"),
        ("flash-sale.json", "/services/0", "replicas", "replica"),
        ("flash-sale.json", "/databases/0", "shards", "shard"),
        ("flash-sale.json", "/caches/0", "name", "nmae"),
        ("flash-sale.json", "/queues/0", "partitions", "partitons"),
        ("flash-sale.json", "/workloads/0", "target", "taget"),
        ("flash-sale.json", "/load_balancers/0", "policy", "polcy"),
        ("flash-sale.json", "/slo/0", "name", "nam"),
        ("sharding-compare.json", "/sweeps/layouts", "vary", "vray"),
        ("microservices.json", "/faults/0", "at", "att"),
    ] {
        let mut doc = scenario(file);
        assert_eq!(validator.errors(&doc), None, "{file} is valid as shipped");
        misspell(&mut doc, pointer, from, to);
        let errors = validator
            .errors(&doc)
            .unwrap_or_else(|| panic!("{file}: `{to}` at {pointer} passed the schema"));
        assert!(errors.contains(to), "{file} {pointer}: {errors}");
    }
}

#[test]
fn durations_follow_the_parsers_syntax() {
    let validator = Validator::new();
    let mut doc = scenario("mmc.json");
    for good in [
        "250ms", "1.5s", "1h30m", "1h 30m", "10 min", "1e3ms", ".5ms", "5.ms", "2d", " 3s ", "7µs",
    ] {
        doc["warmup"] = json!(good);
        assert_eq!(validator.errors(&doc), None, "{good}");
        assert!(sim_core::SimDuration::parse(good).is_ok(), "{good}");
    }
    for bad in [
        "5",
        "ms",
        "5 parsecs",
        "-3ms",
        "+5ms",
        "1h30",
        "",
        "1.2.3s",
        "1 h x",
    ] {
        doc["warmup"] = json!(bad);
        assert!(
            validator.errors(&doc).is_some(),
            "{bad:?} passed the schema"
        );
        assert!(sim_core::SimDuration::parse(bad).is_err(), "{bad}");
    }
    doc["warmup"] = json!(5);
    assert!(validator.errors(&doc).is_some(), "a bare number");
}

#[test]
fn distributions_take_one_kind_of_the_known_ones() {
    let validator = Validator::new();
    let mut doc = scenario("mmc.json");
    let pointer = "/services/0/endpoints";
    let endpoint = doc
        .pointer(pointer)
        .and_then(Value::as_object)
        .and_then(|e| e.keys().next().cloned())
        .expect("an endpoint");
    let set = |doc: &mut Value, dist: Value| {
        *doc.pointer_mut(&format!("{pointer}/{endpoint}"))
            .expect("endpoint") = json!([{ "compute": dist }]);
    };
    for good in [
        json!("5ms"),
        json!({"constant": "5ms"}),
        json!({"exponential": {"mean": "20ms"}}),
        json!({"lognormal": {"median": "5ms", "p99": "40ms"}}),
        json!({"lognormal": {"mean": "10ms", "stddev": "5ms"}}),
        json!({"lognormal": {"mean": "10ms", "stddev": "5ms", "median": null, "p99": null}}),
        json!({"lognormal": {"median": "5ms", "p99": "40ms", "mean": null}}),
        json!({"gamma": {"mean": "10ms", "cv": 0.5}}),
        json!({"erlang": {"k": 3, "mean": "10ms"}}),
        json!({"empirical": {"min": "1ms", "p50": "12ms", "p99.9": "150ms", "max": "200ms"}}),
        json!({"mixture": [{"weight": 0.9, "dist": "1ms"}, {"weight": 0.1, "dist": {"exponential": {"mean": "9ms"}}}]}),
    ] {
        set(&mut doc, good.clone());
        assert_eq!(validator.errors(&doc), None, "{good}");
        parses(&doc, &good, true);
    }
    for bad in [
        json!({"exponential": {"mean": "20ms"}, "uniform": {"min": "1ms", "max": "2ms"}}),
        json!({"exponentail": {"mean": "20ms"}}),
        json!({"exponential": {"mean": "20ms", "stddev": "1ms"}}),
        json!({"lognormal": {"mean": "10ms", "p99": "40ms"}}),
        json!({"lognormal": {"mean": "10ms", "stddev": "5ms", "median": "5ms"}}),
        json!({"lognormal": {"mean": null, "stddev": "5ms", "median": "5ms"}}),
        json!({"empirical": {"p50": "12ms"}}),
        json!({"empirical": {"median": "12ms", "max": "20ms"}}),
        json!({}),
        json!(5),
    ] {
        set(&mut doc, bad.clone());
        assert!(validator.errors(&doc).is_some(), "{bad} passed the schema");
        parses(&doc, &bad, false);
    }
}

/// The simulator reads `doc` (whose distribution is `dist`) exactly when
/// the schema accepts it (with a bounded queue: a slower distribution
/// would make M/M/c unstable, which no schema says).
fn parses(doc: &Value, dist: &Value, valid: bool) {
    let mut doc = doc.clone();
    doc["services"][0]["queue_capacity"] = json!(10);
    let text = serde_json::to_string_pretty(&doc).expect("JSON");
    match models::load("mmc.json", &text, &[]) {
        Ok(_) => assert!(
            valid,
            "{dist}: the schema refuses it, the simulator reads it"
        ),
        Err(e) => assert!(
            !valid,
            "{dist}: the schema accepts it, the simulator says {e}"
        ),
    }
}

#[test]
fn a_schema_key_is_accepted_by_the_schema_and_the_simulator() {
    let mut doc = scenario("mmc.json");
    let mut with_key = serde_json::Map::new();
    with_key.insert("$schema".into(), json!("./capsim.schema.json"));
    with_key.extend(doc.as_object().expect("object").clone());
    doc = Value::Object(with_key);
    assert_eq!(Validator::new().errors(&doc), None);
    let s = crate::cli::Scratch::new("schema-key");
    let path = s.file(
        "mmc.json",
        &serde_json::to_string_pretty(&doc).expect("JSON"),
    );
    capsim(["validate", path.to_str().expect("UTF-8")]).success();
}
