//! The interface every component kind implements, and what a kind sees
//! when the run ends.

use sim_core::SimTime;
use sim_core::stats::SeriesSpec;

use super::Cx;
use super::cx::{Event, Period};

/// One kind of component (a balancer, a service, a cache, ...), from its
/// state at the start of a run to its section of the results document.
/// A kind sees the kernel ([`Cx`]) and nothing of the other kinds: the
/// operations requests and steps need are its inherent methods, which
/// return outcomes, and `system/` wires kinds together.
///
/// Its section of the file and its resolution live beside it (each kind's
/// `resolve` takes what it needs from the driver, so the signatures
/// differ); its events are its own enum, carried by the world's event
/// type.
pub trait Kind: Sized {
    /// Resolved form of one entry.
    type Def;
    /// Its entry in the results document.
    type Result;

    /// The entry's state at t = 0. Random streams are named
    /// `"<kind>/<name>/..."` (see each kind), so that adding a component
    /// shifts no one else's draws.
    fn start<E: Event>(def: &Self::Def, cx: &Cx<E>) -> Self;

    /// The warm-up is over: statistics restart at `now`.
    fn reset(&mut self, now: SimTime);

    /// The entry's section of the results document; problems a reader
    /// should know about go to `warnings`.
    fn finish(&self, def: &Self::Def, fin: &Finish<'_>, warnings: &mut Vec<String>)
    -> Self::Result;
}

/// What a kind sees when the run ends.
pub struct Finish<'a> {
    /// The measured period; `period.end` is where the run stopped.
    pub period: Period,
    /// The time-series layout.
    pub spec: SeriesSpec,
    /// Interned key names.
    pub keys: &'a [String],
}

impl Finish<'_> {
    /// When the run stopped.
    pub fn end(&self) -> SimTime {
        self.period.end
    }

    /// The measured period, seconds.
    pub fn measured_s(&self) -> f64 {
        self.period.measured().as_secs_f64()
    }

    /// Counts per bucket as rates per second, each divided by the bucket's
    /// covered width (the last bucket may be cut short by the end).
    pub fn per_sec(&self, counts: &[f64]) -> Vec<f64> {
        let end = self.period.end.0;
        let width = |i: usize| {
            let start = i as u64 * self.spec.interval.0;
            (end.saturating_sub(start)).min(self.spec.interval.0) as f64 / 1e9
        };
        counts
            .iter()
            .enumerate()
            .map(|(i, x)| if width(i) > 0.0 { x / width(i) } else { 0.0 })
            .collect()
    }
}

/// `a / b`, 0 when `b` is 0.
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// 1.0: the serde default of availabilities read from documents that
/// predate them.
pub fn one() -> f64 {
    1.0
}

#[cfg(test)]
mod tests {
    //! A component kind written from scratch, as the crate docs' "How to
    //! add a component kind" describes: a definition, a state that sees
    //! requests, and its entry in the results.

    use sim_core::stats::SeriesSpec;
    use sim_core::{SimDuration, SimTime};

    use super::{Finish, Kind};
    use crate::kernel::Cx;
    use crate::kernel::cx::{Event, Period};
    use crate::model::ids::JobId;

    /// The events of a world with no kind but the meter: the kernel needs
    /// nothing more than resuming a job.
    #[derive(Debug, Clone, Copy)]
    struct TestEv;

    impl Event for TestEv {
        fn resume(_job: JobId) -> TestEv {
            TestEv
        }
    }

    /// A meter's resolved definition.
    struct MeterDef {
        name: String,
    }

    /// A meter's results entry.
    #[derive(Debug, PartialEq)]
    struct MeterResult {
        name: String,
        seen: u64,
        per_sec: f64,
    }

    /// A meter counts the requests that pass it over the measured period.
    struct Meter {
        seen: u64,
        warned: bool,
    }

    impl Meter {
        /// An operation the journey would call: a request passes.
        fn see(&mut self) {
            self.seen += 1;
        }
    }

    impl Kind for Meter {
        type Def = MeterDef;
        type Result = MeterResult;

        fn start<E: Event>(_def: &MeterDef, _cx: &Cx<E>) -> Self {
            Meter {
                seen: 0,
                warned: false,
            }
        }

        fn reset(&mut self, _now: SimTime) {
            self.seen = 0;
        }

        fn finish(
            &self,
            def: &MeterDef,
            fin: &Finish<'_>,
            warnings: &mut Vec<String>,
        ) -> MeterResult {
            if self.seen == 0 && !self.warned {
                warnings.push(format!("meter `{}` saw nothing", def.name));
            }
            MeterResult {
                name: def.name.clone(),
                seen: self.seen,
                per_sec: self.seen as f64 / fin.measured_s(),
            }
        }
    }

    /// The kind starts, counts, restarts its statistics at the end of the
    /// warm-up and reports over the measured period only.
    #[test]
    fn a_kind_written_from_scratch_runs_through_the_interface() {
        let spec = SeriesSpec {
            interval: SimDuration::from_secs(1),
            buckets: 10,
        };
        let cx: Cx<TestEv> = Cx::new(1, spec, 0, SimTime(10_000_000_000), SimTime(2_000_000_000));
        let def = MeterDef {
            name: "edge".into(),
        };
        let mut m = Meter::start(&def, &cx);
        m.see();
        m.reset(cx.period.warmup);
        for _ in 0..40 {
            m.see();
        }
        let fin = Finish {
            period: Period {
                end: SimTime(10_000_000_000),
                ..cx.period
            },
            spec,
            keys: &[],
        };
        let mut warnings = Vec::new();
        let r = m.finish(&def, &fin, &mut warnings);
        assert_eq!(
            r,
            MeterResult {
                name: "edge".into(),
                seen: 40,
                per_sec: 5.0, // 40 over the 8 measured seconds
            }
        );
        assert!(warnings.is_empty());
        let idle = Meter::start(&def, &cx);
        idle.finish(&def, &fin, &mut warnings);
        assert_eq!(warnings, ["meter `edge` saw nothing"]);
    }
}
