//! `--set PATH=VALUE`: changing one value of a scenario from the command
//! line. [`parse_path`] documents the path syntax, [`apply_set`] how a
//! path is resolved against the document and how the value is read.

use serde_json::{Map, Value};

use super::locate::strip_position;
use super::locate::{PathSeg, format_path};

/// Why a `--set PATH=VALUE` could not be applied. The message does not
/// repeat the assignment; callers prefix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// The assignment has no `=`.
    #[error("expected PATH=VALUE, but `{assignment}` has no `=`")]
    MissingEquals {
        /// The whole assignment.
        assignment: String,
    },
    /// Nothing before the `=`.
    #[error("the path before `=` is empty")]
    EmptyPath,
    /// The path is not well formed.
    #[error("bad path `{path}`: {reason}")]
    BadPath {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The value starts like JSON but is not valid JSON.
    #[error("the value `{value}` is not valid JSON: {reason}")]
    BadJson {
        /// The value as written.
        value: String,
        /// serde_json's complaint.
        reason: String,
    },
    /// An array index past the end.
    #[error("index {index} is out of range: `{array}` has {len} element(s)")]
    IndexOutOfRange {
        /// The array's path (resolved).
        array: String,
        /// The index asked for.
        index: usize,
        /// The array's length.
        len: usize,
    },
    /// No element of an array has `"name"` equal to the segment.
    #[error("no element named `{name}` in `{array}`; {}", describe_names(.names))]
    NoSuchName {
        /// The array's path (resolved).
        array: String,
        /// The name asked for.
        name: String,
        /// The names of the array's elements, in order.
        names: Vec<String>,
        /// The closest of `names`, if any is close.
        suggestion: Option<String>,
    },
    /// An index used on an object.
    #[error("`{at}` is an object, so [{index}] cannot index it; use a key")]
    IndexOnObject {
        /// The object's path (resolved).
        at: String,
        /// The index asked for.
        index: usize,
    },
    /// An index into an array that does not exist (missing key).
    #[error("`{at}` does not exist, so [{index}] cannot index it")]
    MissingArray {
        /// The missing key's path.
        at: String,
        /// The index asked for.
        index: usize,
    },
    /// The path goes on past a number, string, boolean or null.
    #[error("`{at}` is {found}, so `{segment}` cannot be looked up in it")]
    NotAContainer {
        /// The scalar's path (resolved).
        at: String,
        /// What it is: "a number", "a string", "a boolean" or "null".
        found: &'static str,
        /// The segment that cannot be looked up, formatted.
        segment: String,
    },
}

impl SetError {
    /// The valid name closest to a misspelt one, for
    /// [`NoSuchName`](SetError::NoSuchName); not part of the message.
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            SetError::NoSuchName { suggestion, .. } => suggestion.as_deref(),
            _ => None,
        }
    }
}

/// "the elements are named `a`, `b`" or "its elements have no names".
fn describe_names(names: &[String]) -> String {
    if names.is_empty() {
        return "its elements have no `name`".to_owned();
    }
    let list: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    format!("names present: {}", list.join(", "))
}

/// Parses the path of a `--set PATH=VALUE`.
///
/// A path is keys joined by `.`, with `[i]` for array indices and
/// `["any key"]` (JSON-quoted) for keys holding `.`, `[` or `]`: `seed`,
/// `services[0].replicas`, `services.app.replicas`, `limits["a.b"].max`.
/// This is the syntax `format_path` writes in error messages.
///
/// Segments are returned as written: `app` and `0` are [`PathSeg::Key`]s
/// until [`apply_set`] resolves them against a document; only `[i]` gives a
/// [`PathSeg::Index`].
pub fn parse_path(text: &str) -> Result<Vec<PathSeg>, SetError> {
    if text.trim().is_empty() {
        return Err(SetError::EmptyPath);
    }
    let bad = |reason: String| SetError::BadPath {
        path: text.to_owned(),
        reason,
    };
    let mut segments = Vec::new();
    let mut rest = text;
    let mut need_key = !rest.starts_with('[');
    loop {
        if need_key {
            let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
            if end == 0 {
                let reason = if segments.is_empty() {
                    "it starts with `.`".to_owned()
                } else {
                    "empty key after `.`".to_owned()
                };
                return Err(bad(reason));
            }
            segments.push(PathSeg::Key(rest[..end].to_owned()));
            rest = &rest[end..];
        }
        if let Some(after) = rest.strip_prefix('.') {
            rest = after;
            need_key = true;
        } else if let Some(after) = rest.strip_prefix('[') {
            let (segment, after) = bracket(after).map_err(bad)?;
            segments.push(segment);
            rest = after;
            need_key = false;
        } else if rest.is_empty() {
            return Ok(segments);
        } else {
            return Err(bad(format!("expected `.` or `[` before `{rest}`")));
        }
    }
}

/// Parses the inside of `[...]` (after the `[`): an index or a quoted key.
/// Returns the segment and the text after the `]`.
fn bracket(text: &str) -> Result<(PathSeg, &str), String> {
    if text.starts_with('"') {
        // Find the closing quote, stepping over escapes.
        let mut escaped = false;
        let close = text
            .char_indices()
            .skip(1)
            .find(|&(_, c)| {
                let end = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                end
            })
            .map(|(i, _)| i)
            .ok_or("unterminated quoted key")?;
        let key: String = serde_json::from_str(&text[..=close])
            .map_err(|err| format!("bad quoted key: {}", strip_position(&err.to_string())))?;
        let after = text[close + 1..]
            .strip_prefix(']')
            .ok_or("expected `]` after the quoted key")?;
        return Ok((PathSeg::Key(key), after));
    }
    let close = text.find(']').ok_or("unclosed `[`")?;
    let inside = &text[..close];
    if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "expected an index or a quoted key inside `[...]`, found `{inside}`"
        ));
    }
    let index = inside
        .parse()
        .map_err(|_| format!("index `{inside}` is too large"))?;
    Ok((PathSeg::Index(index), &text[close + 1..]))
}

/// Parses the value of an assignment (see [`apply_set`]).
fn parse_value(text: &str) -> Result<Value, SetError> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(err) if text.trim_start().starts_with(['{', '[', '"']) => Err(SetError::BadJson {
            value: text.to_owned(),
            reason: strip_position(&err.to_string()),
        }),
        Err(_) => Ok(Value::String(text.to_owned())),
    }
}

/// "a number", "null", ... for messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Resolves a parsed path against `doc` without changing it: keys on
/// objects, indices and names on arrays. A missing key ends the walk; the
/// segments after it are kept as keys (they will be created).
fn resolve(doc: &Value, path: &[PathSeg]) -> Result<Vec<PathSeg>, SetError> {
    let mut resolved = Vec::with_capacity(path.len());
    let mut current = doc;
    for (depth, segment) in path.iter().enumerate() {
        match (current, segment) {
            (Value::Object(map), PathSeg::Key(key)) => {
                resolved.push(segment.clone());
                match map.get(key) {
                    Some(value) => current = value,
                    None => {
                        let rest = &path[depth + 1..];
                        // Keys can be created, array elements cannot.
                        if let Some(upto) =
                            rest.iter().position(|seg| matches!(seg, PathSeg::Index(_)))
                            && let PathSeg::Index(index) = rest[upto]
                        {
                            resolved.extend_from_slice(&rest[..upto]);
                            return Err(SetError::MissingArray {
                                at: format_path(&resolved),
                                index,
                            });
                        }
                        resolved.extend_from_slice(rest);
                        return Ok(resolved);
                    }
                }
            }
            (Value::Object(_), &PathSeg::Index(index)) => {
                return Err(SetError::IndexOnObject {
                    at: format_path(&resolved),
                    index,
                });
            }
            (Value::Array(items), _) => {
                let index = match segment {
                    PathSeg::Index(index) => *index,
                    PathSeg::Key(key)
                        if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        // Too many digits for a `usize` is out of range anyway.
                        key.parse().unwrap_or(usize::MAX)
                    }
                    PathSeg::Key(name) => find_named(items, name)
                        .ok_or_else(|| no_such_name(&resolved, items, name))?,
                };
                if index >= items.len() {
                    return Err(SetError::IndexOutOfRange {
                        array: format_path(&resolved),
                        index,
                        len: items.len(),
                    });
                }
                resolved.push(PathSeg::Index(index));
                current = &items[index];
            }
            (scalar, _) => {
                return Err(SetError::NotAContainer {
                    at: format_path(&resolved),
                    found: describe(scalar),
                    segment: segment.to_string(),
                });
            }
        }
    }
    Ok(resolved)
}

/// The index of the first element whose `"name"` is `name`.
fn find_named(items: &[Value], name: &str) -> Option<usize> {
    items
        .iter()
        .position(|item| item.get("name").and_then(Value::as_str) == Some(name))
}

/// The error for a name no element has.
fn no_such_name(array: &[PathSeg], items: &[Value], name: &str) -> SetError {
    let names: Vec<String> = items
        .iter()
        .filter_map(|item| item.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    SetError::NoSuchName {
        array: format_path(array),
        name: name.to_owned(),
        suggestion: super::error::suggest(name, names.iter().map(String::as_str)),
        names,
    }
}

/// Stores `value` at a path produced by [`resolve`], creating missing keys
/// (nested objects, the last one holding `value`). Returns `false` if the
/// path does not fit the document, which `resolve` rules out.
fn store(doc: &mut Value, path: &[PathSeg], value: Value) -> bool {
    let mut current = doc;
    for segment in path {
        current = match (current, segment) {
            (Value::Object(map), PathSeg::Key(key)) => map
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            (Value::Array(items), PathSeg::Index(index)) => match items.get_mut(*index) {
                Some(item) => item,
                None => return false,
            },
            _ => return false,
        };
    }
    *current = value;
    true
}

/// Applies one `--set PATH=VALUE` to `doc` and returns the resolved path.
///
/// The assignment is split at the *first* `=` (so a key holding `=` cannot
/// be set) and the path is read by [`parse_path`].
///
/// # Resolution
///
/// The path is resolved against `doc` one segment at a time:
///
/// - on an object, a segment is a key;
/// - on an array, `[i]` or a segment made only of digits is an index;
/// - on an array, any other segment selects the first element (an object)
///   whose `"name"` field equals it: scenario files keep components in
///   arrays of named objects, so `services.app.replicas` means
///   `services[<index of the service named app>].replicas`. A numeric
///   segment is always an index, even if an element is named `"0"`.
///
/// A key missing from an object is inserted (the schema then rejects it if
/// it is not a known field), and so are the keys after it, as nested
/// objects. Nothing is ever appended to an array: an index must exist.
///
/// The returned path has names replaced by indices
/// (`services[0].replicas` for `services.app.replicas`), so that errors
/// about the new value can be reported against it.
///
/// # Values
///
/// The text after the `=` is parsed as JSON if it is valid JSON (`8`,
/// `true`, `null`, `"2s"`, `[1, 2]`, `{"a": 1}`), and is otherwise taken as
/// a plain string (`range`, `2s`, and the empty string for `seed=`). Text
/// starting with `{`, `[` or `"` must be valid JSON: it was clearly meant
/// as JSON, and silently turning a broken object into a string would only
/// move the error.
///
/// # Errors
///
/// Any [`SetError`]; on error `doc` is unchanged.
pub fn apply_set(doc: &mut Value, assignment: &str) -> Result<Vec<PathSeg>, SetError> {
    let (path, value) = assignment
        .split_once('=')
        .ok_or_else(|| SetError::MissingEquals {
            assignment: assignment.to_owned(),
        })?;
    let path = parse_path(path.trim())?;
    let value = parse_value(value)?;
    let resolved = resolve(doc, &path)?;
    if !store(doc, &resolved, value) {
        // Unreachable: `resolve` only returns paths that fit `doc`.
        return Err(SetError::BadPath {
            path: format_path(&resolved),
            reason: "it does not fit the document".to_owned(),
        });
    }
    Ok(resolved)
}

/// The resolved path of an assignment against a document it has already
/// been applied to, or `None` if it no longer resolves (for example when a
/// later assignment renamed an element).
pub(super) fn resolve_set(doc: &Value, assignment: &str) -> Option<Vec<PathSeg>> {
    let (path, _) = assignment.split_once('=')?;
    resolve(doc, &parse_path(path.trim()).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;
    use serde_json::json;

    fn k(key: &str) -> PathSeg {
        PathSeg::Key(key.to_owned())
    }

    fn i(index: usize) -> PathSeg {
        PathSeg::Index(index)
    }

    fn doc() -> Value {
        json!({
            "seed": 1,
            "services": [
                {"name": "app", "replicas": 2},
                {"name": "api", "replicas": 1, "tags": ["a", "b"]}
            ],
            "databases": [{"name": "orders", "strategy": "hash"}],
            "workloads": [{"name": "shoppers", "timeout": "1s"}]
        })
    }

    #[test]
    fn parses_paths() {
        assert_eq!(parse_path("seed").unwrap(), [k("seed")]);
        assert_eq!(parse_path("a.b.c").unwrap(), [k("a"), k("b"), k("c")]);
        assert_eq!(parse_path("a[2].b").unwrap(), [k("a"), i(2), k("b")]);
        assert_eq!(parse_path("a[2][3]").unwrap(), [k("a"), i(2), i(3)]);
        assert_eq!(parse_path("[0].x").unwrap(), [i(0), k("x")]);
        assert_eq!(parse_path("services.0").unwrap(), [k("services"), k("0")]);
        assert_eq!(
            parse_path(r#"limits["a.b"].c"#).unwrap(),
            [k("limits"), k("a.b"), k("c")]
        );
        assert_eq!(parse_path(r#"["q\"]"].x"#).unwrap(), [k("q\"]"), k("x")]);
        // What `format_path` writes, `parse_path` reads back.
        let path = [k("a b"), i(3), k("x.y"), k("é"), k("")];
        assert_eq!(parse_path(&format_path(&path)).unwrap(), path);
    }

    #[test]
    fn rejects_bad_paths() {
        assert_eq!(parse_path(""), Err(SetError::EmptyPath));
        assert_eq!(parse_path("  "), Err(SetError::EmptyPath));
        for (text, reason) in [
            (".a", "starts with `.`"),
            ("a..b", "empty key after `.`"),
            ("a.", "empty key after `.`"),
            ("a[", "unclosed `[`"),
            ("a[x]", "found `x`"),
            ("a[]", "found ``"),
            ("a[-1]", "found `-1`"),
            ("a[99999999999999999999999]", "too large"),
            ("a]", "expected `.` or `[` before `]`"),
            ("a[0]b", "before `b`"),
            (r#"a["b"#, "unterminated"),
            (r#"a["b"c]"#, "expected `]`"),
            (r#"a["\q"]"#, "bad quoted key"),
        ] {
            match parse_path(text) {
                Err(SetError::BadPath { path, reason: got }) => {
                    assert_eq!(path, text);
                    assert!(got.contains(reason), "{text}: {got}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn sets_by_key_index_and_name() {
        let mut d = doc();
        assert_eq!(
            apply_set(&mut d, "services.app.replicas=8").unwrap(),
            [k("services"), i(0), k("replicas")]
        );
        assert_eq!(d["services"][0]["replicas"], json!(8));
        assert_eq!(
            apply_set(&mut d, "services[1].replicas=3").unwrap(),
            [k("services"), i(1), k("replicas")]
        );
        assert_eq!(d["services"][1]["replicas"], json!(3));
        assert_eq!(
            apply_set(&mut d, "services.1.tags.0=z").unwrap(),
            [k("services"), i(1), k("tags"), i(0)]
        );
        assert_eq!(d["services"][1]["tags"], json!(["z", "b"]));
        assert_eq!(apply_set(&mut d, "seed=3").unwrap(), [k("seed")]);
        assert_eq!(d["seed"], json!(3));
    }

    #[test]
    fn parses_values_as_json_or_plain_strings() {
        let mut d = doc();
        apply_set(&mut d, "databases.orders.strategy=range").unwrap();
        assert_eq!(d["databases"][0]["strategy"], json!("range"));
        apply_set(&mut d, r#"workloads[0].timeout="2s""#).unwrap();
        assert_eq!(d["workloads"][0]["timeout"], json!("2s"));
        apply_set(&mut d, "workloads.shoppers.timeout=3s").unwrap();
        assert_eq!(d["workloads"][0]["timeout"], json!("3s"));
        apply_set(&mut d, "seed=").unwrap();
        assert_eq!(d["seed"], json!(""));
        apply_set(&mut d, "a=x=y").unwrap();
        assert_eq!(d["a"], json!("x=y"));
        apply_set(&mut d, r#"services.api={"name": "api", "replicas": 5}"#).unwrap();
        assert_eq!(d["services"][1], json!({"name": "api", "replicas": 5}));
        apply_set(&mut d, "flag=true").unwrap();
        apply_set(&mut d, "list=[1, 2]").unwrap();
        assert_eq!((&d["flag"], &d["list"]), (&json!(true), &json!([1, 2])));
        assert!(matches!(
            apply_set(&mut d, r#"seed={"a": 1"#),
            Err(SetError::BadJson { .. })
        ));
    }

    #[test]
    fn inserts_missing_keys() {
        let mut d = doc();
        assert_eq!(
            apply_set(&mut d, "services.app.concurency=4").unwrap(),
            [k("services"), i(0), k("concurency")]
        );
        assert_eq!(d["services"][0]["concurency"], json!(4));
        assert_eq!(
            apply_set(&mut d, "faults.latency.p99=3").unwrap(),
            [k("faults"), k("latency"), k("p99")]
        );
        assert_eq!(d["faults"], json!({"latency": {"p99": 3}}));
    }

    #[test]
    fn reports_bad_assignments_and_leaves_the_document_alone() {
        let mut d = doc();
        let original = d.clone();
        assert_eq!(
            apply_set(&mut d, "seed"),
            Err(SetError::MissingEquals {
                assignment: "seed".to_owned()
            })
        );
        assert_eq!(apply_set(&mut d, "=3"), Err(SetError::EmptyPath));
        assert_eq!(
            apply_set(&mut d, "services[5].replicas=1"),
            Err(SetError::IndexOutOfRange {
                array: "services".to_owned(),
                index: 5,
                len: 2
            })
        );
        assert_eq!(
            apply_set(&mut d, "services.9=1"),
            Err(SetError::IndexOutOfRange {
                array: "services".to_owned(),
                index: 9,
                len: 2
            })
        );
        let err = apply_set(&mut d, "services.ap.replicas=1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no element named `ap` in `services`; names present: `app`, `api`"
        );
        assert_eq!(err.suggestion(), Some("app"));
        let err = apply_set(&mut d, "services.api.tags.first=1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no element named `first` in `services[1].tags`; its elements have no `name`"
        );
        assert_eq!(err.suggestion(), None);
        assert_eq!(
            apply_set(&mut d, "seed.x=1").unwrap_err().to_string(),
            "`seed` is a number, so `x` cannot be looked up in it"
        );
        assert_eq!(
            apply_set(&mut d, "databases.orders.strategy[0]=1")
                .unwrap_err()
                .to_string(),
            "`databases[0].strategy` is a string, so `[0]` cannot be looked up in it"
        );
        assert_eq!(
            apply_set(&mut d, "services[0][1]=1"),
            Err(SetError::IndexOnObject {
                at: "services[0]".to_owned(),
                index: 1
            })
        );
        assert_eq!(
            apply_set(&mut d, "new.list[0].x=1"),
            Err(SetError::MissingArray {
                at: "new.list".to_owned(),
                index: 0
            })
        );
        assert_eq!(d, original);
    }

    proptest::proptest! {
        /// `parse_path` reads back whatever `format_path` writes, and
        /// never panics.
        #[test]
        fn formatted_paths_parse_back(
            path in proptest::collection::vec(
                proptest::prop_oneof![
                    "\\PC{0,6}".prop_map(PathSeg::Key),
                    (0usize..1000).prop_map(PathSeg::Index),
                ],
                1..6,
            ),
            junk in "\\PC{0,24}",
        ) {
            proptest::prop_assert_eq!(parse_path(&format_path(&path)).unwrap(), path);
            let _ = parse_path(&junk);
            let _ = apply_set(&mut doc(), &junk);
        }
    }

    #[test]
    fn resolves_applied_sets() {
        let mut d = doc();
        apply_set(&mut d, "services.api.replicas=4").unwrap();
        assert_eq!(
            resolve_set(&d, "services.api.replicas=4"),
            Some(vec![k("services"), i(1), k("replicas")])
        );
        assert_eq!(resolve_set(&d, "nonsense"), None);
    }
}
