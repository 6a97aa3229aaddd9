//! Finding where a value sits in the scenario text.
//!
//! Scenario files are deserialized from a [`serde_json::Value`], which keeps
//! no positions, and `--set` overrides edit that value before the schema sees
//! it. So every error is reported against a *path* ([`PathSeg`]s), and this
//! module turns a path back into a line and column of the original text with
//! a small hand-written JSON scanner.
//!
//! # Positions
//!
//! A [`Location`] follows serde_json's convention for syntax errors: lines
//! and columns are 1-based, a newline (`\n`) starts a new line, and the first
//! character of a line is in column 1. Unlike serde_json, which counts
//! *bytes* within the line, columns here count *characters* (Unicode scalar
//! values), so `"é"` is one column wide; parse errors from serde_json are
//! converted to the same convention (see [`from_serde_json`]), so both
//! sources of positions agree. A tab and a `\r` are one column each.
//!
//! # Duplicate keys
//!
//! serde_json keeps the *last* of duplicate keys in an object, so the
//! scanner does too: a key path points at the last occurrence.

use std::fmt;

/// One step of a path into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSeg {
    /// A key of an object: a field name or a map key.
    Key(String),
    /// A position in an array, counted from 0.
    Index(usize),
}

impl From<&str> for PathSeg {
    fn from(key: &str) -> Self {
        PathSeg::Key(key.to_owned())
    }
}

impl From<String> for PathSeg {
    fn from(key: String) -> Self {
        PathSeg::Key(key)
    }
}

impl From<usize> for PathSeg {
    fn from(index: usize) -> Self {
        PathSeg::Index(index)
    }
}

/// Whether a key can be written bare in a formatted path (`a.b`), rather
/// than quoted (`["a.b"]`).
fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Writes a key in the quoted form `["..."]`, JSON-escaped.
fn write_quoted_key(f: &mut impl fmt::Write, key: &str) -> fmt::Result {
    // Serializing a `str` cannot fail; fall back to the raw key just in case.
    let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
    write!(f, "[{quoted}]")
}

/// Displays one segment on its own: a plain key as `key`, any other key as
/// `["key"]`, an index as `[3]`.
impl fmt::Display for PathSeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSeg::Key(key) if is_plain_key(key) => f.write_str(key),
            PathSeg::Key(key) => write_quoted_key(f, key),
            PathSeg::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// Formats a path the way users write it: `services[0].endpoints.browse`.
///
/// Keys made only of letters, digits, `_` and `-` are written bare and
/// joined with `.` (the first without a leading dot); other keys are written
/// `["quoted key"]`; indices are written `[i]`. This is the syntax
/// [`parse_path`](super::parse_path) reads. The empty path formats as
/// `(document root)`.
pub fn format_path(path: &[PathSeg]) -> String {
    if path.is_empty() {
        return "(document root)".to_owned();
    }
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        match seg {
            PathSeg::Key(key) if is_plain_key(key) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(key);
            }
            // Writing to a `String` cannot fail.
            PathSeg::Key(key) => {
                let _ = write_quoted_key(&mut out, key);
            }
            PathSeg::Index(index) => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// A position in the scenario text.
///
/// Lines and columns are 1-based, as in serde_json's syntax errors: a
/// newline (`\n`) starts a new line, and the first character of a line is
/// in column 1. Unlike serde_json, which counts bytes, the column counts
/// characters (Unicode scalar values), so `é` is one column wide; a tab is
/// one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

/// Displays as `line:column`.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Whether `b` begins a character in UTF-8 (is not a continuation byte).
fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

/// The location of the byte at `offset` (clamped to the text's end).
fn location_at(text: &str, offset: usize) -> Location {
    let bytes = text.as_bytes();
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |nl| nl + 1);
    Location {
        line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
        column: 1 + before[line_start..]
            .iter()
            .filter(|&&b| starts_char(b))
            .count(),
    }
}

/// Converts a position reported by serde_json (`line`, and `column` counted
/// in bytes, pointing at the offending byte) to a [`Location`] counted in
/// characters. serde_json reports column 0 at the very start of a line (for
/// example "EOF while parsing" after a final newline); that becomes column 1.
pub fn from_serde_json(text: &str, line: usize, byte_column: usize) -> Location {
    let bytes = text.as_bytes();
    let line_start = if line <= 1 {
        0
    } else {
        bytes
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .nth(line - 2)
            .map_or(bytes.len(), |(i, _)| i + 1)
    };
    let line_bytes = &bytes[line_start..];
    let line_end = line_bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(line_bytes.len());
    let upto = &line_bytes[..byte_column.min(line_end)];
    // Bytes past the end of the line (the newline itself, or EOF) each count
    // as one column, as serde_json counts them.
    let past_end = byte_column.saturating_sub(line_end);
    let column = upto.iter().filter(|&&b| starts_char(b)).count() + past_end;
    Location {
        line: line.max(1),
        column: column.max(1),
    }
}

/// A cursor over JSON text. Every method is best effort: on malformed input
/// it returns `None` instead of panicking, and it never recurses, so deeply
/// nested input cannot overflow the stack.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Skips whitespace, then consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Reads the string starting at the current `"`, decoding escapes.
    fn string(&mut self) -> Option<String> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..)?;
            let stop = rest.bytes().position(|b| b == b'"' || b == b'\\')?;
            // `stop` is at an ASCII byte, hence a character boundary.
            out.push_str(rest.get(..stop)?);
            self.pos += stop;
            if self.peek() == Some(b'"') {
                self.pos += 1;
                return Some(out);
            }
            self.pos += 1; // the backslash
            let escape = self.peek()?;
            self.pos += 1;
            match escape {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let mut units = vec![self.hex4()?];
                    // A high surrogate is followed by `\uXXXX`, its low half.
                    if (0xD800..0xDC00).contains(&units[0])
                        && self.text.get(self.pos..)?.starts_with("\\u")
                    {
                        self.pos += 2;
                        units.push(self.hex4()?);
                    }
                    out.extend(
                        char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)),
                    );
                }
                _ => return None,
            }
        }
    }

    /// Reads four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Option<u16> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        let unit = u16::from_str_radix(digits, 16).ok()?;
        self.pos += 4;
        Some(unit)
    }

    /// Skips one value (after whitespace): a string, a number, a literal, or
    /// a whole object or array.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                // Count brackets, stepping over strings; whether `{` is
                // closed by `}` rather than `]` is not checked: the text has
                // already been parsed by serde_json when this matters.
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                        }
                        b'{' | b'[' => {
                            depth += 1;
                            self.pos += 1;
                        }
                        b'}' | b']' => {
                            depth -= 1;
                            self.pos += 1;
                            if depth == 0 {
                                return Some(());
                            }
                        }
                        _ => self.pos += 1,
                    }
                }
            }
            b'-' | b'0'..=b'9' => self.skip_while(|b| {
                b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
            }),
            b'a'..=b'z' => self.skip_while(|b| b.is_ascii_alphabetic()),
            _ => None,
        }
    }

    /// Consumes at least one byte matching `keep`.
    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) -> Option<()> {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        (self.pos > start).then_some(())
    }

    /// At a `{`: finds the member `key` (its last occurrence) and returns the
    /// offsets of its key string and of its value.
    fn find_member(&mut self, key: &str) -> Option<(usize, usize)> {
        if !self.eat(b'{') {
            return None;
        }
        let mut found = None;
        if self.eat(b'}') {
            return None;
        }
        loop {
            self.skip_ws();
            let key_at = self.pos;
            let Some(name) = self.string() else { break };
            if !self.eat(b':') {
                break;
            }
            self.skip_ws();
            if name == key {
                found = Some((key_at, self.pos));
            }
            if self.skip_value().is_none() || !self.eat(b',') {
                break;
            }
        }
        found
    }

    /// At a `[`: returns the offset of element `index`.
    fn find_element(&mut self, index: usize) -> Option<usize> {
        if !self.eat(b'[') || self.eat(b']') {
            return None;
        }
        for _ in 0..index {
            self.skip_value()?;
            if !self.eat(b',') {
                return None;
            }
        }
        self.skip_ws();
        Some(self.pos)
    }
}

/// What [`walk`] found for a path.
struct Found {
    /// Offset of the deepest value reached.
    value: usize,
    /// Offset of the key string naming that value, if it is an object member.
    key: Option<usize>,
    /// Whether the whole path was found.
    complete: bool,
}

/// Follows `path` through `text` as far as it exists. `None` only when the
/// text holds no value at all.
fn walk(text: &str, path: &[PathSeg]) -> Option<Found> {
    let mut scanner = Scanner { text, pos: 0 };
    scanner.skip_ws();
    scanner.peek()?;
    let mut found = Found {
        value: scanner.pos,
        key: None,
        complete: path.is_empty(),
    };
    for (depth, seg) in path.iter().enumerate() {
        scanner.pos = found.value;
        let step = match seg {
            PathSeg::Key(key) => scanner.find_member(key).map(|(k, v)| (Some(k), v)),
            PathSeg::Index(index) => scanner.find_element(*index).map(|v| (None, v)),
        };
        let Some((key, value)) = step else { break };
        found = Found {
            value,
            key,
            complete: depth + 1 == path.len(),
        };
    }
    Some(found)
}

/// The position of the value at `path` in the JSON `text`.
///
/// If the full path does not exist, returns the position of the value of the
/// deepest ancestor that does: for a missing field, the `{` of the object
/// that should hold it; for an index past the end, the `[` of the array.
/// Returns `None` only if `text` holds no value at all. Never panics, even
/// on malformed text (it then answers as best it can).
pub fn locate(text: &str, path: &[PathSeg]) -> Option<Location> {
    walk(text, path).map(|found| location_at(text, found.value))
}

/// The position of the key string of the last segment of `path` (the `"`
/// that opens it), for errors about the key itself such as "unknown field".
///
/// When the last segment is an index, or the path does not fully exist,
/// this falls back to [`locate`]: the element's value, or the deepest
/// existing ancestor's value.
pub fn locate_key(text: &str, path: &[PathSeg]) -> Option<Location> {
    walk(text, path).map(|found| match found.key {
        Some(key) if found.complete => location_at(text, key),
        _ => location_at(text, found.value),
    })
}

/// The position of the value at `path`, only if the whole path exists in
/// `text` (no fallback to an ancestor).
pub fn locate_exact(text: &str, path: &[PathSeg]) -> Option<Location> {
    walk(text, path)
        .filter(|found| found.complete)
        .map(|found| location_at(text, found.value))
}

/// Whether the scenario `text`, read from `file`, is YAML rather than
/// JSON: by the file's extension (`.yaml` or `.yml`: YAML, `.json`: JSON);
/// otherwise (standard input, any other name) JSON when its first
/// character that is not a space is `{`, YAML when it is anything else.
pub fn is_yaml(file: &str, text: &str) -> bool {
    let extension = std::path::Path::new(file)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("yaml" | "yml") => true,
        Some("json") => false,
        _ => !text.trim_start().starts_with('{'),
    }
}

/// [`locate`], in the JSON or YAML `text` of `file` (see [`is_yaml`]).
pub fn locate_in(file: &str, text: &str, path: &[PathSeg]) -> Option<Location> {
    if is_yaml(file, text) {
        return super::yaml::find(text, path).map(|(value, _, _)| value);
    }
    locate(text, path)
}

/// [`locate_key`], in the JSON or YAML `text` of `file`.
pub fn locate_key_in(file: &str, text: &str, path: &[PathSeg]) -> Option<Location> {
    if is_yaml(file, text) {
        return super::yaml::find(text, path).map(|(value, key, complete)| match key {
            Some(key) if complete => key,
            _ => value,
        });
    }
    locate_key(text, path)
}

/// [`locate_exact`], in the JSON or YAML `text` of `file`.
pub fn locate_exact_in(file: &str, text: &str, path: &[PathSeg]) -> Option<Location> {
    if is_yaml(file, text) {
        return super::yaml::find(text, path)
            .filter(|(_, _, complete)| *complete)
            .map(|(value, _, _)| value);
    }
    locate_exact(text, path)
}

/// Removes serde_json's " at line X column Y" suffix from a message; the
/// location is reported separately.
pub(super) fn strip_position(message: &str) -> String {
    if let Some(at) = message.rfind(" at line ")
        && let Some((line, column)) = message[at + " at line ".len()..].split_once(" column ")
        && !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && !column.is_empty()
        && column.bytes().all(|b| b.is_ascii_digit())
    {
        return message[..at].to_owned();
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(key: &str) -> PathSeg {
        PathSeg::Key(key.to_owned())
    }

    fn i(index: usize) -> PathSeg {
        PathSeg::Index(index)
    }

    fn at(line: usize, column: usize) -> Option<Location> {
        Some(Location { line, column })
    }

    const DOC: &str = r#"{
  "name": "shop",
  "services": [
    { "name": "app", "replicas": 2 },
    {
      "name": "db \"primary\"",
      "endpoints": { "browse": [ [1, 2], [3, {"compute": 7}] ] },
      "replicas": 1
    }
  ]
}"#;

    #[test]
    fn formats_paths() {
        assert_eq!(format_path(&[]), "(document root)");
        assert_eq!(
            format_path(&[
                k("services"),
                i(0),
                k("endpoints"),
                k("browse"),
                i(1),
                k("compute")
            ]),
            "services[0].endpoints.browse[1].compute"
        );
        assert_eq!(format_path(&[i(2), k("a")]), "[2].a");
        assert_eq!(format_path(&[k("a.b"), k("c")]), r#"["a.b"].c"#);
        assert_eq!(
            format_path(&[k(""), k("say \"hi\"")]),
            r#"[""]["say \"hi\""]"#
        );
        assert_eq!(k("x-y_1").to_string(), "x-y_1");
        assert_eq!(i(4).to_string(), "[4]");
    }

    #[test]
    fn locates_top_level_and_nested_values() {
        assert_eq!(locate(DOC, &[]), at(1, 1));
        assert_eq!(locate(DOC, &[k("name")]), at(2, 11));
        assert_eq!(locate(DOC, &[k("services")]), at(3, 15));
        assert_eq!(locate(DOC, &[k("services"), i(0)]), at(4, 5));
        assert_eq!(
            locate(DOC, &[k("services"), i(0), k("replicas")]),
            at(4, 34)
        );
        assert_eq!(
            locate(DOC, &[k("services"), i(1), k("replicas")]),
            at(8, 19)
        );
    }

    #[test]
    fn locates_inside_nested_arrays() {
        let browse = [k("services"), i(1), k("endpoints"), k("browse")];
        assert_eq!(locate(DOC, &browse), at(7, 32));
        let mut path = browse.to_vec();
        path.extend([i(0), i(1)]);
        assert_eq!(locate(DOC, &path), at(7, 38));
        path = browse.to_vec();
        path.extend([i(1), i(1), k("compute")]);
        assert_eq!(locate(DOC, &path), at(7, 58));
    }

    #[test]
    fn steps_over_escaped_quotes() {
        // The value after a string holding `\"` is still found.
        assert_eq!(locate(DOC, &[k("services"), i(1), k("name")]), at(6, 15));
        assert_eq!(
            locate(DOC, &[k("services"), i(1), k("endpoints")]),
            at(7, 20)
        );
        let text = r#"{"a\"b": 1, "c\\": 2, "\u00e9": 3, "\ud83d\ude00": 4}"#;
        assert_eq!(locate(text, &[k("a\"b")]), at(1, 10));
        assert_eq!(locate(text, &[k("c\\")]), at(1, 20));
        assert_eq!(locate(text, &[k("é")]), at(1, 33));
        assert_eq!(locate(text, &[k("😀")]), at(1, 52));
    }

    #[test]
    fn matches_keys_at_the_right_depth() {
        // `replicas` exists at several depths; only the member of the object
        // on the path counts, and a key inside a string is not a key.
        let text = r#"{"a": {"replicas": 1, "note": "\"replicas\": 9"},
 "b": {"x": {"replicas": 2}, "replicas": 3}, "replicas": 4}"#;
        assert_eq!(locate(text, &[k("replicas")]), at(2, 58));
        assert_eq!(locate(text, &[k("b"), k("replicas")]), at(2, 42));
        assert_eq!(locate(text, &[k("b"), k("x"), k("replicas")]), at(2, 26));
        assert_eq!(locate(text, &[k("a"), k("replicas")]), at(1, 20));
    }

    #[test]
    fn counts_columns_in_characters() {
        let text = "{\"ünïcødé\": \"→→\", \"x\": 1}";
        assert_eq!(locate(text, &[k("x")]), at(1, 24));
        assert_eq!(locate_key(text, &[k("x")]), at(1, 19));
    }

    #[test]
    fn falls_back_to_the_deepest_existing_ancestor() {
        assert_eq!(locate(DOC, &[k("services"), i(0), k("missing")]), at(4, 5));
        assert_eq!(locate(DOC, &[k("services"), i(9), k("name")]), at(3, 15));
        assert_eq!(locate(DOC, &[k("nope"), k("deeper")]), at(1, 1));
        // A key on an array, an index on an object or a scalar: no descent.
        assert_eq!(locate(DOC, &[k("services"), k("app")]), at(3, 15));
        assert_eq!(locate(DOC, &[k("name"), i(0)]), at(2, 11));
        assert_eq!(
            locate_exact(DOC, &[k("services"), i(0), k("missing")]),
            None
        );
        assert_eq!(locate_exact(DOC, &[k("services"), i(0)]), at(4, 5));
        assert_eq!(
            locate(
                DOC,
                &[k("services"), i(1), k("endpoints"), k("browse"), i(2)]
            ),
            at(7, 32)
        );
    }

    #[test]
    fn locates_keys() {
        assert_eq!(
            locate_key(DOC, &[k("services"), i(0), k("replicas")]),
            at(4, 22)
        );
        assert_eq!(
            locate_key(DOC, &[k("services"), i(1), k("replicas")]),
            at(8, 7)
        );
        // An index has no key: the element itself.
        assert_eq!(locate_key(DOC, &[k("services"), i(1)]), at(5, 5));
        // Missing: the deepest existing ancestor's value.
        assert_eq!(locate_key(DOC, &[k("services"), i(0), k("zzz")]), at(4, 5));
        assert_eq!(locate_key(DOC, &[]), at(1, 1));
    }

    #[test]
    fn duplicate_keys_resolve_to_the_last_like_serde_json() {
        let text = r#"{"a": 1, "b": {"c": 2}, "a": 3}"#;
        assert_eq!(locate(text, &[k("a")]), at(1, 30));
        assert_eq!(locate_key(text, &[k("a")]), at(1, 25));
        assert_eq!(locate(text, &[k("b"), k("c")]), at(1, 21));
    }

    #[test]
    fn never_panics_on_malformed_text() {
        let samples = [
            "",
            "   ",
            "{",
            "[",
            "{\"a\"",
            "{\"a\":",
            "{\"a\": [1, 2",
            "{\"a\": \"unterminated",
            "{\"a\\u12\": 1}",
            "{\"a\\q\": 1}",
            "}}]]",
            "{\"a\": 1 \"b\": 2}",
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
            "{\"\\ud800\": 1}",
            "\u{feff}{}",
            "{\"é",
        ];
        let paths = [
            vec![],
            vec![k("a")],
            vec![k("a"), i(3)],
            vec![i(0), i(0), i(0)],
            vec![k("b")],
        ];
        for text in samples {
            for path in &paths {
                let _ = locate(text, path);
                let _ = locate_key(text, path);
                let _ = locate_exact(text, path);
            }
            for cut in 0..=text.len() {
                if let Some(prefix) = text.get(..cut) {
                    let _ = locate(prefix, &[k("a"), i(1)]);
                }
            }
        }
        assert_eq!(locate("", &[]), None);
        assert_eq!(locate("  \n ", &[k("a")]), None);
        assert_eq!(locate("{\"a\": 1 \"b\": 2}", &[k("b")]), at(1, 1));
    }

    /// The byte offset of `location` in `text` (the inverse of
    /// `location_at`).
    fn offset_of(text: &str, location: Location) -> usize {
        let line_start: usize = text
            .split_inclusive('\n')
            .take(location.line - 1)
            .map(str::len)
            .sum();
        line_start
            + text[line_start..]
                .chars()
                .take(location.column - 1)
                .map(char::len_utf8)
                .sum::<usize>()
    }

    /// Every path of `value`, parents before children.
    fn all_paths(
        value: &serde_json::Value,
        prefix: &mut Vec<PathSeg>,
        out: &mut Vec<Vec<PathSeg>>,
    ) {
        out.push(prefix.clone());
        match value {
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    prefix.push(k(key));
                    all_paths(item, prefix, out);
                    prefix.pop();
                }
            }
            serde_json::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    prefix.push(i(index));
                    all_paths(item, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            // Quarters print and parse back exactly.
            (-4e6f64..4e6).prop_map(|x| Value::from(x.round() / 4.0)),
            "\\PC{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[a-z\"\\\\é😀 .\\[\\]]{0,5}", inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever the text, `locate` answers without panicking.
        #[test]
        fn any_text_is_scanned_without_panic(text in "\\PC{0,64}") {
            let _ = locate(&text, &[k("a"), i(1), k("b")]);
            let _ = locate_key(&text, &[i(0), k("")]);
        }

        /// For every path of a document, in compact and pretty form, the
        /// located text parses back to the value at that path, and a key's
        /// location holds the key.
        #[test]
        fn locations_point_at_the_value(value in json_value()) {
            let mut paths = Vec::new();
            all_paths(&value, &mut Vec::new(), &mut paths);
            for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
                for path in &paths {
                    let at = locate_exact(&text, path).unwrap();
                    let rest = &text[offset_of(&text, at)..];
                    let found = serde_json::Deserializer::from_str(rest)
                        .into_iter::<serde_json::Value>()
                        .next()
                        .unwrap()
                        .unwrap();
                    let expected = path.iter().fold(&value, |v, seg| match seg {
                        PathSeg::Key(key) => &v[key.as_str()],
                        PathSeg::Index(index) => &v[*index],
                    });
                    proptest::prop_assert_eq!(&found, expected);
                    if let Some(PathSeg::Key(key)) = path.last() {
                        let at = locate_key(&text, path).unwrap();
                        let rest = &text[offset_of(&text, at)..];
                        let found: String = serde_json::Deserializer::from_str(rest)
                            .into_iter::<String>()
                            .next()
                            .unwrap()
                            .unwrap();
                        proptest::prop_assert_eq!(&found, key);
                    }
                }
            }
        }
    }

    #[test]
    fn converts_serde_json_positions() {
        // serde_json counts bytes: `é` is two. Here the `x` is byte column 8
        // but character column 7.
        let text = "{\"é\": x}";
        let err = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        assert_eq!((err.line(), err.column()), (1, 8));
        assert_eq!(
            from_serde_json(text, err.line(), err.column()),
            Location { line: 1, column: 7 }
        );
        // Column 0 (EOF after a newline) becomes column 1.
        let text = "{\n";
        let err = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        assert_eq!(
            from_serde_json(text, err.line(), err.column()),
            Location { line: 2, column: 1 }
        );
        // Out-of-range input is clamped, not a panic.
        assert_eq!(from_serde_json("", 7, 9).line, 7);
    }
}
