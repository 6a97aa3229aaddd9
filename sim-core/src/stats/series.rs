//! Fixed-interval time series in bounded memory.
//!
//! A run of horizon H with interval I keeps `ceil(H / I)` buckets per
//! series, whatever the number of events. Bucket `i` covers
//! `[i·I, (i+1)·I)`; anything at or after the start of the last bucket
//! lands in the last bucket, so events past the horizon are not lost.

use serde::{Deserialize, Serialize};

use super::histogram::CoarseHistogram;
use crate::time::{SimDuration, SimTime};

/// The shape of a time series: bucket width and number of buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesSpec {
    /// Width of one bucket; must be positive.
    pub interval: SimDuration,
    /// Number of buckets, `ceil(horizon / interval)`; must be positive.
    pub buckets: usize,
}

impl SeriesSpec {
    /// Buckets of width `interval` covering `[0, horizon)`: at least one.
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn new(interval: SimDuration, horizon: SimDuration) -> SeriesSpec {
        assert!(interval.0 > 0, "time series interval must be positive");
        let buckets = horizon.0.div_ceil(interval.0).max(1);
        SeriesSpec {
            interval,
            buckets: usize::try_from(buckets).expect("bucket count fits in memory"),
        }
    }

    /// The bucket that holds instant `t` (the last one for `t` beyond it).
    #[inline]
    pub fn bucket_of(&self, t: SimTime) -> usize {
        let i = t.0 / self.interval.0;
        usize::try_from(i).map_or(self.buckets - 1, |i| i.min(self.buckets - 1))
    }

    /// The instant bucket `i` starts.
    pub fn bucket_start(&self, i: usize) -> SimTime {
        SimTime((i as u64).saturating_mul(self.interval.0))
    }

    /// How much of `[0, end)` bucket `i` covers, ns. The last bucket is
    /// open-ended.
    fn covered(&self, i: usize, end: SimTime) -> u64 {
        let start = self.bucket_start(i).0;
        let stop = if i + 1 == self.buckets {
            end.0
        } else {
            end.0.min(self.bucket_start(i + 1).0)
        };
        stop.saturating_sub(start)
    }

    fn check(&self) {
        assert!(
            self.interval.0 > 0 && self.buckets > 0,
            "a time series needs a positive interval and at least one bucket: {self:?}"
        );
    }
}

/// The bucket of the last update and the instants it spans, so that the
/// next update in the same bucket (most of them: a simulation clock moves
/// little between updates) costs two comparisons instead of a division.
/// Any instant, earlier ones included, gives [`SeriesSpec::bucket_of`].
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cursor {
    /// Bucket `index` covers `[start, end)` (the last one to `u64::MAX`).
    start: u64,
    end: u64,
    index: usize,
}

impl Cursor {
    /// At bucket 0.
    fn new(spec: &SeriesSpec) -> Cursor {
        let mut c = Cursor {
            start: 0,
            end: 0,
            index: 0,
        };
        c.move_to(spec, SimTime::ZERO);
        c
    }

    /// The bucket of instant `t`, [`SeriesSpec::bucket_of`].
    #[inline]
    fn bucket(&mut self, spec: &SeriesSpec, t: SimTime) -> usize {
        if t.0 < self.start || t.0 >= self.end {
            self.move_to(spec, t);
        }
        self.index
    }

    #[cold]
    fn move_to(&mut self, spec: &SeriesSpec, t: SimTime) {
        let i = spec.bucket_of(t);
        self.index = i;
        self.start = spec.bucket_start(i).0;
        self.end = if i + 1 == spec.buckets {
            u64::MAX
        } else {
            spec.bucket_start(i + 1).0
        };
    }
}

/// Sums of amounts per bucket: requests started, errors, bytes.
#[derive(Clone, Debug)]
pub struct CountSeries {
    spec: SeriesSpec,
    cursor: Cursor,
    values: Vec<f64>,
}

impl PartialEq for CountSeries {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec && self.values == other.values
    }
}

impl CountSeries {
    /// All buckets at zero.
    ///
    /// # Panics
    ///
    /// If `spec` has a zero interval or no buckets.
    pub fn new(spec: SeriesSpec) -> Self {
        spec.check();
        CountSeries {
            spec,
            cursor: Cursor::new(&spec),
            values: vec![0.0; spec.buckets],
        }
    }

    /// Adds `amount` to the bucket of instant `t`.
    #[inline]
    pub fn add(&mut self, t: SimTime, amount: f64) {
        let b = self.cursor.bucket(&self.spec, t);
        self.values[b] += amount;
    }

    /// The sum in each bucket.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The shape of the series.
    pub fn spec(&self) -> SeriesSpec {
        self.spec
    }
}

/// The time-weighted mean of a piecewise-constant value (queue length,
/// busy workers) in each bucket. A value that holds across several
/// buckets is split between them exactly.
#[derive(Clone, Debug)]
pub struct GaugeSeries {
    spec: SeriesSpec,
    cursor: Cursor,
    /// ∫ value dt within each bucket up to `last`, value·ns.
    areas: Vec<f64>,
    last: SimTime,
    value: f64,
}

impl PartialEq for GaugeSeries {
    fn eq(&self, other: &Self) -> bool {
        (self.spec, &self.areas, self.last, self.value)
            == (other.spec, &other.areas, other.last, other.value)
    }
}

impl GaugeSeries {
    /// A gauge holding 0 from time 0.
    ///
    /// # Panics
    ///
    /// If `spec` has a zero interval or no buckets.
    pub fn new(spec: SeriesSpec) -> Self {
        Self::with_initial(spec, 0.0)
    }

    /// A gauge holding `initial` from time 0.
    ///
    /// # Panics
    ///
    /// If `spec` has a zero interval or no buckets.
    pub fn with_initial(spec: SeriesSpec, initial: f64) -> Self {
        spec.check();
        GaugeSeries {
            spec,
            cursor: Cursor::new(&spec),
            areas: vec![0.0; spec.buckets],
            last: SimTime::ZERO,
            value: initial,
        }
    }

    /// Adds value·dt over `[from, to)` to the buckets it crosses.
    fn integrate(
        spec: &SeriesSpec,
        cursor: &mut Cursor,
        areas: &mut [f64],
        from: SimTime,
        to: SimTime,
        value: f64,
    ) {
        let mut t = from.0;
        let mut b = cursor.bucket(spec, from);
        if to.0 <= cursor.end {
            // Within the bucket of `from` (most changes).
            areas[b] += value * (to.0 - t) as f64;
            return;
        }
        while t < to.0 {
            let stop = if b + 1 == spec.buckets {
                to.0
            } else {
                to.0.min(spec.bucket_start(b + 1).0)
            };
            areas[b] += value * (stop - t) as f64;
            t = stop;
            b += 1;
        }
    }

    /// The value changes to `value` at `t`. Times must not decrease; an
    /// earlier `t` counts as the previous instant.
    #[inline]
    pub fn set(&mut self, t: SimTime, value: f64) {
        if t > self.last {
            Self::integrate(
                &self.spec,
                &mut self.cursor,
                &mut self.areas,
                self.last,
                t,
                self.value,
            );
            self.last = t;
        }
        self.value = value;
    }

    /// The current value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The time-weighted mean in each bucket over `[0, end)`, holding the
    /// current value up to `end`. A bucket that starts at or after `end`
    /// has no observed time and is NaN (`null` in JSON). An `end` before
    /// the last [`set`](Self::set) counts as that instant.
    pub fn finish(&self, end: SimTime) -> Vec<f64> {
        let end = end.max(self.last);
        let mut areas = self.areas.clone();
        if end > self.last {
            let mut cursor = self.cursor;
            Self::integrate(
                &self.spec,
                &mut cursor,
                &mut areas,
                self.last,
                end,
                self.value,
            );
        }
        areas
            .iter()
            .enumerate()
            .map(|(i, area)| match self.spec.covered(i, end) {
                0 => f64::NAN,
                covered => area / covered as f64,
            })
            .collect()
    }

    /// The shape of the series.
    pub fn spec(&self) -> SeriesSpec {
        self.spec
    }
}

/// Latency figures of one bucket, in milliseconds; all zero when nothing
/// completed in the bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyPoint {
    /// Number of latencies recorded in the bucket.
    pub count: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
}

/// Latency percentiles per bucket. Latencies must be recorded in
/// nondecreasing time order (as a simulation clock produces them): one
/// [`CoarseHistogram`] (2 significant digits, quantiles within 1%) holds
/// the current bucket and is summarised and reset when time moves on, so
/// memory is one histogram plus four numbers per bucket.
#[derive(Clone, Debug)]
pub struct LatencySeries {
    spec: SeriesSpec,
    cursor: Cursor,
    hist: CoarseHistogram,
    current: usize,
    points: Vec<LatencyPoint>,
}

impl LatencySeries {
    /// An empty series (latencies up to one hour; longer ones are clamped).
    ///
    /// # Panics
    ///
    /// If `spec` has a zero interval or no buckets.
    pub fn new(spec: SeriesSpec) -> Self {
        spec.check();
        LatencySeries {
            spec,
            cursor: Cursor::new(&spec),
            hist: CoarseHistogram::new(),
            current: 0,
            points: vec![LatencyPoint::default(); spec.buckets],
        }
    }

    fn point(hist: &CoarseHistogram) -> LatencyPoint {
        let ms = |ns: u64| ns as f64 / 1e6;
        LatencyPoint {
            count: hist.count(),
            p50_ms: ms(hist.quantile_ns(0.5)),
            p99_ms: ms(hist.quantile_ns(0.99)),
            p999_ms: ms(hist.quantile_ns(0.999)),
        }
    }

    /// Records a latency of `ns` nanoseconds completed at `t`. A `t` in an
    /// earlier bucket than the previous record (out of order) is counted in
    /// the current bucket.
    #[inline]
    pub fn record(&mut self, t: SimTime, ns: u64) {
        let b = self.cursor.bucket(&self.spec, t);
        if b > self.current {
            if !self.hist.is_empty() {
                self.points[self.current] = Self::point(&self.hist);
                self.hist.reset();
            }
            self.current = b;
        }
        self.hist.record(ns);
    }

    /// The points of every bucket. Buckets with no latency recorded,
    /// including those after `end`, have count 0. `end` does not cut the
    /// current bucket short: latencies are recorded when they complete,
    /// so everything recorded belongs to the run.
    pub fn finish(&self, end: SimTime) -> Vec<LatencyPoint> {
        debug_assert!(
            self.hist.is_empty() || self.spec.bucket_of(end) >= self.current,
            "latencies recorded after the end of the run"
        );
        let mut points = self.points.clone();
        if !self.hist.is_empty() {
            points[self.current] = Self::point(&self.hist);
        }
        points
    }

    /// Latencies above the histogram's one-hour bound, clamped so far.
    pub fn clamped(&self) -> u64 {
        self.hist.clamped()
    }

    /// The shape of the series.
    pub fn spec(&self) -> SeriesSpec {
        self.spec
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::TimeWeighted;
    use proptest::prelude::*;

    fn spec10(buckets: usize) -> SeriesSpec {
        SeriesSpec {
            interval: SimDuration(10),
            buckets,
        }
    }

    #[test]
    fn spec_counts_buckets_and_places_boundaries() {
        let s = SeriesSpec::new(SimDuration(10), SimDuration(95));
        assert_eq!(s.buckets, 10);
        assert_eq!(
            SeriesSpec::new(SimDuration(10), SimDuration(100)).buckets,
            10
        );
        assert_eq!(SeriesSpec::new(SimDuration(10), SimDuration(0)).buckets, 1);
        assert_eq!(s.bucket_of(SimTime(0)), 0);
        assert_eq!(s.bucket_of(SimTime(9)), 0);
        assert_eq!(s.bucket_of(SimTime(10)), 1);
        assert_eq!(s.bucket_of(SimTime(94)), 9);
        assert_eq!(s.bucket_of(SimTime(1_000)), 9);
        assert_eq!(s.bucket_of(SimTime::MAX), 9);
    }

    #[test]
    fn counts_go_to_their_bucket_and_overflow_to_the_last() {
        let mut c = CountSeries::new(spec10(3));
        c.add(SimTime(0), 1.0);
        c.add(SimTime(9), 1.0);
        c.add(SimTime(10), 5.0);
        c.add(SimTime(29), 1.0);
        c.add(SimTime(30), 1.0);
        c.add(SimTime(10_000), 2.0);
        assert_eq!(c.values(), &[2.0, 5.0, 4.0]);
    }

    #[test]
    fn gauge_value_spanning_buckets_is_split_exactly() {
        let mut g = GaugeSeries::new(spec10(4));
        g.set(SimTime(5), 1.0); // 1 over [5, 25)
        g.set(SimTime(25), 3.0); // 3 over [25, 32)
        g.set(SimTime(32), 0.0);
        let m = g.finish(SimTime(40));
        assert_eq!(m, vec![0.5, 1.0, 0.5 + 1.5, 0.6]);
        // The last bucket is open-ended: it holds everything after 30.
        let m = g.finish(SimTime(130));
        assert_eq!(m[3], (3.0 * 2.0) / 100.0);
        // Finishing early: the partial bucket is averaged over the time it
        // covers, later buckets have no observed time.
        let mut g = GaugeSeries::new(spec10(4));
        g.set(SimTime(5), 1.0);
        let m = g.finish(SimTime(15));
        assert_eq!(m[0], 0.5);
        assert_eq!(m[1], 1.0);
        assert!(m[2].is_nan() && m[3].is_nan());
    }

    #[test]
    fn latency_buckets_summarise_with_one_histogram() {
        let mut l = LatencySeries::new(spec10(4));
        for ns in [1_000_000, 2_000_000, 3_000_000] {
            l.record(SimTime(1), ns);
        }
        l.record(SimTime(10), 50_000_000); // boundary: bucket 1
        l.record(SimTime(35), 7_000_000);
        l.record(SimTime(99), 9_000_000); // beyond: last bucket
        let p = l.finish(SimTime(40));
        assert_eq!(p[0].count, 3);
        assert!((p[0].p50_ms - 2.0).abs() <= 0.02);
        assert!((p[0].p999_ms - 3.0).abs() <= 0.03);
        assert_eq!(p[1].count, 1);
        assert!((p[1].p99_ms - 50.0).abs() <= 0.5);
        assert_eq!(p[2], LatencyPoint::default());
        assert_eq!(p[3].count, 2);
        assert!((p[3].p999_ms - 9.0).abs() <= 0.09);
    }

    /// The cursor gives the bucket the division gives, for instants in
    /// any order (backwards too), on and around every boundary.
    #[test]
    fn cursor_equals_the_division() {
        let mut rng = crate::RngStream::new(7, "cursor");
        for (interval, buckets) in [(1, 1), (10, 1), (10, 4), (7, 13), (1_000_000, 120)] {
            let spec = SeriesSpec {
                interval: SimDuration(interval),
                buckets,
            };
            let mut c = Cursor::new(&spec);
            let span = interval * buckets as u64;
            let mut times: Vec<u64> = (0..=buckets as u64 + 1)
                .flat_map(|i| {
                    let b = i * interval;
                    [b.saturating_sub(1), b, b + 1]
                })
                .collect();
            times.extend([0, u64::MAX, u64::MAX - 1, span * 1_000, 0]);
            let mut t = 0u64;
            for _ in 0..5_000 {
                // Mostly forwards in small steps, sometimes backwards or far.
                t = match rng.below(10) {
                    0 => rng.below(span * 2),
                    1 => t.saturating_sub(rng.below(interval * 3)),
                    _ => t + rng.below(interval / 3 + 2),
                };
                times.push(t);
            }
            for &t in &times {
                assert_eq!(
                    c.bucket(&spec, SimTime(t)),
                    spec.bucket_of(SimTime(t)),
                    "t={t} {spec:?}"
                );
            }
        }
    }

    proptest! {
        /// The buckets' means, weighted by the time each covers, give back
        /// the overall time-average.
        #[test]
        fn gauge_buckets_reassemble_the_overall_mean(
            steps in prop::collection::vec((0u64..40, 0f64..100.0), 0..40),
            tail in 1u64..40,
            interval in 1u64..30,
            buckets in 1usize..12,
        ) {
            let spec = SeriesSpec { interval: SimDuration(interval), buckets };
            let mut g = GaugeSeries::with_initial(spec, 1.0);
            let mut tw = TimeWeighted::new(SimTime(0), 1.0);
            let mut t = 0;
            for (dt, v) in steps {
                t += dt;
                g.set(SimTime(t), v);
                tw.set(SimTime(t), v);
            }
            let end = SimTime(t + tail);
            let means = g.finish(end);
            let total: f64 = means
                .iter()
                .enumerate()
                .filter(|(_, m)| !m.is_nan())
                .map(|(i, m)| m * spec.covered(i, end) as f64)
                .sum();
            let want = tw.mean(end);
            prop_assert!((total / end.0 as f64 - want).abs() <= 1e-9 * want.abs().max(1.0));
        }
    }
}
