//! Scaffolding shared by the theory tests: a scenario given as JSON loaded
//! and run with its invariants checked, and a measurement held against a
//! closed form.

use models::Results;
use serde_json::Value;

use crate::conservation::assert_invariants;

/// Seed of every simulated case; any other should pass too.
pub const SEED: u64 = 1;

/// `v` loaded as the file `file` (named in error messages).
pub fn load(file: &str, v: &Value) -> models::Model {
    models::load(file, &v.to_string(), &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .1
}

/// Loads, runs and checks the invariants of every results document.
pub fn run(file: &str, v: &Value) -> Results {
    let r = models::simulate(&load(file, v)).unwrap_or_else(|e| panic!("{e}"));
    assert_invariants(&r, file);
    r
}

/// `|measured - theory| <= tol`, printed either way.
pub fn close(what: &str, measured: f64, theory: f64, tol: f64) {
    let ok = (measured - theory).abs() <= tol;
    eprintln!(
        "{what}: {measured:.6}, theory {theory:.6}, tolerance ±{tol:.6} ({})",
        if ok { "ok" } else { "FAILED" }
    );
    assert!(
        ok,
        "{what}: {measured} vs theory {theory} ± {tol} (seed {SEED})"
    );
}

/// The path and values of the first difference between two documents.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}.{k} is missing from the second")),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k} is missing from the first"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}
