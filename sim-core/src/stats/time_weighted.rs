//! Time averages of piecewise-constant quantities.

use crate::time::SimTime;

/// The time-average of a piecewise-constant quantity such as a queue
/// length or the number of busy workers: the integral of the value over
/// time divided by the elapsed time.
///
/// Every update is O(1) (a multiply-add), so it can be called on every
/// event. Updates must come in nondecreasing time; an update earlier than
/// the previous one is treated as happening at the previous instant.
///
/// ```
/// use sim_core::SimTime;
/// use sim_core::stats::TimeWeighted;
/// let mut busy = TimeWeighted::new(SimTime(0), 0.0);
/// busy.set(SimTime(10), 2.0); // 0 during [0, 10)
/// busy.add(SimTime(30), -1.0); // 2 during [10, 30)
/// // 1 during [30, 40): area 0 + 40 + 10 over 40.
/// assert_eq!(busy.mean(SimTime(40)), 1.25);
/// assert_eq!(busy.max(), 2.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TimeWeighted {
    /// Start of the integration.
    start: SimTime,
    /// Instant of the last change.
    last: SimTime,
    /// Value since `last`.
    value: f64,
    /// ∫ value dt over [start, last], value·ns.
    area: f64,
    min: f64,
    max: f64,
}

impl TimeWeighted {
    /// Starts integrating at `start` with the value `initial`.
    pub fn new(start: SimTime, initial: f64) -> Self {
        TimeWeighted {
            start,
            last: start,
            value: initial,
            area: 0.0,
            min: initial,
            max: initial,
        }
    }

    /// Accumulates the current value up to `now`.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        if now > self.last {
            self.area += self.value * (now.0 - self.last.0) as f64;
            self.last = now;
        }
    }

    /// The value changes to `value` at `now`.
    #[inline]
    pub fn set(&mut self, now: SimTime, value: f64) {
        self.advance(now);
        self.value = value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// The value changes by `delta` at `now`.
    #[inline]
    pub fn add(&mut self, now: SimTime, delta: f64) {
        self.set(now, self.value + delta);
    }

    /// The current value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The largest value held since the start (or the last reset).
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The smallest value held since the start (or the last reset).
    pub fn min(&self) -> f64 {
        self.min
    }

    /// ∫ value dt from the start to `until`, in value·nanoseconds, with the
    /// current value held up to `until`.
    pub fn integral(&self, until: SimTime) -> f64 {
        self.area + self.value * until.0.saturating_sub(self.last.0) as f64
    }

    /// The time-average from the start (or the last reset) to `until`,
    /// holding the current value up to `until`. With no elapsed time it is
    /// the current value.
    pub fn mean(&self, until: SimTime) -> f64 {
        let elapsed = until.0.saturating_sub(self.start.0);
        if elapsed == 0 {
            return self.value;
        }
        self.integral(until) / elapsed as f64
    }

    /// Restarts the integration at `now`, keeping the current value (and
    /// making it the minimum and maximum): drops a warm-up period.
    pub fn reset(&mut self, now: SimTime) {
        let now = now.max(self.last);
        *self = TimeWeighted::new(now, self.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_computed_areas() {
        let mut q = TimeWeighted::new(SimTime(100), 1.0);
        q.set(SimTime(150), 3.0); // 1 × 50
        q.add(SimTime(170), 1.0); // 3 × 20, then 4
        q.add(SimTime(200), -4.0); // 4 × 30, then 0
        // Area 50 + 60 + 120 = 230 over [100, 250].
        assert_eq!(q.integral(SimTime(250)), 230.0);
        assert!((q.mean(SimTime(250)) - 230.0 / 150.0).abs() < 1e-12);
        assert_eq!((q.min(), q.max(), q.value()), (0.0, 4.0, 0.0));
        // Two changes at the same instant: the first lasts no time.
        q.set(SimTime(250), 100.0);
        q.set(SimTime(250), 2.0);
        assert_eq!(q.integral(SimTime(260)), 250.0);
        // No elapsed time: the current value.
        assert_eq!(TimeWeighted::new(SimTime(5), 7.0).mean(SimTime(5)), 7.0);
    }

    #[test]
    fn reset_drops_the_warm_up() {
        let mut q = TimeWeighted::new(SimTime(0), 10.0);
        q.set(SimTime(1_000), 2.0);
        q.reset(SimTime(2_000));
        assert_eq!((q.min(), q.max()), (2.0, 2.0));
        q.set(SimTime(3_000), 4.0);
        // 2 over [2000, 3000), 4 over [3000, 4000).
        assert_eq!(q.mean(SimTime(4_000)), 3.0);
    }

    proptest! {
        /// The time-average lies between the smallest and largest value
        /// held, and the integral matches a direct sum of rectangles.
        #[test]
        fn mean_lies_between_min_and_max(
            initial in -1e6f64..1e6,
            steps in prop::collection::vec((0u64..1_000_000, -1e6f64..1e6), 0..50),
            tail in 1u64..1_000_000,
        ) {
            let mut tw = TimeWeighted::new(SimTime(0), initial);
            let (mut lo, mut hi) = (initial, initial);
            let (mut t, mut v, mut area) = (0u64, initial, 0.0f64);
            for (dt, value) in steps {
                area += v * dt as f64;
                t += dt;
                v = value;
                tw.set(SimTime(t), value);
                lo = lo.min(value);
                hi = hi.max(value);
            }
            let end = t + tail;
            area += v * tail as f64;
            let mean = tw.mean(SimTime(end));
            let slack = 1e-9 * (lo.abs() + hi.abs() + 1.0);
            prop_assert!(mean >= lo - slack && mean <= hi + slack, "{lo} <= {mean} <= {hi}");
            prop_assert!((tw.integral(SimTime(end)) - area).abs() <= 1e-9 * area.abs().max(1.0));
            prop_assert_eq!((tw.min(), tw.max()), (lo, hi));
        }
    }
}
