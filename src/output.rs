//! Writing output files whole or not at all: write a temporary file in the
//! target folder, flush it, then rename it over the destination. A crash or
//! an error midway never leaves a half-written file.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The pretty JSON of a document (`what`: "results document", ...) that
/// capsim will read back: it is read back here, as `T`, before anyone
/// writes or prints it. JSON has no infinity or NaN — serde_json writes a
/// float that is not finite as `null`, which no number field reads — so
/// this refuses, naming the field, a document `capsim report` or
/// `check --baseline` could not read. Validation keeps every figure
/// finite; an error here is a bug to report (exit 1), never a file.
pub fn document_json<T: Serialize + DeserializeOwned>(
    doc: &T,
    what: &str,
) -> Result<String, String> {
    let json =
        serde_json::to_string_pretty(doc).map_err(|e| format!("serialising the {what}: {e}"))?;
    let mut de = serde_json::Deserializer::from_str(&json);
    let back: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    match back {
        Ok(_) => Ok(json),
        Err(e) => Err(format!(
            "the {what} would not read back, so it is not written (a figure that is not a finite number?): {}",
            read_error(&e).2
        )),
    }
}

/// Where and why a JSON document did not read: `(line, column, "field.path:
/// message")`, the message without serde_json's own " at line L column C".
pub fn read_error(e: &serde_path_to_error::Error<serde_json::Error>) -> (usize, usize, String) {
    let inner = e.inner();
    let (line, column) = (inner.line(), inner.column());
    let full = inner.to_string();
    let message = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full);
    (line, column, format!("{}: {message}", e.path()))
}

/// Checks that the `--out` folder `dir` can be a folder: it is one, or
/// does not exist yet and no existing part of its path is a file.
///
/// # Errors
///
/// The message for the user, e.g. "--out results.json is a file; give a
/// folder".
pub fn check_out_dir(dir: &Path) -> Result<(), String> {
    let existing = dir
        .ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists());
    match existing {
        Some(p) if !p.is_dir() => Err(if p == dir {
            format!("--out {} is a file; give a folder", dir.display())
        } else {
            format!(
                "--out {}: {} is a file; give a folder",
                dir.display(),
                p.display()
            )
        }),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically (same-folder temporary + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // An interruption waits until the file is whole and in place.
    let _temporaries = crate::interrupt::lock();
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("capsim-out-{}", std::process::id()));
        let path = dir.join("sub").join("results.json");
        write_atomic(&path, b"{}").unwrap();
        write_atomic(&path, b"{\"a\":1}").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{\"a\":1}");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_a_document_that_would_not_read_back() {
        #[derive(Serialize, serde::Deserialize)]
        struct Doc {
            cost: f64,
        }
        assert_eq!(
            document_json(&Doc { cost: 2.5 }, "doc").unwrap(),
            "{\n  \"cost\": 2.5\n}"
        );
        let e = document_json(
            &Doc {
                cost: f64::INFINITY,
            },
            "doc",
        )
        .unwrap_err();
        assert!(e.contains("cost: invalid type: null"), "{e}");
    }

    #[test]
    fn an_out_folder_that_is_a_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("capsim-outdir-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("results.json");
        fs::write(&file, b"{}").unwrap();
        assert_eq!(check_out_dir(&dir), Ok(()));
        assert_eq!(check_out_dir(&dir.join("new/sub")), Ok(()));
        assert_eq!(
            check_out_dir(&file),
            Err(format!("--out {} is a file; give a folder", file.display()))
        );
        assert_eq!(
            check_out_dir(&file.join("sub")),
            Err(format!(
                "--out {}: {} is a file; give a folder",
                file.join("sub").display(),
                file.display()
            ))
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
