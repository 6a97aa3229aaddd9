//! Comparing a check with a saved one (`--baseline check.json`).
//!
//! An objective regresses when it is worse than the baseline by more than
//! the tolerance *and* the 95% interval of the difference excludes zero,
//! so seed noise alone cannot fail a build. When both checks used the same
//! seeds and replication count, replication r of each shares its random
//! numbers, and the interval comes from the per-replication differences
//! (paired): an unchanged scenario differs by exactly zero, and a change
//! is measured with the noise of the change only. Otherwise the interval
//! is Welch's, for two independent sets of replications.

use models::{
    BaselineComparison, CHECK_FORMAT_VERSION, CONFIDENCE, CheckReport, Estimate, Objective, Op,
};
use sim_core::stats::welch_interval;

use super::CheckError;

/// Compares an objective's values with the baseline's; `tolerance` is
/// `--tolerance`, used unless the objective has its own.
pub fn compare(
    o: &Objective,
    current: &[f64],
    seed: u64,
    base: &[f64],
    base_seed: u64,
    tolerance: f64,
) -> BaselineComparison {
    // Positive is worse.
    let sign = match o.slo.op {
        Op::Below => 1.0,
        Op::Above => -1.0,
    };
    let estimate = Estimate::of(base);
    let paired = seed == base_seed && !current.is_empty() && !base.is_empty();
    let mut note = None;
    let worse_by = if paired {
        // Replication r of both used seed + r: pair those both have.
        let diffs: Vec<f64> = current
            .iter()
            .zip(base)
            .map(|(c, b)| sign * (c - b))
            .collect();
        Estimate::of(&diffs)
    } else {
        let ci = welch_interval(current, base, CONFIDENCE);
        let mean = sign * ci.mean;
        let hw = ci.half_width.is_finite().then_some(ci.half_width);
        if hw.is_none() {
            note = Some(format!(
                "the baseline used seed {base_seed} and this check seed {seed}, with a single replication on a side: seed noise cannot be told from a change; use the baseline's seed or at least 2 replications on both sides"
            ));
        }
        let h = hw.unwrap_or(0.0);
        Estimate {
            mean,
            ci95: hw,
            low: mean - h,
            high: mean + h,
        }
    };
    let scale = if estimate.mean != 0.0 {
        estimate.mean.abs()
    } else {
        o.slo.limit.abs()
    };
    let threshold = o.tolerance.unwrap_or(tolerance) * scale;
    let regression = note.is_none()
        && worse_by.mean > threshold
        && (worse_by.ci95.is_none() || worse_by.low > 0.0);
    BaselineComparison {
        values: base.to_vec(),
        worse_by_relative: (estimate.mean != 0.0).then(|| worse_by.mean / estimate.mean.abs()),
        estimate,
        worse_by,
        paired,
        threshold,
        regression,
        note,
    }
}

/// Reads a baseline: the `check.json` of an earlier `capsim check --out`
/// (or its `--format json` output).
pub fn load(path: &std::path::Path) -> Result<CheckReport, CheckError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CheckError(format!("--baseline {file}: cannot read: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CheckError(format!(
            "{file}:{}:{}: --baseline: not JSON: {e}",
            e.line(),
            e.column()
        ))
    })?;
    if value.get("scenarios").is_none() || value.get("tolerance").is_none() {
        let what = if value.get("totals").is_some() {
            " (it is the results.json of `capsim run`)"
        } else if value.get("variants").is_some() {
            " (it is a sweep.json)"
        } else {
            ""
        };
        return Err(CheckError(format!(
            "{file}: --baseline expects the check.json written by `capsim check --out DIR` (or its --format json output){what}"
        )));
    }
    let version = value.get("format_version").and_then(|v| v.as_u64());
    if version != Some(u64::from(CHECK_FORMAT_VERSION)) {
        return Err(CheckError(format!(
            "{file}: --baseline has check format version {}, this capsim writes and reads version {CHECK_FORMAT_VERSION}; re-create the baseline with this version",
            version.map_or("(none)".to_string(), |v| v.to_string())
        )));
    }
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let (line, column, why) = crate::output::read_error(&e);
        CheckError(format!("{file}:{line}:{column}: --baseline: {why}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::Slo;

    fn objective(op: Op, limit: f64) -> Objective {
        Objective::new(
            None,
            Slo {
                text: "p99 < 100ms".into(),
                metric: "p99_ms".into(),
                op,
                limit,
                unit: "ms".into(),
                percent: false,
            },
            None,
        )
    }

    #[test]
    fn the_same_numbers_never_regress() {
        let o = objective(Op::Below, 100.0);
        let v = [50.0, 52.0, 61.0];
        let c = compare(&o, &v, 1, &v, 1, 0.0);
        assert!(c.paired);
        assert_eq!((c.worse_by.mean, c.worse_by.ci95), (0.0, Some(0.0)));
        assert!(!c.regression);
    }

    /// Paired: differences 10, 12, 11 (mean 11, s = 1, t(0.975, 2) =
    /// 4.3027, half-width 2.484): worse by 11 ± 2.5, beyond 5% of 50.
    #[test]
    fn a_paired_regression_beyond_the_tolerance_is_found() {
        let o = objective(Op::Below, 100.0);
        let c = compare(&o, &[60.0, 64.0, 72.0], 7, &[50.0, 52.0, 61.0], 7, 0.05);
        assert!(c.paired);
        assert!((c.worse_by.mean - 11.0).abs() < 1e-12);
        assert!((c.worse_by.ci95.unwrap() - 2.484).abs() < 1e-3);
        assert!((c.threshold - 0.05 * 163.0 / 3.0).abs() < 1e-12);
        assert!(c.regression);
        // 25% tolerance allows 13.6: not a regression.
        assert!(!compare(&o, &[60.0, 64.0, 72.0], 7, &[50.0, 52.0, 61.0], 7, 0.25).regression);
    }

    #[test]
    fn noise_alone_does_not_regress() {
        // Different seeds: Welch. Means differ by 4 with spread ~10: the
        // interval of the difference contains zero.
        let o = objective(Op::Below, 100.0);
        let c = compare(&o, &[45.0, 60.0, 58.0], 2, &[50.0, 40.0, 61.0], 1, 0.0);
        assert!(!c.paired);
        assert!(c.worse_by.mean > 0.0 && c.worse_by.low < 0.0);
        assert!(!c.regression);
        // One replication with another seed: no verdict, whatever the means.
        let c = compare(&o, &[90.0], 2, &[50.0], 1, 0.0);
        assert!(!c.regression && c.note.is_some());
    }

    #[test]
    fn the_same_seed_pairs_the_replications_both_have() {
        let o = objective(Op::Below, 100.0);
        // Baseline 1 replication, now 3, same seed: replication 0 pairs.
        let c = compare(&o, &[60.0, 10.0, 10.0], 4, &[50.0], 4, 0.05);
        assert!(c.paired && c.worse_by.mean == 10.0 && c.regression);
    }

    #[test]
    fn an_objective_tolerance_overrides_the_global_one() {
        let mut o = objective(Op::Below, 100.0);
        o.tolerance = Some(0.5);
        let c = compare(&o, &[60.0], 1, &[50.0], 1, 0.05);
        assert!((c.threshold - 25.0).abs() < 1e-12 && !c.regression);
    }

    #[test]
    fn lower_limits_regress_downwards() {
        let o = objective(Op::Above, 0.8);
        let c = compare(&o, &[0.70], 1, &[0.90], 1, 0.05);
        assert!((c.worse_by.mean - 0.2).abs() < 1e-12);
        assert!(c.regression);
        let better = compare(&o, &[0.95], 1, &[0.90], 1, 0.05);
        assert!(better.worse_by.mean < 0.0 && !better.regression);
    }

    #[test]
    fn a_zero_baseline_uses_the_limit_as_scale() {
        let o = objective(Op::Below, 0.01);
        let c = compare(&o, &[0.0004], 1, &[0.0], 1, 0.05);
        assert_eq!(c.threshold, 0.05 * 0.01);
        assert_eq!(c.worse_by_relative, None);
        assert!(!c.regression);
        assert!(compare(&o, &[0.002], 1, &[0.0], 1, 0.05).regression);
    }
}
