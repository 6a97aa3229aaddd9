//! Printable text: what a scenario's names and other strings may contain,
//! and how any text is made safe to print.
//!
//! A name is written into the terminal, JUnit XML, SVG charts, HTML pages
//! and CSV files. A control character there breaks the output (XML 1.0
//! allows none but tab and line breaks: CI servers then drop the whole
//! test report) or rewrites the terminal (`ESC[2J` clears the screen, a
//! carriage return overwrites a FAILED line), and a bidirectional override
//! makes a line display in another order than it reads. Validation
//! therefore refuses them in every string and key of a scenario
//! ([`check`]); descriptions alone may hold line breaks and tabs.
//! Everything printed that did not come through validation (a `--set`
//! value echoed in an error, a file name, a baseline's contents) goes
//! through [`printable`].

use std::borrow::Cow;

use serde_json::Value;

use crate::kernel::resolve::{Path, Resolve};
use crate::scenario::ScenarioError;

/// Whether `c` must not be printed as it is: a control character (C0
/// U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F), a bidirectional
/// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069), or a
/// line or paragraph separator (U+2028, U+2029).
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// `s` with every [unprintable](is_unprintable) character written as its
/// Rust escape (`\u{1b}`, `\n`, `\t`), so that what it held is visible and
/// nothing it holds acts on a terminal or breaks a document.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.contains(is_unprintable) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unprintable(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`printable`], but line breaks and tabs stay: for text of several
/// lines (messages, a scenario's `description`) whose lines are printed as
/// lines. A tab moves the cursor and nothing else, on a terminal as in a
/// document.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    let kept = |c: char| matches!(c, '\n' | '\t');
    if !s.contains(|c| !kept(c) && is_unprintable(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !kept(c) && is_unprintable(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Refuses the first string or key of the document (after the overrides)
/// that holds an [unprintable](is_unprintable) character, in document
/// order; a `description` may hold line breaks and tabs.
pub(super) fn check(cx: &Resolve<'_>) -> Result<(), ScenarioError> {
    walk(cx, cx.doc, &Path::default(), false)
}

fn walk(cx: &Resolve<'_>, v: &Value, at: &Path, description: bool) -> Result<(), ScenarioError> {
    match v {
        Value::String(s) => {
            let allowed = |c: char| description && matches!(c, '\n' | '\t');
            match s
                .chars()
                .enumerate()
                .find(|&(_, c)| is_unprintable(c) && !allowed(c))
            {
                Some((i, c)) => Err(cx.err(at, refusal("the text", s, i, c))),
                None => Ok(()),
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| walk(cx, x, &at.i(i), false)),
        Value::Object(fields) => fields.iter().try_for_each(|(k, x)| {
            let here = at.k(k);
            if let Some((i, c)) = k.chars().enumerate().find(|&(_, c)| is_unprintable(c)) {
                return Err(cx.err(&here, refusal("the key", k, i, c)));
            }
            walk(cx, x, &here, k == "description")
        }),
        _ => Ok(()),
    }
}

/// "the text `a\u{1b}[2Jb` holds the control character U+001B at
/// character 2: ..."
fn refusal(what: &str, s: &str, index: usize, c: char) -> String {
    let kind = if c.is_control() {
        "control character"
    } else {
        "bidirectional or line-separator character"
    };
    format!(
        "{what} `{}` holds the {kind} U+{:04X} at character {}: names and other text in a scenario must be printable (a description may hold line breaks and tabs)",
        printable(s),
        c as u32,
        index + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("x\ry\u{7f}\u{85}"), "x\\ry\\u{7f}\\u{85}");
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(printable("café ✓ 東京"), "café ✓ 東京");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(printable_lines("a\nb\u{1b}c"), "a\nb\\u{1b}c");
        // A description's tabs stay tabs (they showed as `\t`); a
        // carriage return, which can rewrite a line, does not.
        assert_eq!(printable_lines("a\tb\r\nc"), "a\tb\\r\nc");
        assert!(matches!(printable_lines("a\tb\nc"), Cow::Borrowed(_)));
    }
}
