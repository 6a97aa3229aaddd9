//! Reading a scenario named on the command line: a file, or standard input
//! when the name is `-` (messages then name the scenario `<stdin>`).
//! Whether the text is JSON or YAML is decided when it is parsed (see
//! `models::load`): by the file's extension, and for standard input by
//! its first character that is not a space (`{`: JSON).

use std::io::Read;
use std::path::Path;

use models::ScenarioError;

/// The name standard input goes by in messages.
pub const STDIN: &str = "<stdin>";

/// Whether `path` means standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The scenario's name for messages and its text: the file `path`, or
/// standard input (read to its end) when `path` is `-`. Either must be
/// UTF-8; a byte-order mark is dropped (see [`models::decode`]).
///
/// # Errors
///
/// What [`models::read_file`] refuses, for standard input as well.
#[allow(
    clippy::result_large_err,
    reason = "a scenario error is built once, on the way out"
)]
pub fn read_scenario(path: &Path) -> Result<(String, String), ScenarioError> {
    if !is_stdin(path) {
        return models::read_file(path);
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| ScenarioError::io(STDIN, &e))?;
    Ok((STDIN.to_owned(), models::decode(STDIN, bytes)?))
}
