//! A variant's replications, combined: the mean and 95% confidence interval
//! (Student t) of every headline metric, percentiles pooled from the merged
//! histograms, and the mean load share of each shard.

use indexmap::IndexMap;
use sim_core::stats::LatencyHistogram;

pub use models::{CONFIDENCE, Estimate, VariantSummary};

use super::record::RunRecord;
use super::spec::Variant;

/// Combines the records of one variant (all its replications, in order).
pub fn aggregate(variant: &Variant, records: &[RunRecord]) -> VariantSummary {
    let keys_moved = records
        .first()
        .map(|r| r.keys_moved.clone())
        .unwrap_or_default();
    let mut metrics = IndexMap::new();
    if let Some(first) = records.first() {
        for name in first.metrics.keys() {
            let values: Vec<f64> = records
                .iter()
                .filter_map(|r| r.metrics.get(name).copied())
                .collect();
            metrics.insert(name.clone(), Estimate::of(&values));
        }
    }
    let mut pooled = IndexMap::new();
    let merge = |images: &mut dyn Iterator<Item = &sim_core::stats::CompactHistogram>| {
        let mut h = LatencyHistogram::new();
        for c in images {
            h.merge(&LatencyHistogram::from_compact(c));
        }
        h.summary()
    };
    pooled.insert(
        "all".to_string(),
        merge(&mut records.iter().map(|r| &r.overall)),
    );
    if let Some(first) = records.first() {
        for name in first.endpoints.keys() {
            pooled.insert(
                name.clone(),
                merge(&mut records.iter().filter_map(|r| r.endpoints.get(name))),
            );
        }
    }
    let mut shard_share = IndexMap::new();
    if let Some(first) = records.first() {
        for (db, shares) in &first.shard_share {
            let mut mean = vec![0.0; shares.len()];
            for r in records {
                if let Some(s) = r.shard_share.get(db) {
                    for (m, v) in mean.iter_mut().zip(s) {
                        *m += v / records.len() as f64;
                    }
                }
            }
            shard_share.insert(db.clone(), mean);
        }
    }
    VariantSummary {
        index: variant.index,
        params: variant.params.iter().cloned().collect(),
        replications: records.len() as u32,
        metrics,
        pooled,
        shard_share,
        keys_moved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-checked: values 10, 12, 14, 16, 18 -> mean 14, sd 3.1623,
    /// t(0.975, 4) = 2.7764, half-width = 2.7764 * 3.1623 / sqrt(5) = 3.9264.
    #[test]
    fn confidence_interval_matches_a_hand_computation() {
        let e = Estimate::of(&[10.0, 12.0, 14.0, 16.0, 18.0]);
        assert!((e.mean - 14.0).abs() < 1e-12);
        let hw = e.ci95.unwrap();
        assert!((hw - 3.9264).abs() < 1e-3, "{hw}");
        assert!((e.low - (14.0 - hw)).abs() < 1e-12 && (e.high - (14.0 + hw)).abs() < 1e-12);
    }

    #[test]
    fn one_replication_has_no_interval() {
        let e = Estimate::of(&[3.0]);
        assert_eq!((e.mean, e.ci95, e.low, e.high), (3.0, None, 3.0, 3.0));
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Estimate>(&json).unwrap(), e);
    }
}
