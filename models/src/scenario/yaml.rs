//! Scenario files in YAML: the text is read into the same
//! [`serde_json::Value`] a JSON file gives (so `--set`, the typed schema
//! and every semantic check are shared), and paths are found back in the
//! YAML text for located errors.
//!
//! Parsing is `saphyr` (YAML 1.2, positions on every node, duplicate keys
//! refused, alias expansion bounded). Scalars are resolved by the YAML 1.2
//! core schema, which is JSON's: `no`, `on`, `1h30m` and `12:30` stay
//! strings, `010` is 10 (not octal 8), `0o10` and `0x1F` are integers,
//! `~` and an empty value are null; quoted scalars are always strings.
//! A number is the number JSON text with the same digits gives: integers
//! beyond `i64` up to `u64::MAX` stay integers, and `.inf` or `.nan`,
//! which JSON cannot hold, are refused.

use std::borrow::Cow;

use saphyr::{MarkedYaml, Scalar, ScalarStyle, Tag, YamlData, YamlLoader};
use saphyr_parser::{Marker, Parser};
use serde_json::{Map, Number, Value};

use super::error::ScenarioError;
use super::locate::{Location, PathSeg};

/// Most nodes that aliases (`*name`) may expand to in one file: far more
/// than any scenario needs, few enough that a "billion laughs" file is
/// refused instead of filling memory.
const ALIAS_LIMIT: usize = 100_000;

/// A YAML position (line from 1, column from 0) as a [`Location`].
fn location(marker: &Marker) -> Location {
    Location {
        line: marker.line().max(1),
        column: marker.col() + 1,
    }
}

/// The documents of `text`, with positions and scalars unresolved.
fn load(text: &str) -> Result<Vec<MarkedYaml<'_>>, (Location, String)> {
    let mut parser = Parser::new_from_str(text);
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    loader.alias_limit(ALIAS_LIMIT);
    let scanned = parser.load(&mut loader, true);
    let error = scanned.err().or_else(|| loader.error().cloned());
    if let Some(e) = error {
        return Err((location(e.marker()), e.info().to_owned()));
    }
    Ok(loader.into_documents())
}

/// Reads the YAML `text` (from `file`) into the value the same scenario
/// written in JSON gives.
///
/// # Errors
///
/// [`Syntax`](super::ScenarioErrorKind::Syntax), located, when the text is
/// not YAML, holds no document or more than one, uses a tag of its own
/// (`!thing`), a key that is not a scalar, a key twice, a number JSON
/// cannot hold (`.inf`, `.nan`), or values nested deeper than
/// [`MAX_DEPTH`].
#[allow(clippy::result_large_err, reason = "see `parse_document`")]
pub fn to_value(file: &str, text: &str) -> Result<Value, ScenarioError> {
    let syntax = |(at, message): (Location, String)| ScenarioError::syntax_at(file, at, message);
    let mut docs = load(text).map_err(syntax)?;
    if docs.len() > 1 {
        return Err(syntax((
            location(&docs[1].span.start),
            "a second YAML document (after `---`): a scenario file holds one".to_owned(),
        )));
    }
    let Some(doc) = docs.pop().filter(|d| !matches!(d.data, YamlData::BadValue)) else {
        return Err(syntax((
            Location { line: 1, column: 1 },
            "the file holds no YAML document".to_owned(),
        )));
    };
    convert(&doc, 0).map_err(syntax)
}

/// The deepest nesting of lists and maps read, as serde_json's limit for
/// JSON text: no scenario comes near it, and it keeps the recursion
/// below from exhausting the stack.
pub const MAX_DEPTH: usize = 128;

/// One node (at `depth` lists and maps down) as a JSON value.
fn convert(node: &MarkedYaml<'_>, depth: usize) -> Result<Value, (Location, String)> {
    let at = location(&node.span.start);
    if depth > MAX_DEPTH {
        return Err((at, format!("nested more than {MAX_DEPTH} levels deep")));
    }
    match &node.data {
        YamlData::Representation(text, style, tag) => {
            scalar(text, *style, tag.as_ref()).map_err(|why| (at, why))
        }
        YamlData::Value(value) => from_scalar(value.clone()).ok_or((at, NOT_JSON.to_owned())),
        YamlData::Sequence(items) => items
            .iter()
            .map(|item| convert(item, depth + 1))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        YamlData::Mapping(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, value) in entries {
                let key_at = location(&key.span.start);
                let Some(name) = key_text(key) else {
                    return Err((
                        key_at,
                        "a key must be a plain value such as `name`, not a list or a map"
                            .to_owned(),
                    ));
                };
                if map.contains_key(name.as_ref()) {
                    return Err((key_at, format!("duplicated key `{name}` in mapping")));
                }
                map.insert(name.into_owned(), convert(value, depth + 1)?);
            }
            Ok(Value::Object(map))
        }
        YamlData::Tagged(tag, _) => Err((at, not_ours(tag))),
        YamlData::Alias(_) | YamlData::BadValue => {
            Err((at, "an alias to an unknown anchor".to_owned()))
        }
    }
}

/// A key's text: any scalar, as written (`1: x` has the key `"1"`).
fn key_text<'a>(key: &'a MarkedYaml<'_>) -> Option<Cow<'a, str>> {
    match &key.data {
        YamlData::Representation(text, _, _) => Some(Cow::Borrowed(text.as_ref())),
        _ => None,
    }
}

/// A scalar resolved by the YAML 1.2 core schema, or why it cannot be
/// read: a tag of the file's own, a value its tag refuses (`!!int x`), or
/// a number JSON cannot hold.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Cow<'_, Tag>>) -> Result<Value, String> {
    if let Some(tag) = tag
        && !tag.is_yaml_core_schema()
    {
        return Err(not_ours(tag));
    }
    if style == ScalarStyle::Plain
        && tag.is_none()
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(big) = text.parse::<u64>()
    {
        // Beyond `i64` (saphyr's integers) up to `u64::MAX`: an integer,
        // as serde_json reads the same digits.
        return Ok(Value::Number(big.into()));
    }
    let resolved = Scalar::parse_from_cow_and_metadata(Cow::Borrowed(text), style, tag)
        .ok_or_else(|| format!("`{text}` is not a value of its tag"))?;
    from_scalar(resolved).ok_or_else(|| NOT_JSON.to_owned())
}

/// Why a float cannot be read.
const NOT_JSON: &str = "not a number JSON can hold (.inf and .nan have no JSON form)";

/// Why a tag of the file's own is refused.
fn not_ours(tag: &Tag) -> String {
    format!("the tag `{tag}` is not part of a scenario: write the value without it")
}

/// A resolved scalar as JSON; `None` for a float JSON cannot hold.
fn from_scalar(value: Scalar<'_>) -> Option<Value> {
    Some(match value {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(i.into()),
        Scalar::FloatingPoint(f) => Value::Number(Number::from_f64(f.into_inner())?),
        Scalar::String(s) => Value::String(s.into_owned()),
    })
}

/// Where the value at `path` is in the YAML `text`, as far as the path
/// exists: (the value's position, its key's position when it is a
/// member, whether the whole path was found). `None` when the text holds
/// no document.
pub fn find(text: &str, path: &[PathSeg]) -> Option<(Location, Option<Location>, bool)> {
    let docs = load(text).ok()?;
    let mut node = docs.first()?;
    let mut key_at = None;
    for (depth, seg) in path.iter().enumerate() {
        let step = match (seg, &node.data) {
            (PathSeg::Key(name), YamlData::Mapping(entries)) => entries
                .iter()
                .find(|(k, _)| key_text(k).is_some_and(|k| k == name.as_str()))
                .map(|(k, v)| (Some(location(&k.span.start)), v)),
            (PathSeg::Index(i), YamlData::Sequence(items)) => items.get(*i).map(|v| (None, v)),
            _ => None,
        };
        let Some((key, next)) = step else {
            return Some((location(&node.span.start), key_at, false));
        };
        node = next;
        key_at = key;
        if depth + 1 == path.len() {
            break;
        }
    }
    Some((location(&node.span.start), key_at, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(text: &str) -> Value {
        to_value("x.yaml", text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn scalars_read_as_the_json_with_the_same_digits() {
        let doc = value(
            "a: no\nb: on\nc: 010\nd: 0o10\ne: 1h30m\nf: 12:30\ng: ~\nh:\ni: 1_000\n\
             j: .5\nk: 1e3\nl: 18446744073709551615\nm: -3\nn: true\no: 'true'\np: \"12\"\n\
             q: 1.0\nr: 0x1F\ns: 250ms\nt: 0.1\nu: 2.5e-3\nv: !!str 12\n",
        );
        let expected = json!({
            "a": "no", "b": "on", "c": 10, "d": 8, "e": "1h30m", "f": "12:30",
            "g": null, "h": null, "i": "1_000", "j": 0.5, "k": 1000.0,
            "l": 18_446_744_073_709_551_615u64, "m": -3, "n": true, "o": "true",
            "p": "12", "q": 1.0, "r": 31, "s": "250ms", "t": 0.1, "u": 0.0025, "v": "12",
        });
        assert_eq!(doc, expected);
        // Numbers are the very numbers JSON text gives: integers stay
        // integers and floats floats, bit for bit.
        let doc = value("q: 1.0\nk: 1e3\nt: 0.1\nc: 10\nbig: 99999999999999999999\n");
        let from_json: Value = serde_json::from_str(
            r#"{"q": 1.0, "k": 1e3, "t": 0.1, "c": 10, "big": 99999999999999999999}"#,
        )
        .unwrap();
        for key in ["q", "k", "t", "c", "big"] {
            assert_eq!(doc[key], from_json[key], "{key}");
            assert_eq!(doc[key].to_string(), from_json[key].to_string(), "{key}");
        }
    }

    #[test]
    fn keys_are_their_text_and_order_is_kept() {
        let doc = value("z: 1\n1: 2\ntrue: 3\na: 4\n");
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "1", "true", "a"]);
    }

    #[test]
    fn what_json_cannot_hold_is_refused_where_it_is() {
        for (text, at, message) in [
            ("a: .inf\n", (1, 4), "not a number JSON can hold"),
            ("a: 1\nb: .nan\n", (2, 4), "not a number JSON can hold"),
            ("a: 1\na: 2\n", (2, 1), "duplicated key"),
            ("a: 1\n\"a\": 2\n", (2, 1), "duplicated key `a`"),
            ("? [1, 2]\n: x\n", (1, 3), "a key must be a plain value"),
            ("a: &x [1]\nb: *y\n", (2, 4), ""),
            ("a: [1\n", (2, 1), ""),
            ("a: !!int x\n", (1, 4), "is not a value of its tag"),
            (
                "a: !thing x\n",
                (1, 4),
                "the tag `!thing` is not part of a scenario",
            ),
            (
                "a: !thing [x]\n",
                (1, 4),
                "the tag `!thing` is not part of a scenario",
            ),
        ] {
            let err = to_value("x.yaml", text).unwrap_err();
            assert_eq!(
                err.location,
                Some(Location {
                    line: at.0,
                    column: at.1
                }),
                "{text:?}: {err}"
            );
            assert!(err.message.contains(message), "{text:?}: {err}");
            assert_eq!(err.kind, super::super::ScenarioErrorKind::Syntax);
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_a_crash() {
        for depth in [200, 100_000] {
            let text = format!("a: {}{}", "[".repeat(depth), "]".repeat(depth));
            let err = to_value("x.yaml", &text).unwrap_err();
            assert_eq!(err.kind, super::super::ScenarioErrorKind::Syntax, "{err}");
        }
        let text = format!("a: {}1{}", "[".repeat(100), "]".repeat(100));
        assert!(to_value("x.yaml", &text).is_ok());
    }

    #[test]
    fn a_billion_laughs_is_refused_not_expanded() {
        let mut text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_owned();
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = to_value("x.yaml", &text).unwrap_err();
        assert!(err.message.contains("alias expansion"), "{err}");
    }

    #[test]
    fn finds_keys_and_values_by_path() {
        let text = "name: shop\nservices:\n  - name: app\n    replicas: 2\n  - { name: db, replicas: 1 }\n";
        let k = |s: &str| PathSeg::Key(s.to_owned());
        let at = |line, column| Location { line, column };
        let path = [k("services"), PathSeg::Index(1), k("replicas")];
        assert_eq!(find(text, &path), Some((at(5, 27), Some(at(5, 17)), true)));
        let path = [k("services"), PathSeg::Index(0), k("replicas")];
        assert_eq!(find(text, &path), Some((at(4, 15), Some(at(4, 5)), true)));
        // A missing field: the object that should hold it.
        let path = [k("services"), PathSeg::Index(0), k("concurrency")];
        assert_eq!(find(text, &path), Some((at(3, 5), None, false)));
        assert_eq!(find(text, &[]), Some((at(1, 1), None, true)));
        assert_eq!(find("", &[k("a")]), None);
    }
}
