//! An `--out` folder written whole or not at all.
//!
//! The files are written into a temporary sibling, `.NAME.capsim-tmp-PID`
//! beside `NAME` (same file system), which is swapped in at the end: on
//! Linux in one atomic step (`renameat2` with `RENAME_EXCHANGE`), else by
//! two renames (`NAME` -> `.NAME.capsim-old-PID`, the new set -> `NAME`),
//! after which the old set is removed. An error or an interruption
//! ([`crate::interrupt`]) removes the temporary: the folder holds either
//! the previous run's complete set or the new complete set, never a mix.
//!
//! The whole folder is replaced, so capsim replaces only a folder it made:
//! one that is empty, holds [`MARKER`], or (written by a capsim before the
//! marker existed) holds a capsim document at its top and nothing but
//! `.json`, `.jsonl`, `.csv`, `.svg`, `.html` and `.xml` files and old
//! temporaries. Anything else is refused before any work is done. Input
//! files that lie inside the folder (`capsim report out/results.json
//! --out out`) are carried into the new set. A temporary left by a
//! process that no longer runs (killed with SIGKILL) is removed by the
//! next run into the same folder.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::interrupt;

/// The file that marks a folder as capsim's to replace.
pub const MARKER: &str = ".capsim-out";

const MARKER_TEXT: &str = "This folder was written by capsim. The next `capsim ... --out` into it\n\
replaces the whole folder: files added here are lost.\n";

/// The documents one of which marks a folder written before [`MARKER`].
const DOCUMENTS: [&str; 4] = ["results.json", "sweep.json", "plan.json", "check.json"];

/// The kinds of file capsim writes.
const WRITTEN: [&str; 6] = ["json", "jsonl", "csv", "svg", "html", "xml"];

/// Why an `--out` folder cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum OutError {
    /// The folder is not one capsim may replace (bad input: exit 2).
    #[error("{0}")]
    Refused(String),
    /// A file or folder could not be written (exit 1).
    #[error("writing {}: {source}", path.display())]
    Io {
        /// What was being written.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> OutError + '_ {
    move |source| OutError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An `--out` folder being built aside; [`OutDir::commit`] swaps it in,
/// dropping it without a commit removes it.
#[derive(Debug)]
pub struct OutDir {
    /// The folder as the user named it (for messages).
    shown: PathBuf,
    /// Its canonical path.
    target: PathBuf,
    /// The temporary sibling being filled.
    stage: PathBuf,
    committed: bool,
}

impl OutDir {
    /// Starts writing `dir`: checks that capsim may replace it, removes
    /// stale temporaries of dead processes, creates the temporary sibling
    /// and copies into it the `inputs` that lie inside `dir`.
    ///
    /// # Errors
    ///
    /// [`OutError::Refused`] for a folder capsim may not replace (the
    /// current folder, one holding other files), [`OutError::Io`] when
    /// the temporary cannot be made.
    pub fn begin(dir: &Path, inputs: &[&Path]) -> Result<OutDir, OutError> {
        let shown = dir.to_path_buf();
        let refuse = |why: String| OutError::Refused(format!("--out {}: {why}", shown.display()));
        let target = if dir.exists() {
            fs::canonicalize(dir).map_err(io_error(dir))?
        } else {
            let absolute = std::path::absolute(dir).map_err(io_error(dir))?;
            let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
                return Err(refuse("name a folder".into()));
            };
            fs::create_dir_all(parent).map_err(io_error(parent))?;
            fs::canonicalize(parent)
                .map_err(io_error(parent))?
                .join(name)
        };
        let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
            return Err(refuse(
                "capsim replaces its --out folder whole; name a folder of its own".into(),
            ));
        };
        let name = name.to_string_lossy().into_owned();
        if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize)
            && cwd.starts_with(&target)
        {
            return Err(refuse(
                "that is the current folder (or holds it), and capsim replaces its --out folder whole; name a folder of its own, e.g. out/".into(),
            ));
        }
        if target.is_dir()
            && let Some(foreign) = foreign_file(&target).map_err(io_error(&target))?
        {
            return Err(refuse(format!(
                "it holds {}, which capsim did not write; capsim replaces its --out folder whole, so it only replaces a folder it made: name a new or empty folder, or move that file away",
                foreign.display()
            )));
        }
        remove_stale(parent, &name);
        let stage = parent.join(format!(".{name}.capsim-tmp-{}", std::process::id()));
        let out = {
            let mut temporaries = interrupt::lock();
            if stage.exists() {
                fs::remove_dir_all(&stage).map_err(io_error(&stage))?;
            }
            fs::create_dir(&stage).map_err(io_error(&stage))?;
            interrupt::register(&mut temporaries, &stage);
            OutDir {
                shown,
                target,
                stage,
                committed: false,
            }
        };
        out.write(Path::new(MARKER), MARKER_TEXT.as_bytes())?;
        for input in inputs {
            if let Some(rel) = out.inside(input) {
                let bytes = fs::read(input).map_err(io_error(input))?;
                out.write(&rel, &bytes)?;
            }
        }
        Ok(out)
    }

    /// The folder as the user named it.
    pub fn path(&self) -> &Path {
        &self.shown
    }

    /// Where `path` lies inside the folder, relative to it, if it does.
    pub fn inside(&self, path: &Path) -> Option<PathBuf> {
        let full = match fs::canonicalize(path) {
            Ok(p) => p,
            Err(_) => {
                let absolute = std::path::absolute(path).ok()?;
                fs::canonicalize(absolute.parent()?)
                    .ok()?
                    .join(absolute.file_name()?)
            }
        };
        full.strip_prefix(&self.target)
            .ok()
            .filter(|rel| !rel.as_os_str().is_empty())
            .map(Path::to_path_buf)
    }

    /// Writes `bytes` as `rel` (a path inside the folder, subfolders
    /// created) into the new set.
    ///
    /// # Errors
    ///
    /// [`OutError::Io`], naming the file as the user will see it.
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> Result<(), OutError> {
        let file = self.stage.join(rel);
        let _temporaries = interrupt::lock();
        let result = (|| {
            if let Some(sub) = file.parent() {
                fs::create_dir_all(sub)?;
            }
            let mut f = fs::File::create(&file)?;
            f.write_all(bytes)?;
            f.sync_all()
        })();
        result.map_err(io_error(&self.shown.join(rel)))
    }

    /// Swaps the new set in place of the folder and removes the old set.
    ///
    /// # Errors
    ///
    /// [`OutError::Io`] if the swap fails; the old set is then left as it
    /// was and the new one removed.
    pub fn commit(mut self) -> Result<(), OutError> {
        let mut temporaries = interrupt::lock();
        let old = swap(&self.stage, &self.target).map_err(io_error(&self.shown))?;
        self.committed = true;
        if let Some(old) = old {
            let _ = fs::remove_dir_all(&old);
        }
        interrupt::unregister(&mut temporaries, &self.stage);
        Ok(())
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !self.committed {
            let mut temporaries = interrupt::lock();
            let _ = fs::remove_dir_all(&self.stage);
            interrupt::unregister(&mut temporaries, &self.stage);
        }
    }
}

/// Moves `stage` to `target`; returns where the old set now is, if there
/// was one.
fn swap(stage: &Path, target: &Path) -> std::io::Result<Option<PathBuf>> {
    if !target.exists() {
        fs::rename(stage, target)?;
        return Ok(None);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        // One step: `target` is the new set and `stage` the old one.
        if renameat_with(CWD, stage, CWD, target, RenameFlags::EXCHANGE).is_ok() {
            return Ok(Some(stage.to_path_buf()));
        }
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let old = target.with_file_name(format!(".{name}.capsim-old-{}", std::process::id()));
    fs::rename(target, &old)?;
    if let Err(e) = fs::rename(stage, target) {
        let _ = fs::rename(&old, target);
        return Err(e);
    }
    Ok(Some(old))
}

/// The first file under `dir` that capsim would not have written, if any
/// (none when `dir` is empty or holds [`MARKER`]).
fn foreign_file(dir: &Path) -> std::io::Result<Option<PathBuf>> {
    let mut entries = fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    if entries.is_empty() || dir.join(MARKER).is_file() {
        return Ok(None);
    }
    entries.sort_by_key(|e| e.file_name());
    if !DOCUMENTS.iter().any(|d| dir.join(d).is_file()) {
        return Ok(Some(entries[0].path()));
    }
    written_by_capsim(dir)
}

/// The first file under `dir` (subfolders too) of a kind capsim does not
/// write.
fn written_by_capsim(dir: &Path) -> std::io::Result<Option<PathBuf>> {
    let mut entries = fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        if e.file_type()?.is_dir() {
            if let Some(f) = written_by_capsim(&path)? {
                return Ok(Some(f));
            }
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let old_temporary = name.starts_with('.') && name.ends_with(".tmp");
        let kind = path.extension().and_then(|x| x.to_str()).unwrap_or("");
        if !old_temporary && !WRITTEN.contains(&kind) {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Removes `.NAME.capsim-tmp-PID` and `.NAME.capsim-old-PID` beside
/// `NAME` left by processes that no longer run.
fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let pid = [".capsim-tmp-", ".capsim-old-"].iter().find_map(|kind| {
            file.strip_prefix(&format!(".{name}{kind}"))?
                .parse::<u32>()
                .ok()
        });
        if let Some(pid) = pid
            && pid != std::process::id()
            && !alive(pid)
        {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Whether a process `pid` runs (Unix; elsewhere assumed, so nothing is
/// removed).
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return true;
        };
        !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(what: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("capsim-outdir-{what}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A first set in `dir`: `file` with `bytes`.
    fn first_set(dir: &Path, file: &str, bytes: &[u8]) {
        let first = OutDir::begin(dir, &[]).unwrap();
        first.write(Path::new(file), bytes).unwrap();
        first.commit().unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_committed_set_replaces_the_old_one_whole() {
        let root = scratch("swap");
        let dir = root.join("out");
        first_set(&dir, "a.svg", b"a");
        let second = OutDir::begin(&dir, &[]).unwrap();
        second.write(Path::new("sub/b.svg"), b"b").unwrap();
        assert_eq!(names(&dir), [MARKER, "a.svg"], "old set until the commit");
        second.commit().unwrap();
        assert_eq!(names(&dir), [MARKER, "sub"]);
        assert_eq!(fs::read(dir.join("sub/b.svg")).unwrap(), b"b");
        assert_eq!(names(&root), ["out"], "no temporary left");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_set_dropped_unfinished_leaves_the_old_one() {
        let root = scratch("drop");
        let dir = root.join("out");
        first_set(&dir, "a.svg", b"a");
        let second = OutDir::begin(&dir, &[]).unwrap();
        second.write(Path::new("b.svg"), b"b").unwrap();
        drop(second);
        assert_eq!(names(&dir), [MARKER, "a.svg"]);
        assert_eq!(names(&root), ["out"]);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_folder_with_other_files_is_refused() {
        let root = scratch("foreign");
        let dir = root.join("notes");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("todo.txt"), b"mine").unwrap();
        let e = OutDir::begin(&dir, &[]).unwrap_err();
        assert!(
            matches!(&e, OutError::Refused(m) if m.contains("todo.txt") && m.contains("did not write")),
            "{e}"
        );
        // A folder an older capsim wrote (no marker) is replaced...
        let legacy = root.join("legacy");
        fs::create_dir_all(legacy.join("sub")).unwrap();
        fs::write(legacy.join("results.json"), b"{}").unwrap();
        fs::write(legacy.join("sub/p99.svg"), b"").unwrap();
        fs::write(legacy.join(".results.json.77.tmp"), b"").unwrap();
        OutDir::begin(&legacy, &[]).unwrap().commit().unwrap();
        assert_eq!(names(&legacy), [MARKER]);
        // ...unless something else is in it.
        fs::write(legacy.join("results.json"), b"{}").unwrap();
        fs::remove_file(legacy.join(MARKER)).unwrap();
        fs::write(legacy.join("README.md"), b"").unwrap();
        assert!(OutDir::begin(&legacy, &[]).is_err());
        assert_eq!(names(&root), ["legacy", "notes"]);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn inputs_inside_the_folder_are_carried_over() {
        let root = scratch("carry");
        let dir = root.join("out");
        first_set(&dir, "results.json", b"{}");
        let doc = dir.join("results.json");
        let second = OutDir::begin(&dir, &[&doc, &root]).unwrap();
        second.write(Path::new("index.html"), b"").unwrap();
        second.commit().unwrap();
        assert_eq!(names(&dir), [MARKER, "index.html", "results.json"]);
        assert_eq!(fs::read(&doc).unwrap(), b"{}");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let root = scratch("stale");
        // Far above any pid_max: no such process.
        let dead = root.join(".out.capsim-tmp-2000000000");
        fs::create_dir_all(&dead).unwrap();
        let live = root.join(format!(".other.capsim-tmp-{}", 2_000_000_000));
        fs::create_dir_all(&live).unwrap();
        OutDir::begin(&root.join("out"), &[])
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(names(&root), [".other.capsim-tmp-2000000000", "out"]);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_current_folder_is_refused() {
        let e = OutDir::begin(Path::new("."), &[]).unwrap_err();
        assert!(e.to_string().contains("current folder"), "{e}");
    }
}
