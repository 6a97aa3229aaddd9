//! Progress on a terminal: a bar on standard error with the time elapsed
//! and an estimate of the time left, for `run`, `sweep`, `plan` and
//! `check`.
//!
//! The bar is drawn only when standard error is a terminal and `--quiet`
//! is not given, so CI logs and pipes get no progress output, and only
//! once the command has lasted [`REVEAL_AFTER`]: a quick command prints
//! nothing extra. Until then it counts unseen, so the elapsed time and the
//! estimate are those of the whole command when it appears.
//! (`CAPSIM_PROGRESS_DELAY_MS` changes that delay; the tests set it to 0.)
//!
//! A run moves the bar by how far its simulated clock has got (reported by
//! the engine every [`models::PROGRESS_EVERY`] events, see
//! [`models::World::progress`]): a sweep or a check of a few long runs
//! moves steadily instead of jumping when a whole run ends. Only the
//! clock is read, so the results are the same with or without a bar.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use models::World;
use sim_core::SimTime;

/// How long a command runs before its bar appears.
pub const REVEAL_AFTER: Duration = Duration::from_secs(1);

/// Bar steps per run when a run reports how far its clock has got: the
/// bar moves by thousandths of a run.
const STEPS_PER_RUN: u64 = 1000;

/// How often the bar is redrawn once visible (elapsed time and estimate
/// move even while no run reports).
const TICK: Duration = Duration::from_millis(200);

/// A progress bar on standard error, hidden until [`REVEAL_AFTER`].
pub struct Progress {
    bar: ProgressBar,
    /// Bar steps per run: [`STEPS_PER_RUN`] when runs report their clock
    /// ([`Progress::runs`], [`Progress::run`]), 1 when only whole runs
    /// count ([`Progress::whole_runs`]).
    per_run: u64,
    /// Runs finished (for the `3/10 runs` text).
    finished: Arc<AtomicU64>,
    /// Whether the bar may ever be drawn (a terminal, no `--quiet`).
    enabled: bool,
    /// The thread that draws the bar once [`REVEAL_AFTER`] has passed,
    /// and how to tell it the command is over before that.
    reveal: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl Progress {
    /// A bar that is never drawn (tests, benchmarks).
    pub fn hidden() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
            per_run: STEPS_PER_RUN,
            finished: Arc::new(AtomicU64::new(0)),
            enabled: false,
            reveal: Mutex::new(None),
        }
    }

    /// The bar of a sweep or a check of `total` runs, each moving it as
    /// its clock advances: `00:00:12 [=====>    ] 3/10 runs, ETA 21s`.
    pub fn runs(total: usize, quiet: bool) -> Progress {
        let finished = Arc::new(AtomicU64::new(0));
        let done = Arc::clone(&finished);
        let style = style("{elapsed_precise} [{wide_bar}] {runs} runs, ETA {eta}").with_key(
            "runs",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let total = s.len().unwrap_or(0) / STEPS_PER_RUN;
                let _ = write!(w, "{}/{total}", done.load(Ordering::Relaxed));
            },
        );
        Progress::start(
            total as u64 * STEPS_PER_RUN,
            STEPS_PER_RUN,
            style,
            finished,
            quiet,
        )
    }

    /// The bar of a plan, whose runs are added as it decides what to run
    /// next ([`ProgressBar::inc_length`] on [`Progress::bar`]) and counted
    /// whole: `00:00:12 [=====>    ] 6/12 runs so far, ETA 14s` (the
    /// estimate is of the runs so far).
    pub fn whole_runs(quiet: bool) -> Progress {
        let style = style("{elapsed_precise} [{wide_bar}] {pos}/{len} runs so far, ETA {eta}");
        Progress::start(0, 1, style, Arc::new(AtomicU64::new(0)), quiet)
    }

    /// The bar of one run of `duration` simulated:
    /// `00:00:03 [====>     ]  41% of 20m simulated, ETA 4s`.
    pub fn run(duration: SimTime, quiet: bool) -> Progress {
        let style =
            style("{elapsed_precise} [{wide_bar}] {percent:>3}% of {msg} simulated, ETA {eta}");
        let p = Progress::start(
            STEPS_PER_RUN,
            STEPS_PER_RUN,
            style,
            Arc::new(AtomicU64::new(0)),
            quiet,
        );
        p.bar
            .set_message(reports::fmt::secs(duration.as_secs_f64()));
        p
    }

    fn start(
        len: u64,
        per_run: u64,
        style: ProgressStyle,
        finished: Arc<AtomicU64>,
        quiet: bool,
    ) -> Progress {
        use std::io::IsTerminal;
        let enabled = !quiet && std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        bar.set_style(style);
        let reveal = if !enabled {
            None
        } else if reveal_after().is_zero() {
            show(&bar);
            None
        } else {
            let (stop, wait) = mpsc::channel::<()>();
            let shown = bar.clone();
            let thread = std::thread::spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(reveal_after()) {
                    show(&shown);
                }
            });
            Some((stop, thread))
        };
        Progress {
            bar,
            per_run,
            finished,
            enabled,
            reveal: Mutex::new(reveal),
        }
    }

    /// The bar itself, for the planner, which counts whole runs.
    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    /// Follows one run: [`RunProgress::watch`] its worlds, then
    /// [`RunProgress::finish`] it.
    pub fn run_progress(&self) -> RunProgress<'_> {
        RunProgress {
            progress: self,
            reported: AtomicU64::new(0),
        }
    }

    /// Removes the bar (if drawn) before the command prints its results;
    /// if the command was quicker than [`REVEAL_AFTER`], it never appears.
    pub fn finish(&self) {
        let reveal = self.reveal.lock().map(|mut r| r.take()).unwrap_or(None);
        if let Some((stop, thread)) = reveal {
            // The thread draws the bar or not before it ends; once joined,
            // clearing the bar leaves nothing behind either way.
            let _ = stop.send(());
            let _ = thread.join();
        }
        self.bar.finish_and_clear();
    }

    /// Bar steps done so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Runs finished so far.
    pub fn finished(&self) -> u64 {
        self.finished.load(Ordering::Relaxed)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // An error ends a command early: its message must not be drawn
        // over by a bar appearing afterwards.
        self.finish();
    }
}

/// One run's share of a [`Progress`]: the thousandths of the run its
/// clock has reached, never more than the run's share in all.
pub struct RunProgress<'p> {
    progress: &'p Progress,
    /// Bar steps this run has added so far.
    reported: AtomicU64,
}

impl<'p> RunProgress<'p> {
    /// `world` reporting its clock to the bar (unchanged when the bar is
    /// never drawn or counts whole runs: then the engine is not even
    /// called back).
    pub fn watch<'m>(&'m self, world: World<'m>) -> World<'m> {
        if self.progress.enabled && self.progress.per_run > 1 {
            world.progress(move |now, end| self.at(now, end))
        } else {
            world
        }
    }

    /// The run's clock is at `now` of `end`: the bar moves to the
    /// thousandth reached (a run that is cut short, or a second world of
    /// the same run starting again at 0, moves it no further back).
    pub fn at(&self, now: SimTime, end: SimTime) {
        let steps = self.progress.per_run;
        let reached = (u128::from(now.0) * u128::from(steps) / u128::from(end.0.max(1)))
            .min(u128::from(steps - 1)) as u64;
        let before = self.reported.fetch_max(reached, Ordering::Relaxed);
        if reached > before {
            self.progress.bar.inc(reached - before);
        }
    }

    /// The run is over: the bar moves by what is left of its share.
    pub fn finish(self) {
        let before = self.reported.load(Ordering::Relaxed);
        self.progress.bar.inc(self.progress.per_run - before);
        self.progress.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// [`REVEAL_AFTER`], or `CAPSIM_PROGRESS_DELAY_MS` milliseconds.
fn reveal_after() -> Duration {
    std::env::var("CAPSIM_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(REVEAL_AFTER, Duration::from_millis)
}

/// Draws `bar` on standard error from now on.
fn show(bar: &ProgressBar) {
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.enable_steady_tick(TICK);
    bar.tick();
}

/// A template whose bar fills the terminal's width, with an estimate of
/// the time left written as capsim writes durations (`1m30s`), `?` until
/// something has been done (indicatif says `0s`).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("=> ")
        .with_key("eta", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = if s.pos() == 0 {
                write!(w, "?")
            } else {
                write!(w, "{}", reports::fmt::secs(s.eta().as_secs() as f64))
            };
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_adds_exactly_its_share_in_thousandths() {
        let p = Progress::hidden();
        let end = SimTime(20_000_000_000);
        let run = p.run_progress();
        run.at(SimTime(5_000_000_000), end);
        assert_eq!(run.reported.load(Ordering::Relaxed), 250);
        // A second world of the same run (an objective window) starts
        // again at 0: the share never moves back.
        run.at(SimTime(1_000_000_000), end);
        assert_eq!(run.reported.load(Ordering::Relaxed), 250);
        // The clock at the very end is not yet the run's end.
        run.at(end, end);
        assert_eq!(run.reported.load(Ordering::Relaxed), 999);
        run.finish();
        assert_eq!(p.finished(), 1);
        // Two more, one reporting nothing before it ends.
        let a = p.run_progress();
        let b = p.run_progress();
        a.at(SimTime(7), SimTime(10));
        b.finish();
        a.finish();
        assert_eq!(p.finished(), 3);
    }

    #[test]
    fn the_bar_counts_the_shares() {
        // Counted on a bar that is never drawn (`--quiet`).
        let p = Progress::runs(3, true);
        assert!(!p.enabled);
        let run = p.run_progress();
        run.at(SimTime(1), SimTime(4));
        run.finish();
        assert_eq!(p.position(), 1000);
        for _ in 0..2 {
            p.run_progress().finish();
        }
        assert_eq!(p.position(), 3000);
        assert_eq!(p.bar().length(), Some(3000));
        p.finish();
        assert!(p.bar().is_hidden());
    }

    #[test]
    fn a_plan_counts_whole_runs_on_a_growing_bar() {
        let p = Progress::whole_runs(true);
        p.bar().inc_length(4);
        p.bar().inc(3);
        p.bar().inc_length(2);
        assert_eq!((p.position(), p.bar().length()), (3, Some(6)));
    }

    #[test]
    fn a_zero_clock_end_does_not_divide_by_zero() {
        let p = Progress::hidden();
        let run = p.run_progress();
        run.at(SimTime(0), SimTime(0));
        run.at(SimTime(5), SimTime(0));
        assert_eq!(run.reported.load(Ordering::Relaxed), 999);
        run.finish();
        assert_eq!(p.position(), 1000);
    }
}
