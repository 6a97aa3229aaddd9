//! The terminal conventions of the command line: when to colour
//! (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`, a terminal or not), how wide
//! tables may be, and what may reach the screen: nothing a user string
//! holds can move the cursor, clear the screen or reorder a line.

use std::borrow::Cow;
use std::io::IsTerminal;

use crate::cli::ColorChoice;

/// Whether to colour, from `--color` and the environment (`var` reads a
/// variable): `always` and `never` decide; `auto` colours when standard
/// output is a terminal (`tty`) that is not `TERM=dumb`, unless `NO_COLOR`
/// is set and not empty (<https://no-color.org>); `CLICOLOR_FORCE` set and
/// neither empty nor `0` colours even into a pipe.
pub fn colour(choice: ColorChoice, var: impl Fn(&str) -> Option<String>, tty: bool) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE") => var("CLICOLOR_FORCE").as_deref() != Some("0"),
        ColorChoice::Auto => tty && var("TERM").as_deref() != Some("dumb"),
    }
}

/// The width tables fit into: on a terminal, `COLUMNS` if it is a
/// number, else the terminal's own width; `None` (rows as long as their
/// cells, as in a file) when standard output is not a terminal.
pub fn table_width(var: impl Fn(&str) -> Option<String>, tty: bool) -> Option<u16> {
    if !tty {
        return None;
    }
    var("COLUMNS")
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&w| w > 0)
        .or_else(reports::terminal::terminal_width)
}

/// Applies `--color` and the terminal's width to everything printed from
/// now on; returns whether colour is on.
pub fn setup(choice: ColorChoice) -> bool {
    let var = |name: &str| std::env::var(name).ok();
    let tty = std::io::stdout().is_terminal();
    let on = colour(choice, var, tty);
    reports::terminal::set_colour(on);
    reports::terminal::set_width(table_width(var, tty));
    on
}

/// Text for the terminal: every unprintable character (see
/// [`models::is_unprintable`]) but the line feed and the tab written as its escape
/// (`\u{1b}`). With `colour`, capsim's own colour codes (`ESC [ digits ;
/// ... m`, which only set colours) are kept.
pub fn safe(text: &str, colour: bool) -> Cow<'_, str> {
    if !colour {
        return models::printable_lines(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\u{1b}') {
        out.push_str(&models::printable_lines(&rest[..i]));
        let after = &rest[i + 1..];
        let sgr = after
            .strip_prefix('[')
            .and_then(|p| {
                p.find(|c: char| !(c.is_ascii_digit() || c == ';'))
                    .map(|n| (p, n))
            })
            .filter(|&(p, n)| p[n..].starts_with('m'));
        match sgr {
            Some((_, n)) => {
                out.push_str(&rest[i..i + 1 + 1 + n + 1]);
                rest = &rest[i + 1 + 1 + n + 1..];
            }
            None => {
                out.push_str("\\u{1b}");
                rest = after;
            }
        }
    }
    out.push_str(&models::printable_lines(rest));
    Cow::Owned(out)
}

/// A JSON document for the terminal: unprintable characters inside its
/// strings (serde_json leaves DEL, C1 controls and bidirectional overrides
/// as they are) written as JSON escapes (`\u009b`), so the document means
/// the same and cannot act on the terminal.
pub fn safe_json(json: &str) -> Cow<'_, str> {
    if !json.contains(|c| c != '\n' && models::is_unprintable(c)) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c != '\n' && models::is_unprintable(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn colour_follows_the_flag_no_color_and_the_terminal() {
        use ColorChoice::*;
        assert!(colour(Auto, env(&[]), true));
        assert!(!colour(Auto, env(&[]), false));
        assert!(!colour(Auto, env(&[("NO_COLOR", "1")]), true));
        assert!(colour(Auto, env(&[("NO_COLOR", "")]), true));
        assert!(!colour(Auto, env(&[("TERM", "dumb")]), true));
        assert!(colour(Auto, env(&[("CLICOLOR_FORCE", "1")]), false));
        assert!(!colour(Auto, env(&[("CLICOLOR_FORCE", "0")]), false));
        assert!(colour(Always, env(&[("NO_COLOR", "1")]), false));
        assert!(!colour(Never, env(&[("CLICOLOR_FORCE", "1")]), true));
    }

    #[test]
    fn tables_are_as_wide_as_columns_says_on_a_terminal_only() {
        assert_eq!(table_width(env(&[("COLUMNS", "100")]), true), Some(100));
        assert_eq!(table_width(env(&[("COLUMNS", "100")]), false), None);
    }

    #[test]
    fn only_colour_codes_survive_and_only_with_colour() {
        let red = "\u{1b}[31mFAIL\u{1b}[0m";
        assert_eq!(safe(red, true), red);
        assert_eq!(safe(red, false), "\\u{1b}[31mFAIL\\u{1b}[0m");
        assert_eq!(
            safe("a\u{1b}[2Jb\rc\u{1b}", true),
            "a\\u{1b}[2Jb\\rc\\u{1b}"
        );
        assert_eq!(safe("x\ny\u{202e}", false), "x\ny\\u{202e}");
    }

    #[test]
    fn json_gets_json_escapes() {
        let j = "{\n  \"name\": \"a\u{9b}b\u{202e}\"\n}";
        let safe = safe_json(j);
        assert_eq!(safe, "{\n  \"name\": \"a\\u009bb\\u202e\"\n}");
        let v: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(v["name"], "a\u{9b}b\u{202e}");
    }
}
