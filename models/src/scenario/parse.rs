//! Reading a scenario document: JSON or YAML text (see
//! [`is_yaml`](super::locate::is_yaml)), then `--set` overrides, then the
//! typed schema, every error located in the file.
//!
//! The typed value is deserialized from a [`serde_json::Value`] (so that
//! overrides can edit it first), which keeps no positions: each error's
//! location comes from finding its path in the original text with
//! [`locate`](fn@super::locate).
//!
//! Paths come from `serde_path_to_error`, which sees through structs,
//! sequences, maps, `Option`s, newtypes and externally tagged enums (the
//! serde default). It cannot see into internally tagged, adjacently tagged
//! or untagged enums, nor `#[serde(flatten)]` fields, which serde buffers:
//! errors inside those are reported at the enum or the flattening struct.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use super::error::{ScenarioError, ScenarioErrorKind, suggest};
use super::locate::{PathSeg, is_yaml, locate_in, locate_key_in, strip_position};
use super::overrides::apply_set;

/// Parses a scenario document of type `T` from `text` (read from `file`,
/// which is only used in errors), after applying the `--set PATH=VALUE`
/// assignments in `sets` in order.
///
/// Returns the typed document and the final JSON value, overrides
/// included, which is what later semantic checks should locate paths in
/// (with [`ScenarioError::invalid`] and
/// [`ScenarioError::attribute_to_sets`]).
///
/// # Errors
///
/// - [`Syntax`](ScenarioErrorKind::Syntax): `text` is not JSON (located
///   where serde_json stopped) or not a YAML scenario (located by the YAML
///   reader, see `yaml::to_value`).
/// - [`Override`](ScenarioErrorKind::Override): an assignment could not be
///   applied; the message names it.
/// - [`UnknownField`](ScenarioErrorKind::UnknownField): an unknown key
///   (located at the key) or an unknown enum variant (located at the value,
///   or at the variant's key for `{"variant": {...}}`), with the closest
///   valid name as suggestion. The message is shortened to "unknown field
///   `x`" when there is a suggestion, and keeps serde's list of expected
///   names when there is none.
/// - [`Type`](ScenarioErrorKind::Type): wrong type, out-of-range value or
///   wrong length (located at the value), or a missing field (located at
///   the object that lacks it).
/// - [`Invalid`](ScenarioErrorKind::Invalid): any other error raised while
///   deserializing, such as a custom `Deserialize` rejecting a value.
///
/// A value that came from an assignment has no location in the file; the
/// error names the assignment in `from_override` instead.
#[allow(
    clippy::result_large_err,
    reason = "a scenario error is built once, on the way out, and carries everything the \
              user needs to see; boxing it would buy nothing"
)]
pub fn parse_document<T: DeserializeOwned>(
    file: &str,
    text: &str,
    sets: &[String],
) -> Result<(T, Value), ScenarioError> {
    parse_value(file, text, parse_text(file, text)?, sets)
}

/// The document in `text`, before overrides and the schema: a
/// [`Syntax`](ScenarioErrorKind::Syntax) error, located, if it is not one.
#[allow(clippy::result_large_err, reason = "as parse_document")]
pub fn parse_text(file: &str, text: &str) -> Result<Value, ScenarioError> {
    if is_yaml(file, text) {
        super::yaml::to_value(file, text)
    } else {
        serde_json::from_str(text).map_err(|err| ScenarioError::syntax(file, text, &err))
    }
}

/// [`parse_document`] for a document already parsed from `text` (errors
/// are still located in `text`): lets a caller parse once and build many
/// variants of it, each in time independent of the text's size.
#[allow(clippy::result_large_err, reason = "as parse_document")]
pub fn parse_value<T: DeserializeOwned>(
    file: &str,
    text: &str,
    mut doc: Value,
    sets: &[String],
) -> Result<(T, Value), ScenarioError> {
    let mut applied: Vec<(Vec<PathSeg>, &str)> = Vec::with_capacity(sets.len());
    for set in sets {
        let path =
            apply_set(&mut doc, set).map_err(|err| ScenarioError::bad_override(file, set, &err))?;
        applied.push((path, set));
    }
    match serde_path_to_error::deserialize::<_, T>(&doc) {
        Ok(typed) => Ok((typed, doc)),
        Err(err) => {
            let path = to_path_segs(err.path(), &doc);
            let message = strip_position(&err.into_inner().to_string());
            Err(schema_error(file, text, &doc, path, message).attribute_to_resolved(text, &applied))
        }
    }
}

/// Converts serde_path_to_error's path to ours, checking it against `doc`.
///
/// An enum segment is the variant's name: for `{"variant": {...}}` it is a
/// key of the document and is kept; for a bare `"variant"` string there is
/// no such key and it is dropped. An unknown segment (a non-string map key)
/// ends the path.
fn to_path_segs(path: &serde_path_to_error::Path, doc: &Value) -> Vec<PathSeg> {
    let mut out = Vec::new();
    let mut current = Some(doc);
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                out.push(PathSeg::Index(*index));
                current = current.and_then(|value| value.get(*index));
            }
            Segment::Map { key } => {
                out.push(PathSeg::Key(key.clone()));
                current = current.and_then(|value| value.get(key));
            }
            Segment::Enum { variant } => {
                if let Some(inner) = current.and_then(|value| value.as_object()?.get(variant)) {
                    out.push(PathSeg::Key(variant.clone()));
                    current = Some(inner);
                }
            }
            Segment::Unknown => break,
        }
    }
    out
}

/// Builds the error for a message serde raised at `path`.
fn schema_error(
    file: &str,
    text: &str,
    doc: &Value,
    path: Vec<PathSeg>,
    message: String,
) -> ScenarioError {
    if let Some((what, name, expected)) = unknown_name(&message) {
        let suggestion = suggest(&name, expected.iter().map(String::as_str));
        let location = if what == "field" {
            locate_key_in(file, text, &path)
        } else if value_at(doc, &path)
            .and_then(Value::as_object)
            .is_some_and(|map| map.contains_key(&name))
        {
            // `{"round_robbin": {...}}`: point at the variant's key.
            let mut variant_key = path.clone();
            variant_key.push(PathSeg::Key(name.clone()));
            locate_key_in(file, text, &variant_key)
        } else {
            locate_in(file, text, &path)
        };
        let message = if suggestion.is_some() {
            format!("unknown {what} `{name}`")
        } else {
            message
        };
        let mut error = ScenarioError::invalid(file, text, &path, message);
        error.kind = ScenarioErrorKind::UnknownField;
        error.location = location;
        error.suggestion = suggestion;
        return error;
    }
    let kind = if [
        "invalid type",
        "invalid value",
        "invalid length",
        "missing field",
    ]
    .iter()
    .any(|prefix| message.starts_with(prefix))
    {
        ScenarioErrorKind::Type
    } else {
        ScenarioErrorKind::Invalid
    };
    // `"replicas": "12"`: the number is there, in quotes.
    let help = match value_at(doc, &path) {
        Some(Value::String(inner)) if message.starts_with("invalid type: string") => {
            match serde_json::from_str::<Value>(inner.trim()) {
                Ok(Value::Number(n)) => Some(format!("write a number: {n} (without quotes)")),
                Ok(Value::Bool(b)) => Some(format!("write {b} without quotes")),
                _ => step_form(&path, &message, inner),
            }
        }
        _ => None,
    };
    let mut error = ScenarioError::invalid(file, text, &path, message);
    error.kind = kind;
    error.help = help;
    error
}

/// `{"read": "pg"}`: a step written as its target's name alone, where
/// the step is an object; the hint shows the object (`{"read": {"db":
/// "pg"}}`), with the other fields it needs.
fn step_form(path: &[PathSeg], message: &str, name: &str) -> Option<String> {
    let (_, ty) = message.split_once(", expected struct ")?;
    let (field, more) = match ty.trim() {
        "DbStep" | "WriteStep" | "ScatterStep" => ("db", ""),
        "CacheStep" => ("cache", r#", "key": "user_id""#),
        "PublishStep" => ("queue", ""),
        "CallStep" => ("target", r#", "endpoint": "ENDPOINT""#),
        _ => return None,
    };
    let Some(PathSeg::Key(step)) = path.last() else {
        return None;
    };
    let name = serde_json::to_string(name).ok()?;
    Some(format!(
        "a step is an object: write {{\"{step}\": {{\"{field}\": {name}{more}}}}}"
    ))
}

/// The value at `path` in `doc`.
fn value_at<'a>(doc: &'a Value, path: &[PathSeg]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |value, segment| match segment {
        PathSeg::Key(key) => value.get(key),
        PathSeg::Index(index) => value.get(index),
    })
}

/// Takes apart serde's standard messages
/// "unknown field `x`, expected one of `a`, `b`" (or "expected `a`",
/// "expected `a` or `b`", "there are no fields") and the same for
/// "unknown variant": returns ("field" or "variant", the name, the expected
/// names).
fn unknown_name(message: &str) -> Option<(&'static str, String, Vec<String>)> {
    let (what, rest) = if let Some(rest) = message.strip_prefix("unknown field `") {
        ("field", rest)
    } else {
        ("variant", message.strip_prefix("unknown variant `")?)
    };
    if let Some(at) = rest.rfind("`, expected ") {
        let list = &rest[at + "`, expected ".len()..];
        // Names sit between backticks: every odd piece of the split.
        let expected = list
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        return Some((what, rest[..at].to_owned(), expected));
    }
    let at = rest.rfind("`, there are no ")?;
    Some((what, rest[..at].to_owned(), Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::locate::Location;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        seed: u64,
        services: Vec<Service>,
        #[serde(default)]
        balancer: Option<Balancer>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Service {
        name: String,
        replicas: u32,
        #[serde(default)]
        concurrency: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "snake_case")]
    enum Balancer {
        RoundRobin,
        LeastConn,
        Weighted { weights: Vec<u32> },
    }

    const TEXT: &str = r#"{
  "seed": 7,
  "services": [
    { "name": "app", "replicas": 2 },
    { "name": "db", "replicas": 1 }
  ],
  "balancer": "round_robin"
}"#;

    #[allow(clippy::result_large_err, reason = "see `parse_document`")]
    fn parse(text: &str, sets: &[&str]) -> Result<(Doc, Value), ScenarioError> {
        let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
        parse_document("x.json", text, &sets)
    }

    fn at(line: usize, column: usize) -> Option<Location> {
        Some(Location { line, column })
    }

    /// `TEXT` with one piece replaced.
    fn edit(from: &str, to: &str) -> String {
        assert!(TEXT.contains(from));
        TEXT.replacen(from, to, 1)
    }

    #[test]
    fn parses_a_valid_document() {
        let (doc, value) = parse(TEXT, &[]).unwrap();
        assert_eq!(doc.seed, 7);
        assert_eq!(doc.services[1].name, "db");
        assert_eq!(doc.balancer, Some(Balancer::RoundRobin));
        assert_eq!(value["seed"], 7);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let text = edit(r#""replicas": 1 }"#, r#""replicas": 1, }"#);
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Syntax);
        assert_eq!(err.location, at(5, 36));
        assert_eq!(err.to_string(), "x.json:5:36: trailing comma");
        let err = parse("", &[]).unwrap_err();
        assert_eq!(err.to_string(), "x.json:1:1: EOF while parsing a value");
    }

    #[test]
    fn unknown_field_points_at_the_key_with_a_suggestion() {
        let text = edit(
            r#""replicas": 1 }"#,
            r#""replicas": 1,
      "concurency": 4 }"#,
        );
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::UnknownField);
        // serde_path_to_error reports the unknown key as the last segment.
        assert_eq!(
            err.segments,
            [PathSeg::from("services"), 1.into(), "concurency".into()]
        );
        assert_eq!(err.location, at(6, 7));
        assert_eq!(err.suggestion.as_deref(), Some("concurrency"));
        assert_eq!(
            err.to_string(),
            "x.json:6:7: services[1].concurency: unknown field `concurency`\n  help: did you mean `concurrency`?"
        );
    }

    #[test]
    fn unknown_field_without_a_close_name_lists_the_fields() {
        let text = edit(r#""seed": 7,"#, r#""seed": 7, "zzz": 1,"#);
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.suggestion, None);
        assert_eq!(err.location, at(2, 14));
        assert_eq!(
            err.to_string(),
            "x.json:2:14: zzz: unknown field `zzz`, expected one of `seed`, `services`, `balancer`"
        );
    }

    #[test]
    fn unknown_variant_suggests_the_closest() {
        let text = edit(r#""round_robin""#, r#""round_robbin""#);
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::UnknownField);
        assert_eq!(err.path, "balancer");
        assert_eq!(err.location, at(7, 15));
        assert_eq!(
            err.to_string(),
            "x.json:7:15: balancer: unknown variant `round_robbin`\n  help: did you mean `round_robin`?"
        );
        // Written as `{"variant": ...}`, the variant's key is pointed at.
        let text = edit(r#""round_robin""#, r#"{ "weigted": { "weights": [1] } }"#);
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.location, at(7, 17));
        assert_eq!(err.suggestion.as_deref(), Some("weighted"));
    }

    #[test]
    fn errors_inside_enum_values_have_the_variant_in_their_path() {
        let text = edit(
            r#""round_robin""#,
            r#"{ "weighted": { "weights": [1, "x"] } }"#,
        );
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Type);
        assert_eq!(err.path, "balancer.weighted.weights[1]");
        assert_eq!(err.location, at(7, 46));
        // A struct variant written as a bare string: no `weighted` key.
        let text = edit(r#""round_robin""#, r#""weighted""#);
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.path, "balancer");
        assert_eq!(err.location, at(7, 15));
        assert!(
            err.message.starts_with("invalid type: unit variant"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_names_the_path_inside_the_array() {
        let text = edit(r#""replicas": 1"#, r#""replicas": "one""#);
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Type);
        assert_eq!(err.path, "services[1].replicas");
        assert_eq!(err.location, at(5, 33));
        assert_eq!(
            err.to_string(),
            "x.json:5:33: services[1].replicas: invalid type: string \"one\", expected u32"
        );
    }

    #[test]
    fn a_number_in_quotes_gets_a_hint() {
        let text = edit(r#""replicas": 1"#, r#""replicas": "12""#);
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Type);
        assert_eq!(err.location, at(5, 33));
        assert_eq!(
            err.to_string(),
            "x.json:5:33: services[1].replicas: invalid type: string \"12\", expected u32\n  \
             help: write a number: 12 (without quotes)"
        );
        // A word in quotes gets none.
        let text = edit(r#""replicas": 1"#, r#""replicas": "one""#);
        assert_eq!(parse(&text, &[]).unwrap_err().help, None);
    }

    #[test]
    fn missing_field_points_at_the_object() {
        let text = edit(r#""name": "db", "#, "");
        let err = parse(&text, &[]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Type);
        assert_eq!(err.location, at(5, 5));
        assert_eq!(
            err.to_string(),
            "x.json:5:5: services[1]: missing field `name`"
        );
        let err = parse("{}", &[]).unwrap_err();
        assert_eq!(err.to_string(), "x.json:1:1: missing field `seed`");
    }

    #[test]
    fn a_set_can_fix_a_value() {
        let text = edit(r#""replicas": 1"#, r#""replicas": "one""#);
        let (doc, value) = parse(&text, &["services.db.replicas=3"]).unwrap();
        assert_eq!(doc.services[1].replicas, 3);
        assert_eq!(value["services"][1]["replicas"], 3);
        let (doc, _) = parse(TEXT, &["balancer=least_conn", "seed=9"]).unwrap();
        assert_eq!((doc.seed, doc.balancer), (9, Some(Balancer::LeastConn)));
    }

    #[test]
    fn a_set_that_breaks_a_value_is_reported_as_such() {
        let err = parse(TEXT, &["services.app.replicas=-1"]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Type);
        assert_eq!(err.location, None);
        assert_eq!(
            err.from_override.as_deref(),
            Some("services.app.replicas=-1")
        );
        assert_eq!(
            err.to_string(),
            "x.json: services[0].replicas: invalid value: integer `-1`, expected u32 \
             (value from --set services.app.replicas=-1)"
        );
        let err = parse(TEXT, &["services.app.concurency=4"]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::UnknownField);
        assert_eq!(err.location, None);
        assert_eq!(err.suggestion.as_deref(), Some("concurrency"));
        assert!(
            err.to_string()
                .contains("(value from --set services.app.concurency=4)")
        );
        // An error elsewhere still points into the file.
        let text = edit(r#""replicas": 1"#, r#""replicas": "one""#);
        let err = parse(&text, &["services.app.replicas=5"]).unwrap_err();
        assert_eq!((err.location, err.from_override), (at(5, 33), None));
    }

    #[test]
    fn bad_set_syntax_is_an_override_error() {
        let err = parse(TEXT, &["services.app.replicas"]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Override);
        assert_eq!(
            err.to_string(),
            "x.json: --set services.app.replicas: expected PATH=VALUE, but \
             `services.app.replicas` has no `=`"
        );
        let err = parse(TEXT, &["services.ap.replicas=3"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.json: --set services.ap.replicas=3: no element named `ap` in `services`; \
             names present: `app`, `db`\n  help: did you mean `app`?"
        );
        let err = parse(TEXT, &["services[x].replicas=3"]).unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Override);
        assert!(err.message.contains("expected an index"), "{err}");
    }

    #[test]
    fn parses_serde_unknown_name_messages() {
        let owned = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            unknown_name("unknown field `a`, expected one of `b`, `c`, `d`"),
            Some(("field", "a".to_owned(), owned(&["b", "c", "d"])))
        );
        assert_eq!(
            unknown_name("unknown field `a`, expected `b` or `c`"),
            Some(("field", "a".to_owned(), owned(&["b", "c"])))
        );
        assert_eq!(
            unknown_name("unknown variant `a`, expected `b`"),
            Some(("variant", "a".to_owned(), owned(&["b"])))
        );
        assert_eq!(
            unknown_name("unknown field `a`, there are no fields"),
            Some(("field", "a".to_owned(), vec![]))
        );
        assert_eq!(unknown_name("invalid type: string"), None);
        assert_eq!(unknown_name("unknown field `a"), None);
    }
}
