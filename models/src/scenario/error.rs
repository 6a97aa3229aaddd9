//! The one error type for everything wrong with a scenario file.
//!
//! A [`ScenarioError`] names the file, the line and column, the path of the
//! offending value and what is wrong with it, with a "did you mean" hint for
//! misspelt names. Its `Display` is what users see on stderr:
//!
//! ```text
//! scenarios/x.json:12:7: services[0].concurency: unknown field `concurency`
//!   help: did you mean `concurrency`?
//! ```

use std::fmt;

use serde_json::Value;

use super::locate::{Location, PathSeg, format_path, locate_exact_in, locate_in, strip_position};
use super::overrides::{SetError, resolve_set};

/// What kind of problem a [`ScenarioError`] reports. Every kind is fatal:
/// the scenario does not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScenarioErrorKind {
    /// The file could not be read.
    Io,
    /// The text is not valid JSON (the location is serde_json's) or not
    /// valid YAML (the location is the YAML parser's).
    Syntax,
    /// An object has a key the schema does not know, or a string names an
    /// enum variant that does not exist (for example a misspelt strategy).
    UnknownField,
    /// A value has the wrong JSON type or is out of its type's range
    /// (a string where a number belongs, `-1` for a count), or a required
    /// field is missing.
    Type,
    /// A value is well typed but makes no sense: a negative rate, a
    /// reference to a component that does not exist, a malformed duration.
    Invalid,
    /// The scenario is valid but cannot reach a steady state, for example
    /// offered load above capacity when the run asks for steady-state
    /// results.
    Unstable,
    /// A `--set PATH=VALUE` override could not be applied: bad syntax, or a
    /// path that does not lead anywhere in the document.
    Override,
}

/// A problem with a scenario file, located as precisely as possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file, as given by the user.
    pub file: String,
    /// Where in the file, when known. `None` for I/O errors, for bad
    /// overrides, and for values that came from a `--set` (they are not in
    /// the file).
    pub location: Option<Location>,
    /// The offending value's path, formatted (`services[1].replicas`);
    /// empty for the document root and for errors about no value in
    /// particular (I/O, syntax, bad overrides).
    pub path: String,
    /// The same path as segments, to compare with other paths.
    pub segments: Vec<PathSeg>,
    /// What kind of problem this is.
    pub kind: ScenarioErrorKind,
    /// What is wrong, in one line, without position or path.
    pub message: String,
    /// A valid name close to the misspelt one; displayed as
    /// "help: did you mean `...`?".
    pub suggestion: Option<String>,
    /// The `--set PATH=VALUE` assignment the offending value came from, if
    /// it came from the command line rather than the file.
    pub from_override: Option<String>,
    /// How to write the value instead (`write a number: 12`); displayed
    /// as "help: ...".
    pub help: Option<String>,
}

impl ScenarioError {
    /// An error about the value at `path`, located in `text`.
    fn at(
        file: impl Into<String>,
        kind: ScenarioErrorKind,
        location: Option<Location>,
        path: &[PathSeg],
        message: impl Into<String>,
    ) -> Self {
        ScenarioError {
            file: file.into(),
            location,
            path: if path.is_empty() {
                String::new()
            } else {
                format_path(path)
            },
            segments: path.to_vec(),
            kind,
            message: message.into(),
            suggestion: None,
            from_override: None,
            help: None,
        }
    }

    /// The file could not be read.
    pub fn io(file: impl Into<String>, err: &std::io::Error) -> Self {
        Self::at(
            file,
            ScenarioErrorKind::Io,
            None,
            &[],
            format!("cannot read the scenario: {err}"),
        )
    }

    /// A semantic error about the value at `path`: kind
    /// [`Invalid`](ScenarioErrorKind::Invalid), located by finding `path` in
    /// `text` (or its deepest existing ancestor, see
    /// `locate`).
    ///
    /// If the document was changed by `--set` overrides, chain
    /// [`attribute_to_sets`](Self::attribute_to_sets) so that a value that
    /// came from the command line is reported as such.
    pub fn invalid(
        file: impl Into<String>,
        text: &str,
        path: &[PathSeg],
        message: impl Into<String>,
    ) -> Self {
        let file = file.into();
        let location = locate_in(&file, text, path);
        Self::at(file, ScenarioErrorKind::Invalid, location, path, message)
    }

    /// Like [`invalid`](Self::invalid), with kind
    /// [`Unstable`](ScenarioErrorKind::Unstable).
    pub fn unstable(
        file: impl Into<String>,
        text: &str,
        path: &[PathSeg],
        message: impl Into<String>,
    ) -> Self {
        let file = file.into();
        let location = locate_in(&file, text, path);
        Self::at(file, ScenarioErrorKind::Unstable, location, path, message)
    }

    /// The text is not JSON.
    pub(super) fn syntax(file: &str, text: &str, err: &serde_json::Error) -> Self {
        let location = super::locate::from_serde_json(text, err.line(), err.column());
        Self::at(
            file,
            ScenarioErrorKind::Syntax,
            Some(location),
            &[],
            strip_position(&err.to_string()),
        )
    }

    /// The text is not a YAML scenario: `message` says why, at `location`.
    pub(super) fn syntax_at(file: &str, location: Location, message: String) -> Self {
        Self::at(
            file,
            ScenarioErrorKind::Syntax,
            Some(location),
            &[],
            message,
        )
    }

    /// The bytes are not UTF-8: `byte` at `location` is the first bad one.
    pub(super) fn not_utf8(file: &str, location: Location, byte: u8) -> Self {
        Self::at(
            file,
            ScenarioErrorKind::Syntax,
            Some(location),
            &[],
            format!("invalid UTF-8 (byte 0x{byte:02X}): save the file as UTF-8"),
        )
    }

    /// The override `assignment` could not be applied.
    pub(super) fn bad_override(file: &str, assignment: &str, err: &SetError) -> Self {
        let mut error = Self::at(
            file,
            ScenarioErrorKind::Override,
            None,
            &[],
            format!("--set {assignment}: {err}"),
        );
        error.suggestion = err.suggestion().map(str::to_owned);
        error.from_override = Some(assignment.to_owned());
        error
    }

    /// Adds a "did you mean" hint: `suggestion` is the valid name alone
    /// (`app`), displayed as "help: did you mean `app`?".
    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }

    /// Marks the error as coming from a `--set` if the offending value was
    /// written by one of `sets` (the assignments applied to the file `text`,
    /// in order, giving the document `doc`), and then drops the location,
    /// which would point at the file's overridden value.
    ///
    /// The value at the error's path came from an assignment if it lies at
    /// or under the assignment's path, or if it is an ancestor of that path
    /// which the assignment created (absent from `text`). The last matching
    /// assignment wins. `parse_document` does this
    /// itself; the validator calls it for its semantic errors.
    pub fn attribute_to_sets(self, text: &str, doc: &Value, sets: &[String]) -> Self {
        let resolved: Vec<(Vec<PathSeg>, &str)> = sets
            .iter()
            .filter_map(|set| Some((resolve_set(doc, set)?, set.as_str())))
            .collect();
        self.attribute_to_resolved(text, &resolved)
    }

    /// [`attribute_to_sets`](Self::attribute_to_sets) with the assignments'
    /// resolved paths already known.
    pub(super) fn attribute_to_resolved(
        mut self,
        text: &str,
        sets: &[(Vec<PathSeg>, &str)],
    ) -> Self {
        let path = &self.segments;
        let source = sets.iter().rev().find(|(set_path, _)| {
            path.starts_with(set_path)
                || (set_path.starts_with(path) && locate_exact_in(&self.file, text, path).is_none())
        });
        if let Some((_, assignment)) = source {
            self.from_override = Some((*assignment).to_owned());
            self.location = None;
        }
        self
    }
}

/// `file:line:column: path: message`, each part present when known, then
/// `(value from --set ...)` for overridden values and an indented
/// `help:` line for a suggestion.
impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(location) = self.location {
            write!(f, ":{location}")?;
        }
        f.write_str(": ")?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(assignment) = &self.from_override
            && self.kind != ScenarioErrorKind::Override
        {
            write!(f, " (value from --set {assignment})")?;
        }
        if let Some(suggestion) = &self.suggestion {
            write!(f, "\n  help: did you mean `{suggestion}`?")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// The least similarity, from 0 to 1, for [`suggest`] to offer a name.
///
/// 0.6 accepts one edit in a three-letter name (`ap` for `app`), two in a
/// five-letter one, and rejects names that share little (`db` for `app`).
const SUGGEST_THRESHOLD: f64 = 0.6;

/// The candidate closest to `word`, if any is close enough to be what the
/// user meant.
///
/// Closeness is the normalized Damerau-Levenshtein similarity
/// (`1 - edits / longer length`, a transposition counting as one edit) of
/// the lowercased names, and must be at least 0.6 (see the threshold's
/// docs). Ties go to the first candidate; a candidate equal to `word` is
/// skipped (suggesting the same name helps no one).
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let word_lower = word.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let score = strsim::normalized_damerau_levenshtein(&word_lower, &candidate.to_lowercase());
        if score >= SUGGEST_THRESHOLD && best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(key: &str) -> PathSeg {
        PathSeg::Key(key.to_owned())
    }

    #[test]
    fn suggests_close_names_only() {
        let fields = ["name", "replicas", "concurrency"];
        assert_eq!(
            suggest("concurency", fields),
            Some("concurrency".to_owned())
        );
        assert_eq!(suggest("replica", fields), Some("replicas".to_owned()));
        assert_eq!(suggest("Name", fields), Some("name".to_owned()));
        assert_eq!(suggest("ap", ["app", "db"]), Some("app".to_owned()));
        assert_eq!(
            suggest("round_robbin", ["least_conn", "round_robin", "random"]),
            Some("round_robin".to_owned())
        );
        assert_eq!(suggest("zzz", fields), None);
        assert_eq!(suggest("db", ["app"]), None);
        assert_eq!(suggest("app", ["app"]), None);
        assert_eq!(suggest("x", std::iter::empty()), None);
    }

    #[test]
    fn displays_location_path_and_help() {
        let text = "{\n  \"services\": [\n    {\"concurency\": 3}\n  ]\n}";
        let path = [k("services"), PathSeg::Index(0), k("concurency")];
        let mut error = ScenarioError::invalid(
            "scenarios/x.json",
            text,
            &path,
            "unknown field `concurency`",
        )
        .with_suggestion("concurrency");
        error.location = super::super::locate::locate_key(text, &path);
        assert_eq!(
            error.to_string(),
            "scenarios/x.json:3:6: services[0].concurency: unknown field `concurency`\n  help: did you mean `concurrency`?"
        );
    }

    #[test]
    fn displays_without_location_or_path() {
        let err = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = ScenarioError::io("x.json", &err);
        assert_eq!(error.kind, ScenarioErrorKind::Io);
        assert_eq!(
            error.to_string(),
            "x.json: cannot read the scenario: no such file"
        );

        let mut error = ScenarioError::invalid("x.json", "", &[k("seed")], "must be set");
        assert_eq!(error.location, None);
        assert_eq!(error.to_string(), "x.json: seed: must be set");
        error.from_override = Some("seed=x".to_owned());
        assert_eq!(
            error.to_string(),
            "x.json: seed: must be set (value from --set seed=x)"
        );
    }

    #[test]
    fn unstable_is_located() {
        let text = r#"{"rate": 5}"#;
        let error = ScenarioError::unstable(
            "x.json",
            text,
            &[k("rate")],
            "offered load 1.2 exceeds capacity",
        );
        assert_eq!(error.kind, ScenarioErrorKind::Unstable);
        assert_eq!(
            error.location,
            Some(Location {
                line: 1,
                column: 10
            })
        );
        assert_eq!(error.path, "rate");
    }

    #[test]
    fn attributes_values_written_by_sets() {
        let text = r#"{"services": [{"name": "app", "replicas": 2}]}"#;
        let mut doc: Value = serde_json::from_str(text).unwrap();
        let sets = vec![
            "services.app.replicas=-1".to_owned(),
            "extra.deep.key=1".to_owned(),
        ];
        for set in &sets {
            super::super::overrides::apply_set(&mut doc, set).unwrap();
        }
        let replicas = [k("services"), PathSeg::Index(0), k("replicas")];
        let error = ScenarioError::invalid("x.json", text, &replicas, "must be positive")
            .attribute_to_sets(text, &doc, &sets);
        assert_eq!(
            error.from_override.as_deref(),
            Some("services.app.replicas=-1")
        );
        assert_eq!(error.location, None);
        assert_eq!(
            error.to_string(),
            "x.json: services[0].replicas: must be positive (value from --set services.app.replicas=-1)"
        );
        // An ancestor the set created is attributed to it ...
        let error = ScenarioError::invalid(
            "x.json",
            text,
            &[k("extra"), k("deep")],
            "missing field `x`",
        )
        .attribute_to_sets(text, &doc, &sets);
        assert_eq!(error.from_override.as_deref(), Some("extra.deep.key=1"));
        // ... but not an ancestor that is in the file.
        let error =
            ScenarioError::invalid("x.json", text, &[k("services"), PathSeg::Index(0)], "bad")
                .attribute_to_sets(text, &doc, &sets);
        assert_eq!(error.from_override, None);
        assert!(error.location.is_some());
    }

    #[test]
    fn strips_serde_positions() {
        assert_eq!(
            strip_position("expected value at line 3 column 7"),
            "expected value"
        );
        assert_eq!(strip_position("missing field `a`"), "missing field `a`");
        assert_eq!(
            strip_position("odd at line x column 1"),
            "odd at line x column 1"
        );
    }
}
