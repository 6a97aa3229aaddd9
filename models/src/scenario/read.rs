//! A scenario's bytes to text: UTF-8 is required, and a byte-order mark
//! at the start is dropped (RFC 8259 lets a JSON parser ignore one), so
//! every later line:column counts from the first character after it.

use std::path::Path;

use super::error::ScenarioError;
use super::locate::Location;

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The text of the scenario `bytes` (read from `file`, which names it in
/// errors), without a leading byte-order mark.
///
/// # Errors
///
/// [`Syntax`](super::ScenarioErrorKind::Syntax) when the bytes are not
/// UTF-8, located at the first bad byte: its line, and its column counted
/// in characters as every other location is.
#[allow(clippy::result_large_err, reason = "see `parse_document`")]
pub fn decode(file: &str, mut bytes: Vec<u8>) -> Result<String, ScenarioError> {
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&bytes[..at]).expect("valid up to here");
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        let location = Location {
            line: valid.matches('\n').count() + 1,
            column: valid[line_start..].chars().count() + 1,
        };
        ScenarioError::not_utf8(file, location, bytes[at])
    })
}

/// Reads the scenario file `path`: its name for messages and its text
/// ([`decode`]d).
///
/// # Errors
///
/// [`Io`](super::ScenarioErrorKind::Io) when the file cannot be read,
/// [`Syntax`](super::ScenarioErrorKind::Syntax) when it is not UTF-8.
#[allow(clippy::result_large_err, reason = "see `parse_document`")]
pub fn read_file(path: &Path) -> Result<(String, String), ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError::io(&file, &e))?;
    let text = decode(&file, bytes)?;
    Ok((file, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let text = decode("x.json", b"\xEF\xBB\xBF{\"a\": 1}".to_vec()).unwrap();
        assert_eq!(text, "{\"a\": 1}");
        assert_eq!(decode("x.json", b"{}".to_vec()).unwrap(), "{}");
    }

    #[test]
    fn invalid_utf8_is_located_at_the_bad_byte() {
        // Line 3; `é` before the bad byte counts as one column.
        let bytes = b"{\n  \"name\": \"a\",\n  \"x\": \"\xC3\xA9\xFF\"\n}".to_vec();
        let err = decode("x.json", bytes).unwrap_err();
        assert_eq!(
            err.location,
            Some(Location {
                line: 3,
                column: 10
            })
        );
        assert_eq!(
            err.to_string(),
            "x.json:3:10: invalid UTF-8 (byte 0xFF): save the file as UTF-8"
        );
        // After a byte-order mark, columns count from the next character.
        let err = decode("x.json", b"\xEF\xBB\xBF\x80".to_vec()).unwrap_err();
        assert_eq!(err.location, Some(Location { line: 1, column: 1 }));
    }
}
