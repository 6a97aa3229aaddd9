//! Splitting a sweep across machines: `--partition K/N` runs the K-th of N
//! contiguous slices of the run order and writes a partial file; `merge`
//! joins the parts. Because runs are seeded by their position, and records
//! are aggregated only after a JSON round trip, the merged `sweep.json`
//! equals the single-machine one byte for byte.
//!
//! A partial file is JSON Lines: a header line, then one [`RunRecord`] per
//! line, so neither writing nor merging holds a whole sweep in memory.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::aggregate::aggregate;
use super::record::RunRecord;
use super::spec::grid;
use super::{SweepError, SweepIdentity, SweepResult};

/// Which slice of a sweep to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// 0-based index of this slice.
    pub k: usize,
    /// Number of slices.
    pub n: usize,
}

impl Partition {
    /// Parses `K/N` with `0 <= K < N`.
    pub fn parse(text: &str) -> Result<Partition, SweepError> {
        let bad = |why: &str| SweepError::Input(format!("--partition {text}: {why}"));
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected K/N, e.g. 0/8"))?;
        let k: usize = k
            .trim()
            .parse()
            .map_err(|_| bad("K is not a whole number"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        if n == 0 {
            return Err(bad("N must be at least 1"));
        }
        if k >= n {
            return Err(bad(
                "K counts from 0 and must be below N (Kubernetes JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_ID=0..N-1 fit)",
            ));
        }
        Ok(Partition { k, n })
    }

    /// The runs of this slice among `total`.
    pub fn runs(&self, total: usize) -> std::ops::Range<usize> {
        (self.k * total / self.n)..((self.k + 1) * total / self.n)
    }

    /// File name of this slice's partial result.
    pub fn file_name(&self) -> String {
        format!("part-{:04}-of-{:04}.jsonl", self.k, self.n)
    }
}

/// The first line of a partial file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartHeader {
    /// Marks the file as a capsim partial sweep (format version).
    pub capsim_partial: u32,
    /// The sweep this is a slice of.
    pub identity: SweepIdentity,
    /// What the sweep is for.
    pub description: String,
    /// This slice (0-based).
    pub part: usize,
    /// Number of slices.
    pub parts: usize,
    /// First run of the slice.
    pub first_run: usize,
    /// One past the last run.
    pub end_run: usize,
    /// Runs in the whole sweep.
    pub total_runs: usize,
}

/// Writes a partial file as its records arrive: header first, then each
/// batch of records, into a temporary file that is renamed into place
/// only when complete — a failed or interrupted slice leaves no part file.
pub struct PartWriter {
    tmp: PathBuf,
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl PartWriter {
    /// Starts `path` with its header.
    pub fn create(path: &Path, header: &PartHeader) -> std::io::Result<PartWriter> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut out = {
            let mut temporaries = crate::interrupt::lock();
            let file = std::fs::File::create(&tmp)?;
            crate::interrupt::register(&mut temporaries, &tmp);
            std::io::BufWriter::new(file)
        };
        serde_json::to_writer(&mut out, header).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        Ok(PartWriter {
            tmp,
            path: path.to_path_buf(),
            out,
        })
    }

    /// Appends records, one JSON line each.
    pub fn append(&mut self, records: &[RunRecord]) -> std::io::Result<()> {
        for r in records {
            serde_json::to_writer(&mut self.out, r).map_err(std::io::Error::other)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Flushes and moves the file into place.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        let mut temporaries = crate::interrupt::lock();
        std::fs::rename(&self.tmp, &self.path)?;
        crate::interrupt::unregister(&mut temporaries, &self.tmp);
        Ok(())
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        // After `finish` the temporary is gone; otherwise remove it.
        let mut temporaries = crate::interrupt::lock();
        let _ = std::fs::remove_file(&self.tmp);
        crate::interrupt::unregister(&mut temporaries, &self.tmp);
    }
}

/// Writes a partial file at once (tests and small slices).
pub fn write_part(path: &Path, header: &PartHeader, records: &[RunRecord]) -> std::io::Result<()> {
    let mut w = PartWriter::create(path, header)?;
    w.append(records)?;
    w.finish()
}

/// Reads the header of a partial file.
fn read_header(path: &Path) -> Result<(PartHeader, BufReader<std::fs::File>), SweepError> {
    let f = std::fs::File::open(path)
        .map_err(|e| SweepError::Input(format!("{}: cannot read: {e}", path.display())))?;
    let mut reader = BufReader::new(f);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| SweepError::Input(format!("{}: cannot read: {e}", path.display())))?;
    let header: PartHeader = serde_json::from_str(&line).map_err(|e| {
        SweepError::Input(format!(
            "{}:1: not a capsim partial sweep (written by `capsim sweep --partition K/N`): {e}",
            path.display()
        ))
    })?;
    Ok((header, reader))
}

/// Joins the partial files of one sweep into its result. The parts may be
/// given in any order; all N must be present, once each, from the same
/// sweep.
pub fn merge(paths: &[PathBuf]) -> Result<SweepResult, SweepError> {
    if paths.is_empty() {
        return Err(SweepError::Input("merge: no partial files given".into()));
    }
    let mut parts = Vec::new();
    for p in paths {
        let (h, reader) = read_header(p)?;
        parts.push((h, reader, p.clone()));
    }
    parts.sort_by_key(|(h, _, _)| h.part);
    let (first, _, first_path) = &parts[0];
    let n = first.parts;
    for (h, _, p) in &parts {
        if h.identity != first.identity || h.parts != n || h.total_runs != first.total_runs {
            return Err(SweepError::Input(format!(
                "{} and {} are slices of different sweeps (scenario, sets, --vary, replications, seed or part count differ)",
                first_path.display(),
                p.display()
            )));
        }
    }
    let present: Vec<usize> = parts.iter().map(|(h, _, _)| h.part).collect();
    for w in present.windows(2) {
        if w[0] == w[1] {
            return Err(SweepError::Input(format!(
                "part {} of {n} is given twice",
                w[0]
            )));
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|k| !present.contains(k))
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(SweepError::Input(format!(
            "missing part(s) {} of {n}: every slice 0..{} must be merged",
            missing.join(", "),
            n - 1
        )));
    }
    let identity = first.identity.clone();
    let description = first.description.clone();
    let variants = grid(&identity.dims).map_err(SweepError::Input)?;
    let r = identity.replications as usize;
    let mut summaries = Vec::with_capacity(variants.len());
    let mut pending: Vec<RunRecord> = Vec::with_capacity(r);
    let mut next_run = 0usize;
    for (h, reader, path) in parts {
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| SweepError::Input(format!("{}: {e}", path.display())))?;
            if line.trim().is_empty() {
                continue;
            }
            let rec: RunRecord = serde_json::from_str(&line).map_err(|e| {
                SweepError::Input(format!("{}:{}: bad record: {e}", path.display(), i + 2))
            })?;
            if rec.run != next_run {
                return Err(SweepError::Input(format!(
                    "{}:{}: expected run {next_run}, found run {} (a truncated or edited part?)",
                    path.display(),
                    i + 2,
                    rec.run
                )));
            }
            next_run += 1;
            pending.push(rec);
            if pending.len() == r {
                let v = pending[0].variant;
                summaries.push(aggregate(&variants[v], &pending));
                pending.clear();
            }
        }
        if next_run != h.end_run {
            return Err(SweepError::Input(format!(
                "{}: holds runs up to {next_run}, its header says {} (truncated?)",
                path.display(),
                h.end_run
            )));
        }
    }
    if summaries.len() != variants.len() || !pending.is_empty() {
        return Err(SweepError::Input(format!(
            "the parts hold {next_run} runs; the sweep has {}",
            variants.len() * r
        )));
    }
    Ok(SweepResult {
        format_version: 1,
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        identity,
        description,
        variants: summaries,
    })
}

/// Writes `sweep.json` and `sweep.csv` into the new set of `out`.
///
/// # Errors
///
/// A document that would not read back (a bug) or a file not written.
pub fn write_outputs(out: &crate::outdir::OutDir, result: &SweepResult) -> Result<(), String> {
    let json = crate::output::document_json(result, "sweep document")?;
    out.write(Path::new("sweep.json"), format!("{json}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    out.write(
        Path::new("sweep.csv"),
        super::output::csv(result).as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_every_run_once() {
        for total in [0usize, 1, 7, 16, 100] {
            for n in 1..=9 {
                let mut next = 0;
                for k in 0..n {
                    let r = Partition { k, n }.runs(total);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    #[test]
    fn partition_syntax() {
        assert_eq!(Partition::parse("2/8").unwrap(), Partition { k: 2, n: 8 });
        for bad in ["8/8", "1", "a/2", "1/0", "-1/3"] {
            assert!(Partition::parse(bad).is_err(), "{bad}");
        }
    }
}
