//! The layering of `models/src`, held by a test: the file machinery
//! (`scenario/`) and the shared vocabulary (`model/`) import nothing of the
//! rest, the kernel imports only them, a component kind imports no other
//! kind, and the wiring (`system/`) comes last — so there is no import
//! circle, and adding a kind cannot tangle the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The layer a file of `models/src` belongs to: `kinds::<kind>` for a
/// kind's files, else its top folder.
fn layer(relative: &Path) -> String {
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    match parts.as_slice() {
        [kinds, kind, ..] if kinds == "kinds" => format!("kinds::{kind}"),
        [top, ..] => top.clone(),
        [] => String::new(),
    }
}

/// What each layer of `models/src` imports (`crate::...` paths outside
/// test modules).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources(&root) {
        let text = std::fs::read_to_string(&file).expect("readable source");
        // Test modules may reach anything (the driver, to load a file).
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let from = layer(file.strip_prefix(&root).expect("under models/src"));
        for (i, _) in code.match_indices("crate::") {
            let path: String = code[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segs = path.split("::");
            let top = segs.next().unwrap_or_default().to_owned();
            let to = match (top.as_str(), segs.next()) {
                ("kinds", Some(kind)) if !kind.is_empty() => format!("kinds::{kind}"),
                _ => top,
            };
            if to != from && !from.starts_with(&format!("{to}::")) {
                out.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    out
}

#[test]
fn models_is_layered_without_import_circles() {
    let imports = imports();
    let allowed = |from: &str, to: &str| -> bool {
        let below = |t: &str, layers: &[&str]| layers.contains(&t);
        match from {
            "scenario" | "model" => false,
            "kernel" => below(to, &["scenario", "model"]),
            f if f.starts_with("kinds::") => below(to, &["scenario", "model", "kernel"]),
            "doc" => below(to, &["scenario", "model", "kernel"]) || to.starts_with("kinds::"),
            // The wiring and the crate root may use everything.
            _ => true,
        }
    };
    let mut wrong = Vec::new();
    for (from, tos) in &imports {
        for to in tos {
            // Doc comments name types by path (e.g. `crate::Results`).
            if to.chars().next().is_some_and(char::is_uppercase) {
                continue;
            }
            if !allowed(from, to) {
                wrong.push(format!("{from} imports {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "models/src breaks its layering (scenario, model < kernel < kinds (none importing another) < doc < system):\n  {}",
        wrong.join("\n  ")
    );
    // Not vacuous: the layers exist and import what they build on.
    assert!(imports["kernel"].contains("model"), "{imports:?}");
    assert!(imports["kinds::cache"].contains("kernel"), "{imports:?}");
    assert!(imports["system"].contains("kinds::service"), "{imports:?}");
}
