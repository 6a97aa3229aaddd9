//! Interruption: on Ctrl-C (SIGINT) or SIGTERM, the temporary files and
//! folders this process is writing are removed, one line on standard
//! error says so, and capsim exits 130 (SIGINT) or 143 (SIGTERM), the
//! shell's code for a program ended by that signal.
//!
//! Outputs are built aside (see [`crate::outdir`]) and moved into place
//! under the lock of [`lock`]; the handler takes the same lock, so it
//! never removes a file half-way through a write or a folder half-way
//! through its swap: the user keeps either the old set of files or the
//! new one. Simulations run on rayon threads that never take the lock;
//! the handler does not wait for them.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Temporaries to remove if the process is interrupted.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The list of temporaries, locked: hold it while writing into or moving
/// a temporary, so that an interruption waits until the step is whole.
pub fn lock() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding it leaves the list as it was: still usable.
    TEMPORARIES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes `path` (a file or a folder) if the process is interrupted.
pub fn register(temporaries: &mut Vec<PathBuf>, path: &Path) {
    temporaries.push(path.to_path_buf());
}

/// `path` is gone or moved into place: no longer to remove.
pub fn unregister(temporaries: &mut Vec<PathBuf>, path: &Path) {
    temporaries.retain(|p| p != path);
}

/// Removes every registered temporary (called with the lock held).
fn remove_all(temporaries: &[PathBuf]) {
    for p in temporaries {
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
    }
}

/// Installs the handler for SIGINT and SIGTERM (a thread that waits for
/// them). Call it first thing in `main`. Elsewhere than Unix it does
/// nothing.
pub fn install() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let temporaries = lock();
                remove_all(&temporaries);
                let name = if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                eprintln!(
                    "\ncapsim: interrupted ({name}); outputs left as they were, temporary files removed"
                );
                // Exits with the lock held: no other thread writes again.
                std::process::exit(128 + signal);
            }
        });
    }
}
