//! How values are written, in the terminal and on the pages alike: one
//! function per kind, so that a figure reads the same wherever it is
//! printed.

use serde_json::Value;

/// The last segment of a field path, with its parent when the path is
/// longer than two (`services.app.replicas` -> `app.replicas`): the field
/// and whose it is, which is what tells the columns of a sweep apart; the
/// whole path is in the page's "what varies" table.
pub fn short_path(path: &str) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    match segs.as_slice() {
        [.., parent, last] if segs.len() > 2 => format!("{parent}.{last}"),
        _ => path.to_string(),
    }
}

/// A sweep value as text: strings without quotes (`hash`, not `"hash"`),
/// everything else as JSON (`8`, `true`, `{"zipf":{"n":100}}`).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A variant's parameters, each as its [`short_path`] and its
/// [`value_text`]: `station.concurrency=8 orders.strategy=hash`.
pub fn params<'a>(params: impl IntoIterator<Item = (&'a String, &'a Value)>) -> String {
    params
        .into_iter()
        .map(|(p, v)| format!("{}={}", short_path(p), value_text(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_paths_keep_the_field_and_its_owner() {
        assert_eq!(short_path("databases.orders.shard_key"), "orders.shard_key");
        assert_eq!(short_path("services.app.replicas"), "app.replicas");
        assert_eq!(short_path("a.b"), "a.b");
        assert_eq!(short_path("seed"), "seed");
        assert_eq!(short_path(""), "");
        assert_eq!(short_path("a..b"), ".b");
    }

    #[test]
    fn values_without_quotes_for_strings() {
        assert_eq!(value_text(&json!("hash")), "hash");
        assert_eq!(value_text(&json!(8)), "8");
        assert_eq!(value_text(&json!(0.5)), "0.5");
        assert_eq!(value_text(&json!(true)), "true");
        assert_eq!(value_text(&json!(null)), "null");
        assert_eq!(
            value_text(&json!({"zipf": {"n": 100}})),
            "{\"zipf\":{\"n\":100}}"
        );
    }
}
