//! HDR histograms of latencies in integer nanoseconds.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// One hour in nanoseconds: the default highest trackable latency.
pub const DEFAULT_MAX_NS: u64 = 3_600 * 1_000_000_000;

/// Latencies to 3 significant digits: quantiles within 0.1%. Nothing
/// until the first record, then 8 KiB per power of two up to the largest
/// value recorded (about 130 KiB to 10 ms, 264 KiB at most, to one hour).
pub type LatencyHistogram = HdrLatency<3>;

/// Latencies to 2 significant digits: quantiles within 1%. Nothing until
/// the first record, then 1 KiB per power of two up to the largest value
/// recorded (37 KiB at most, to one hour); for per-interval latency in
/// time series.
pub type CoarseHistogram = HdrLatency<2>;

/// A latency histogram in bounded memory, wrapping
/// [`hdrhistogram::Histogram`] with `DIGITS` significant digits, a lowest
/// discernible value of 1 ns and a configurable highest value (default
/// [`DEFAULT_MAX_NS`], one hour). Use it through the aliases
/// [`LatencyHistogram`] (3 digits) and [`CoarseHistogram`] (2 digits).
///
/// Quantiles are accurate to a relative error of 10^-`DIGITS`. The count,
/// sum (hence the mean), minimum and maximum are tracked exactly beside
/// the buckets.
///
/// Memory is taken as it is needed: none until the first record, then
/// counts up to the largest value recorded so far (never beyond the
/// highest trackable value). The buckets are those of a histogram
/// allocated up to the highest value at once, so quantiles, merges and
/// images are identical.
///
/// Values above the highest trackable value are **clamped** to it: the
/// histogram keeps working, but clamping hides how far out those outliers
/// were. Their number is counted in [`clamped`](Self::clamped), and
/// reports should show it when it is not zero. Zero is recordable.
///
/// ```
/// use sim_core::stats::LatencyHistogram;
/// let mut h = LatencyHistogram::new();
/// for ms in 1..=100u64 {
///     h.record(ms * 1_000_000);
/// }
/// assert_eq!(h.count(), 100);
/// assert_eq!(h.max_ns(), 100_000_000);
/// let p99 = h.quantile_ns(0.99) as f64;
/// assert!((p99 - 99e6).abs() <= 99e6 * 1e-3);
/// ```
#[derive(Clone, Debug)]
pub struct HdrLatency<const DIGITS: u8> {
    /// The buckets, from the first record on (growing to the largest
    /// value recorded).
    h: Option<Box<Histogram<u64>>>,
    /// The highest value recorded as is, ns.
    highest: u64,
    /// Values recorded above `highest` (and recorded as `highest`).
    clamped: u64,
    /// Exact sum of recorded (clamped) values, ns.
    sum: u128,
    /// Exact smallest and largest recorded (clamped) values, ns.
    min: u64,
    max: u64,
}

/// The usual latency figures of a histogram, in milliseconds, for reports.
/// All zero for an empty histogram.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of recorded latencies.
    pub count: u64,
    /// Mean latency, ms.
    pub mean_ms: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Largest latency, ms.
    pub max_ms: f64,
}

/// The quantiles at which [`HdrLatency::cdf`] samples a distribution:
/// dense in the body, then the tail out to the maximum.
pub const CDF_QUANTILES: [f64; 22] = [
    0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998,
    0.999, 0.9995, 0.9999, 0.99999, 1.0,
];

/// One point of a latency distribution function.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdfPoint {
    /// Fraction of responses at or below `ms`.
    pub q: f64,
    /// Latency, ms.
    pub ms: f64,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

impl<const DIGITS: u8> HdrLatency<DIGITS> {
    /// An empty histogram up to one hour.
    pub fn new() -> Self {
        Self::with_max(DEFAULT_MAX_NS)
    }

    /// An empty histogram whose highest trackable value is `highest_ns`
    /// (at least 2 ns; smaller values are raised to 2).
    pub fn with_max(highest_ns: u64) -> Self {
        let highest = highest_ns.max(2);
        HdrLatency {
            h: None,
            highest,
            clamped: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Records one latency, ns. Values above the highest trackable value
    /// are recorded as that value and counted in [`clamped`](Self::clamped).
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let v = if ns > self.highest {
            self.clamped += 1;
            self.highest
        } else {
            ns
        };
        self.buckets().record(v).expect("values up to highest fit");
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// The buckets, allocated (for values up to 2 ns, growing as values
    /// are recorded) on first use.
    #[inline]
    fn buckets(&mut self) -> &mut Histogram<u64> {
        if self.h.is_none() {
            return self.allocate();
        }
        self.h.as_mut().expect("allocated")
    }

    /// Allocates the buckets (for values up to 2 ns, growing as values are
    /// recorded).
    #[cold]
    #[inline(never)]
    fn allocate(&mut self) -> &mut Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 2, DIGITS)
            .expect("bounds 1..2 with 2 or 3 digits are valid");
        h.auto(true);
        self.h.insert(Box::new(h))
    }

    /// Records `count` values `v` (at most the highest trackable value).
    fn record_n(&mut self, v: u64, count: u64) {
        self.buckets()
            .record_n(v, count)
            .expect("values up to highest fit");
    }

    /// Bytes of bucket counts this histogram holds now (0 until the first
    /// record).
    pub fn bucket_bytes(&self) -> usize {
        self.h
            .as_ref()
            .map_or(0, |h| h.distinct_values() * std::mem::size_of::<u64>())
    }

    /// The highest trackable value, ns.
    pub fn highest_ns(&self) -> u64 {
        self.highest
    }

    /// How many recorded values were above the highest trackable value and
    /// were clamped to it.
    pub fn clamped(&self) -> u64 {
        self.clamped
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.h.as_ref().map_or(0, |h| h.len())
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Exact mean of the recorded (clamped) values, ns; 0 when empty.
    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum as f64 / n as f64,
        }
    }

    /// Exact smallest recorded value, ns; 0 when empty.
    pub fn min_ns(&self) -> u64 {
        if self.is_empty() { 0 } else { self.min }
    }

    /// Exact largest recorded (clamped) value, ns; 0 when empty.
    pub fn max_ns(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (clamped to `[0, 1]`), ns, within the
    /// histogram's relative precision and never outside `[min, max]`;
    /// 0 when empty.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let h = self
            .h
            .as_ref()
            .expect("a histogram with values has buckets");
        h.value_at_quantile(q).clamp(self.min, self.max)
    }

    /// Adds every value of `other`. Values of `other` above this
    /// histogram's highest trackable value are clamped and counted here
    /// too (their contribution to the mean then uses their bucket's
    /// midpoint, as the exact values are gone).
    pub fn merge(&mut self, other: &Self) {
        self.clamped += other.clamped;
        let Some(oh) = other.h.as_deref().filter(|_| !other.is_empty()) else {
            return;
        };
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        if other.max <= self.highest {
            self.buckets().add(oh).expect("values up to highest fit");
            self.max = self.max.max(other.max);
            return;
        }
        // Values above our bound: re-record bucket by bucket at a
        // representative value (the bucket's midpoint, within other's exact
        // min and max), clamping what is above our bound.
        for v in oh.iter_recorded() {
            let count = v.count_at_value();
            let rep = oh
                .median_equivalent(v.value_iterated_to())
                .clamp(other.min, other.max);
            if rep > self.highest {
                self.clamped += count;
                let excess = u128::from(rep - self.highest) * u128::from(count);
                self.sum = self.sum.saturating_sub(excess);
                self.record_n(self.highest, count);
            } else {
                self.record_n(rep, count);
            }
        }
        self.max = self.max.max(other.max.min(self.highest));
        self.min = self.min.min(self.max);
    }

    /// Forgets everything recorded (and the clamped count), keeping the
    /// memory and the bounds.
    pub fn reset(&mut self) {
        if let Some(h) = &mut self.h {
            h.reset();
        }
        self.clamped = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
    }

    /// The distribution function at the quantiles of [`CDF_QUANTILES`]:
    /// `(quantile, latency in ms)` pairs, empty when nothing was recorded.
    pub fn cdf(&self) -> Vec<CdfPoint> {
        if self.is_empty() {
            return Vec::new();
        }
        CDF_QUANTILES
            .iter()
            .map(|&q| CdfPoint {
                q,
                ms: ms(self.quantile_ns(q)),
            })
            .collect()
    }

    /// Count, mean, p50, p90, p99, p99.9 and max, in ms; all zero when
    /// empty.
    pub fn summary(&self) -> LatencySummary {
        if self.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.count(),
            mean_ms: self.mean_ns() / 1e6,
            p50_ms: ms(self.quantile_ns(0.5)),
            p90_ms: ms(self.quantile_ns(0.9)),
            p99_ms: ms(self.quantile_ns(0.99)),
            p999_ms: ms(self.quantile_ns(0.999)),
            max_ms: ms(self.max_ns()),
        }
    }
}

/// An exact, serialisable image of a histogram: its non-empty buckets
/// (each as the bucket's highest equivalent value and its count) and the
/// exact count, sum, minimum, maximum and clamped count. Restoring it with
/// [`HdrLatency::from_compact`] gives a histogram with identical buckets,
/// so quantiles, merges and summaries are the same as the original's. This
/// is how sweep replications travel between machines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactHistogram {
    /// Highest trackable value, ns.
    pub highest_ns: u64,
    /// `(value, count)` per non-empty bucket, ascending.
    pub buckets: Vec<(u64, u64)>,
    /// Exact sum of recorded values, ns.
    pub sum_ns: u128,
    /// Exact smallest recorded value, ns (0 when empty).
    pub min_ns: u64,
    /// Exact largest recorded value, ns.
    pub max_ns: u64,
    /// Values that were clamped.
    pub clamped: u64,
}

impl<const DIGITS: u8> HdrLatency<DIGITS> {
    /// The exact image of this histogram.
    pub fn to_compact(&self) -> CompactHistogram {
        CompactHistogram {
            highest_ns: self.highest,
            buckets: self.h.as_ref().map_or_else(Vec::new, |h| {
                h.iter_recorded()
                    .map(|v| (v.value_iterated_to(), v.count_at_value()))
                    .collect()
            }),
            sum_ns: self.sum,
            min_ns: self.min_ns(),
            max_ns: self.max,
            clamped: self.clamped,
        }
    }

    /// Rebuilds a histogram from its image (bucket for bucket).
    pub fn from_compact(c: &CompactHistogram) -> Self {
        let mut h = Self::with_max(c.highest_ns);
        for &(v, n) in &c.buckets {
            h.record_n(v.min(h.highest), n);
        }
        h.sum = c.sum_ns;
        if !c.buckets.is_empty() {
            h.min = c.min_ns;
        }
        h.max = c.max_ns;
        h.clamped = c.clamped;
        h
    }
}

impl<const DIGITS: u8> Default for HdrLatency<DIGITS> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records 1..=n ns; the exact q-quantile is ceil(q·n).
    fn uniform<const D: u8>(n: u64) -> HdrLatency<D> {
        let mut h = HdrLatency::<D>::new();
        for v in 1..=n {
            h.record(v);
        }
        h
    }

    #[test]
    fn compact_image_round_trips_exactly() {
        let mut h = LatencyHistogram::new();
        for v in [0u64, 1, 7, 999, 1_000_001, 123_456_789, 5_000_000_000_000] {
            h.record(v);
        }
        let c = h.to_compact();
        let back = LatencyHistogram::from_compact(&c);
        assert_eq!(back.to_compact(), c);
        assert_eq!(back.summary(), h.summary());
        assert_eq!(back.clamped(), 1);
        let json = serde_json::to_string(&c).unwrap();
        let again: CompactHistogram = serde_json::from_str(&json).unwrap();
        assert_eq!(again, c);
        // Merging images equals merging originals.
        let mut a = h.clone();
        a.merge(&h);
        let mut b = LatencyHistogram::from_compact(&c);
        b.merge(&LatencyHistogram::from_compact(&c));
        assert_eq!(a.summary(), b.summary());
    }

    #[test]
    fn an_unused_histogram_allocates_no_buckets() {
        let mut h = LatencyHistogram::new();
        assert_eq!(h.bucket_bytes(), 0);
        // Empty merges, resets, images and summaries allocate nothing.
        h.merge(&LatencyHistogram::new());
        h.reset();
        let back = LatencyHistogram::from_compact(&h.to_compact());
        assert_eq!(h.summary(), LatencySummary::default());
        assert_eq!((h.bucket_bytes(), back.bucket_bytes()), (0, 0));
        // Buckets grow with the largest value recorded, not to the bound.
        h.record(5_000_000);
        let small = h.bucket_bytes();
        assert!(small > 0 && small < 128 << 10, "{small}");
        h.record(DEFAULT_MAX_NS);
        assert!(h.bucket_bytes() > 2 * small);
    }

    /// Growing buckets answer exactly as buckets allocated up front to the
    /// bound did (the histogram before laziness).
    #[test]
    fn growing_buckets_equal_buckets_allocated_up_front() {
        fn check<const D: u8>(seed: u64) {
            let mut rng = crate::RngStream::new(seed, "lazy");
            let highest = 1 << 36;
            let mut lazy = HdrLatency::<D>::with_max(highest);
            let mut eager = Histogram::<u64>::new_with_bounds(1, highest, D).unwrap();
            for _ in 0..20_000 {
                // Values spread over every power of two, some above the bound.
                let bits = rng.below(40);
                let v = rng.below(1 << bits);
                lazy.record(v);
                eager.saturating_record(v.min(highest));
            }
            for i in 0..=1000 {
                let q = f64::from(i) / 1000.0;
                let want = eager
                    .value_at_quantile(q)
                    .clamp(lazy.min_ns(), lazy.max_ns());
                assert_eq!(lazy.quantile_ns(q), want, "q={q}");
            }
            let want: Vec<(u64, u64)> = eager
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect();
            assert_eq!(lazy.to_compact().buckets, want);
            // Merging grows the target as recording does.
            let mut merged = HdrLatency::<D>::with_max(highest);
            merged.merge(&lazy);
            assert_eq!(merged.to_compact(), lazy.to_compact());
        }
        for seed in 1..4 {
            check::<2>(seed);
            check::<3>(seed);
        }
    }

    #[test]
    fn quantiles_within_documented_precision() {
        // 3 digits: relative error at most 1e-3; 2 digits: 1e-2.
        let n = 1_000_000;
        let fine = uniform::<3>(n);
        let coarse = uniform::<2>(n);
        for q in [
            0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0,
        ] {
            let exact = (q * n as f64).ceil();
            let got = fine.quantile_ns(q) as f64;
            assert!(
                (got - exact).abs() <= exact * 1e-3,
                "q={q}: {got} vs {exact}"
            );
            let got = coarse.quantile_ns(q) as f64;
            assert!(
                (got - exact).abs() <= exact * 1e-2,
                "q={q}: {got} vs {exact}"
            );
        }
        assert_eq!(fine.count(), n);
        assert_eq!(fine.min_ns(), 1);
        assert_eq!(fine.max_ns(), n);
        // The mean is exact: (n + 1) / 2.
        assert_eq!(fine.mean_ns(), 500_000.5);
        assert_eq!(coarse.mean_ns(), 500_000.5);
    }

    #[test]
    fn merge_equals_recording_both() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        let mut both = LatencyHistogram::new();
        let mut rng = crate::RngStream::new(1, "merge");
        for i in 0..50_000 {
            let v = rng.below(1 << 30);
            if i % 3 == 0 {
                a.record(v)
            } else {
                b.record(v)
            }
            both.record(v);
        }
        a.merge(&b);
        assert_eq!(a.count(), both.count());
        assert_eq!(a.mean_ns(), both.mean_ns());
        assert_eq!(a.min_ns(), both.min_ns());
        assert_eq!(a.max_ns(), both.max_ns());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(a.quantile_ns(q), both.quantile_ns(q), "q={q}");
        }
        assert_eq!(a.summary(), both.summary());
    }

    #[test]
    fn clamps_and_counts_values_above_the_bound() {
        let mut h = LatencyHistogram::with_max(1_000_000);
        h.record(10);
        h.record(5_000_000);
        h.record(u64::MAX);
        assert_eq!(h.count(), 3);
        assert_eq!(h.clamped(), 2);
        assert_eq!(h.max_ns(), 1_000_000);
        assert_eq!(h.quantile_ns(1.0), 1_000_000);
        // Merging into a histogram with a smaller bound clamps again.
        let mut small = LatencyHistogram::with_max(100_000);
        let mut big = LatencyHistogram::with_max(10_000_000);
        big.record(50);
        big.record(2_000_000);
        small.merge(&big);
        assert_eq!(small.count(), 2);
        assert_eq!(small.clamped(), 1);
        assert_eq!(small.max_ns(), 100_000);
        assert_eq!(small.min_ns(), 50);
        assert!((small.mean_ns() - 50_025.0).abs() < 1.0);
        h.reset();
        assert_eq!((h.count(), h.clamped()), (0, 0));
    }

    #[test]
    fn zero_is_recordable_and_empty_is_all_zero() {
        let mut h = CoarseHistogram::new();
        assert_eq!(h.summary(), LatencySummary::default());
        assert_eq!((h.min_ns(), h.max_ns(), h.quantile_ns(0.5)), (0, 0, 0));
        assert_eq!(h.mean_ns(), 0.0);
        h.record(0);
        h.record(0);
        assert_eq!(h.count(), 2);
        assert_eq!(h.quantile_ns(0.99), 0);
        assert_eq!(h.summary().count, 2);
    }

    #[test]
    fn summary_in_milliseconds() {
        let mut h = LatencyHistogram::new();
        for ms in 1..=1000u64 {
            h.record(ms * 1_000_000);
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert!((s.mean_ms - 500.5).abs() < 1e-9);
        for (got, want) in [
            (s.p50_ms, 500.0),
            (s.p90_ms, 900.0),
            (s.p99_ms, 990.0),
            (s.p999_ms, 999.0),
        ] {
            assert!((got - want).abs() <= want * 1e-3, "{got} vs {want}");
        }
        assert_eq!(s.max_ms, 1000.0);
    }
}
