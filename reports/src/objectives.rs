//! What decided a plan, for its page and its charts: each objective of an
//! evaluated variant as a share of its limit, the variant's worst
//! objective, and which objectives turned the cheaper variants down.
//!
//! Two shares of a limit are used. Against the limit, a value is
//! `value / limit` whichever way the objective points, as the check chart
//! draws it (a minimum hit ratio of 50% met at 60% is 120%, and its
//! failing side is left of 100%). To rank objectives of different
//! directions, the *use* of a limit is that share for a maximum and its
//! inverse for a minimum, so that 100% is the limit and more is worse for
//! every objective (the 60% hit ratio uses 83% of its limit; a
//! throughput at half its minimum uses 200%).

use models::{Check, Estimate, Evaluated, Op, PlanResult, Slo, Status, Verdict};

/// A percentage of a limit for people: a decimal only close to the
/// limit, where it tells pass from fail (`99.3%`), none elsewhere (`47%`,
/// `9525%`); `∞` for a minimum met by nothing.
pub(crate) fn percent_figure(p: f64) -> String {
    if p == f64::INFINITY {
        "∞".into()
    } else if !p.is_finite() {
        "-".into()
    } else if (p - 100.0).abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// The objective a check is of (by its text).
pub(crate) fn slo_of<'a>(p: &'a PlanResult, c: &Check) -> Option<&'a Slo> {
    p.slos.iter().find(|s| s.text == c.slo)
}

/// `v / limit`: the share of its limit a value is (None when the limit is
/// 0 or below, or the share is not a number).
pub(crate) fn share_of_limit(slo: &Slo, v: f64) -> Option<f64> {
    let s = v / slo.limit;
    (slo.limit > 0.0 && slo.limit.is_finite() && s.is_finite()).then_some(s)
}

/// How much of its limit a value uses: [`share_of_limit`] for a maximum,
/// its inverse for a minimum (infinite for a value of 0 or below, which
/// is as far from a minimum as a value goes).
pub(crate) fn use_of_limit(slo: &Slo, v: f64) -> Option<f64> {
    match slo.op {
        Op::Below => share_of_limit(slo, v),
        Op::Above if slo.limit > 0.0 && slo.limit.is_finite() && v.is_finite() => {
            Some(if v > 0.0 {
                slo.limit / v
            } else {
                f64::INFINITY
            })
        }
        Op::Above => None,
    }
}

/// An estimate's use of its limit: (low, mean, high), the low end the
/// good one.
pub(crate) fn use_interval(slo: &Slo, e: &Estimate) -> Option<(f64, f64, f64)> {
    let mean = use_of_limit(slo, e.mean)?;
    let (a, b) = (use_of_limit(slo, e.low)?, use_of_limit(slo, e.high)?);
    Some((a.min(b), mean, a.max(b)))
}

/// A variant's worst objective: the one whose mean uses the most of its
/// limit, with that use (low, mean, high).
pub(crate) struct Worst<'a> {
    /// The objective.
    pub slo: &'a Slo,
    /// Its check on the variant.
    pub check: &'a Check,
    /// Its use of the limit: low end, mean, high end.
    pub used: (f64, f64, f64),
}

/// The worst objective of `e` (None when it has no objective with a
/// positive limit). Ties go to the earlier objective.
pub(crate) fn worst<'a>(p: &'a PlanResult, e: &'a Evaluated) -> Option<Worst<'a>> {
    e.checks
        .iter()
        .filter_map(|c| {
            let slo = slo_of(p, c)?;
            Some(Worst {
                slo,
                check: c,
                used: use_interval(slo, &c.estimate)?,
            })
        })
        .fold(None, |best: Option<Worst>, w| match best {
            Some(b) if b.used.1 >= w.used.1 => Some(b),
            _ => Some(w),
        })
}

/// The variants that had to be turned down for the answer: those
/// cheaper than the chosen one (no dearer, and earlier in the list when
/// as dear) that do not meet the objectives, or every variant when none
/// was chosen.
pub(crate) fn turned_down(p: &PlanResult) -> Vec<&Evaluated> {
    let chosen = p.chosen.as_ref().map(|c| c.index);
    let before = p
        .evaluated
        .iter()
        .position(|e| Some(e.index) == chosen)
        .unwrap_or(p.evaluated.len());
    p.evaluated[..before]
        .iter()
        .filter(|e| e.status != Status::Meets)
        .collect()
}

/// How often one objective turned a variant down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Rejections {
    /// Variants on which it fails.
    pub fails: usize,
    /// Variants on which it is unsure.
    pub unsure: usize,
}

/// For each objective of the plan (in its order), on how many of the
/// [`turned_down`] variants it fails or is unsure: the objectives that
/// decided the answer are those with some.
pub(crate) fn rejections(p: &PlanResult) -> Vec<Rejections> {
    let down = turned_down(p);
    p.slos
        .iter()
        .map(|s| {
            let mut r = Rejections::default();
            for c in down
                .iter()
                .flat_map(|e| &e.checks)
                .filter(|c| c.slo == s.text)
            {
                match c.verdict {
                    Verdict::Fails => r.fails += 1,
                    Verdict::Unsure => r.unsure += 1,
                    Verdict::Holds => {}
                }
            }
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo(op: Op, limit: f64) -> Slo {
        Slo {
            text: "x".into(),
            metric: "m".into(),
            op,
            limit,
            unit: String::new(),
            percent: false,
        }
    }

    #[test]
    fn shares_and_uses_read_the_same_way_for_both_directions() {
        let max = slo(Op::Below, 200.0);
        assert_eq!(share_of_limit(&max, 150.0), Some(0.75));
        assert_eq!(use_of_limit(&max, 150.0), Some(0.75));
        // A minimum of 0.5 met at 0.6: 120% of the limit, using 83% of it.
        let min = slo(Op::Above, 0.5);
        assert_eq!(share_of_limit(&min, 0.6), Some(1.2));
        let used = use_of_limit(&min, 0.6).unwrap();
        assert!((used - 0.5 / 0.6).abs() < 1e-12);
        // Half the minimum uses twice the limit; nothing at all, all of it.
        assert_eq!(use_of_limit(&min, 0.25), Some(2.0));
        assert_eq!(use_of_limit(&min, 0.0), Some(f64::INFINITY));
        // A limit of 0 gives no share.
        assert_eq!(share_of_limit(&slo(Op::Below, 0.0), 1.0), None);
        // A minimum's interval flips: its low end is the upper value's.
        let e = Estimate {
            mean: 0.6,
            ci95: Some(0.1),
            low: 0.5,
            high: 0.7,
        };
        let (lo, mean, hi) = use_interval(&min, &e).unwrap();
        assert!(lo < mean && mean < hi);
        assert!((hi - 1.0).abs() < 1e-12 && (lo - 0.5 / 0.7).abs() < 1e-12);
    }
}
