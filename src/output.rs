//! Writing output files whole or not at all: write a temporary file in the
//! target folder, flush it, then rename it over the destination. A crash or
//! an error midway never leaves a half-written file.

use std::fs;
use std::io::Write;
use std::path::Path;

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
