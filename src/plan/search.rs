//! Which variants of a grid to evaluate: the cheapest variant that meets
//! the objectives, found by evaluating few of them, using monotone
//! dimensions and prices known before running.
//!
//! The search sees each variant as a [`Point`]: its group (the values of
//! the dimensions not assumed monotone: variants of different groups are
//! never compared), its positions along the monotone dimensions and its
//! cost. It asks `judge` for the [`Status`] of the variants it picks and
//! never for any other; in production `judge` replicates them (see
//! [`super::plan`]), in the unit tests below it reads a synthetic oracle.
//!
//! **Inference.** Within a group, `x ≤ y` when every monotone coordinate
//! of `x` is at most `y`'s. Monotone means a larger value never makes an
//! objective worse, so the variants that meet form an up-set and those
//! that fail a down-set: a variant is *implied to meet* when it is `≥` one
//! evaluated as meeting, *implied to fail* when it is `≤` one evaluated as
//! failing. Only confirmed verdicts propagate: a variant left unsure after
//! the most replications counts as not meeting but implies nothing about
//! its neighbours, since a smaller variant could not be shown to fail by
//! it. Implied verdicts are reported as such, never with figures.
//!
//! **Cost order and pruning.** When every variant's cost per hour is
//! known before running (fixed prices: see
//! [`models::Model::fixed_cost_per_hour`]), variants are ranked by
//! `(cost, grid index)`, the order in which the answer is chosen. A
//! variant is *open* while it is unevaluated, not implied to fail, and
//! ranks before the best variant evaluated as meeting so far: a variant
//! that ranks after it can never be the answer, so it is never evaluated
//! (pruned by cost). The search stops when nothing is open.
//!
//! **Why this is the exhaustive answer.** The answer is the best-ranked
//! variant evaluated as meeting. Were some better-ranked variant `e` to
//! meet, it was not evaluated (it would be the answer) and is not open,
//! so some evaluated variant `z ≥ e` fails; monotonicity then says `e`
//! fails. So whenever monotonicity holds, the search returns what
//! evaluating every variant returns, whatever order it evaluates in. The
//! order only decides how few it needs.
//!
//! **What to evaluate next: probes at the frontier.** Each round takes
//! the cheapest open variant `x`. If it is implied to meet, it is
//! evaluated itself, to confirm it with figures. Otherwise:
//!
//! - When nothing above `x` is known to meet, the top of its box is
//!   probed (the undecided variant above `x` with the most of every
//!   dimension). If it fails, everything under it fails: one evaluation
//!   rules out a whole box of cheaper variants (a grid where nothing
//!   meets costs one evaluation). If it meets, it bounds the cost of the
//!   answer and prunes everything dearer.
//! - Otherwise some `m ≥ x` is known to meet (the nearest is taken), and
//!   the frontier crosses every rising path from `x` to `m`: the path
//!   that raises one dimension at a time is a chain, its feasible part a
//!   suffix, and its undecided variants are bisected.
//!
//! With one monotone dimension this is bisection per combination of the
//! other dimensions, as the former search did (after one probe of the
//! top); with several, every failure also rules out the box below it in
//! all of them, every success prunes by cost, and the search stops as
//! soon as the cheapest open variant is confirmed. A plain cheapest-first
//! scan would evaluate nearly every variant cheaper than the answer: a
//! cheap failure rules out only still cheaper variants, already visited.
//! A staircase walk per two-dimensional slice finds the whole frontier,
//! most of which is dearer than the answer; the probes above go for the
//! cheap end of it and ignore the rest.
//!
//! When costs are not known before running (a priced service that
//! autoscales or loses pods, a CDN billed by requests), nothing is pruned
//! by cost: the search rules out what is implied to fail and evaluates
//! every other variant, implied-to-meet ones included, to measure their
//! costs.
//!
//! Each round evaluates up to `width` probes, for successive open
//! variants not below one already probed in the round, so that several
//! variants' replications share the threads.

use models::Status;

/// A variant as the search sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Variants of equal groups differ only along the monotone dimensions.
    pub group: usize,
    /// Position of the variant's value along each monotone dimension.
    pub coords: Vec<usize>,
    /// Refused before running (an unstable variant): it does not meet, is
    /// never evaluated and implies nothing.
    pub excluded: bool,
}

/// A verdict implied by monotonicity, for a variant not evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Implied {
    /// The variant's grid index.
    pub index: usize,
    /// [`Status::Meets`] or [`Status::Fails`].
    pub status: Status,
    /// The evaluated variant it follows from (the first in grid order).
    pub from: usize,
}

/// What the search did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Evaluated variants and their verdicts, in evaluation order.
    pub evaluated: Vec<(usize, Status)>,
    /// Variants not evaluated whose verdict is implied, in grid order.
    pub implied: Vec<Implied>,
    /// Variants neither evaluated, implied nor excluded: they rank after
    /// the answer, so their verdict does not matter.
    pub pruned: usize,
    /// Rounds of evaluation.
    pub rounds: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Unknown,
    Excluded,
    Judged(Status),
}

/// The search's state: the points, their ranking and what is known.
struct Search<'a> {
    points: &'a [Point],
    /// Costs per hour, when known before running.
    costs: Option<&'a [f64]>,
    state: Vec<State>,
    /// The evaluated variants, in grid order.
    judged: Vec<usize>,
}

impl Search<'_> {
    /// `a ≤ b` in the product order (same group, every coordinate).
    fn below(&self, a: usize, b: usize) -> bool {
        let (p, q) = (&self.points[a], &self.points[b]);
        p.group == q.group && p.coords.iter().zip(&q.coords).all(|(x, y)| x <= y)
    }

    /// The first evaluated variant (grid order) with verdict `status` that
    /// implies it for `x`: below `x` for meets, above it for fails.
    fn implied_by(&self, x: usize, status: Status) -> Option<usize> {
        self.judged.iter().copied().find(|&y| {
            self.state[y] == State::Judged(status)
                && match status {
                    Status::Meets => self.below(y, x),
                    _ => self.below(x, y),
                }
        })
    }

    fn implied_meets(&self, x: usize) -> bool {
        self.implied_by(x, Status::Meets).is_some()
    }

    /// Implied to fail and not also implied to meet (both at once means
    /// the evaluations contradict monotonicity: then nothing is implied).
    fn ruled_out(&self, x: usize) -> bool {
        self.implied_by(x, Status::Fails).is_some() && !self.implied_meets(x)
    }

    /// Whether `a` ranks before `b`: cheaper, or as cheap and earlier.
    fn before(&self, a: usize, b: usize) -> bool {
        match self.costs {
            Some(c) => c[a].total_cmp(&c[b]).then(a.cmp(&b)).is_lt(),
            None => a < b,
        }
    }

    /// The best-ranked variant evaluated as meeting.
    fn best(&self) -> Option<usize> {
        self.judged
            .iter()
            .copied()
            .filter(|&v| self.state[v] == State::Judged(Status::Meets))
            .reduce(|a, b| if self.before(b, a) { b } else { a })
    }

    /// Unevaluated, not ruled out, and (with known costs) ranking before
    /// `best`.
    fn open(&self, x: usize, best: Option<usize>) -> bool {
        self.state[x] == State::Unknown
            && !self.ruled_out(x)
            && match (self.costs, best) {
                (Some(_), Some(b)) => self.before(x, b),
                _ => true,
            }
    }

    /// The variant to evaluate to learn about the open variant `x`.
    fn probe(&self, x: usize, best: Option<usize>) -> usize {
        if self.implied_meets(x) {
            return x;
        }
        let n = self.points.len();
        let undecided = |y: usize| self.open(y, best) && !self.implied_meets(y);
        let size = |y: usize| self.points[y].coords.iter().sum::<usize>();
        // The nearest variant above x known to meet (fewest steps; the
        // first in grid order on ties).
        let target = (0..n)
            .filter(|&y| {
                self.below(x, y)
                    && (self.state[y] == State::Judged(Status::Meets) || self.implied_meets(y))
            })
            .min_by_key(|&y| (size(y), y));
        match target {
            // Nothing above x is known to meet: the top of its box (the
            // undecided variant above x with the greatest sum of
            // positions, the latest on ties). If it fails, so does
            // everything under it.
            None => (0..n)
                .filter(|&y| self.below(x, y) && undecided(y))
                .max_by_key(|&y| (size(y), y))
                .expect("x is above itself"),
            // The frontier crosses every rising path from x to it: bisect
            // the undecided variants of one (raising the first dimension
            // first).
            Some(m) => {
                let path: Vec<usize> = self
                    .path(x, m)
                    .into_iter()
                    .filter(|&y| undecided(y))
                    .collect();
                path[path.len() / 2]
            }
        }
    }

    /// The variants on the path from `x` up to `m` (same group, `x ≤ m`)
    /// that raises one dimension at a time, the first dimension first:
    /// a chain in the product order.
    fn path(&self, x: usize, m: usize) -> Vec<usize> {
        let group = self.points[x].group;
        let at = |coords: &[usize]| {
            (0..self.points.len())
                .find(|&y| self.points[y].group == group && self.points[y].coords == coords)
        };
        let mut c = self.points[x].coords.clone();
        let mut out = vec![x];
        for k in 0..c.len() {
            while c[k] < self.points[m].coords[k] {
                c[k] += 1;
                out.extend(at(&c));
            }
        }
        out
    }
}

/// Searches `points` (in grid order; `costs` per point when known before
/// running) for the best-ranked variant that meets, asking `judge` for the
/// verdicts of up to `width` variants at a time.
pub fn search<E>(
    points: &[Point],
    costs: Option<&[f64]>,
    width: usize,
    mut judge: impl FnMut(&[usize]) -> Result<Vec<Status>, E>,
) -> Result<Outcome, E> {
    let mut s = Search {
        points,
        costs,
        state: points
            .iter()
            .map(|p| {
                if p.excluded {
                    State::Excluded
                } else {
                    State::Unknown
                }
            })
            .collect(),
        judged: Vec::new(),
    };
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        if s.before(a, b) {
            std::cmp::Ordering::Less
        } else if s.before(b, a) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    let mut out = Outcome::default();
    loop {
        let best = s.best();
        let mut probes: Vec<usize> = Vec::new();
        for &x in &order {
            if probes.len() >= width.max(1) {
                break;
            }
            if !s.open(x, best) || probes.iter().any(|&p| s.below(x, p)) {
                continue;
            }
            let p = s.probe(x, best);
            if !probes.contains(&p) {
                probes.push(p);
            }
        }
        if probes.is_empty() {
            break;
        }
        out.rounds += 1;
        let verdicts = judge(&probes)?;
        for (&p, &v) in probes.iter().zip(&verdicts) {
            s.state[p] = State::Judged(v);
            let at = s.judged.partition_point(|&j| j < p);
            s.judged.insert(at, p);
            out.evaluated.push((p, v));
        }
    }
    for x in 0..points.len() {
        if s.state[x] != State::Unknown {
            continue;
        }
        let meets = s.implied_by(x, Status::Meets);
        let fails = s.implied_by(x, Status::Fails);
        match (meets, fails) {
            (Some(from), None) => out.implied.push(Implied {
                index: x,
                status: Status::Meets,
                from,
            }),
            (None, Some(from)) => out.implied.push(Implied {
                index: x,
                status: Status::Fails,
                from,
            }),
            _ => out.pruned += 1,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::rng::RngStream;

    /// A grid: every combination of `sizes` (the last dimension varying
    /// fastest, as in a sweep's grid), in `groups` groups.
    fn grid(sizes: &[usize], groups: usize) -> Vec<Point> {
        let mut points = Vec::new();
        for g in 0..groups {
            let mut c = vec![0; sizes.len()];
            loop {
                points.push(Point {
                    group: g,
                    coords: c.clone(),
                    excluded: false,
                });
                let Some(k) = (0..sizes.len()).rev().find(|&k| c[k] + 1 < sizes[k]) else {
                    break;
                };
                c[k] += 1;
                c[k + 1..].iter_mut().for_each(|v| *v = 0);
            }
        }
        points
    }

    fn le(a: &Point, b: &Point) -> bool {
        a.group == b.group && a.coords.iter().zip(&b.coords).all(|(x, y)| x <= y)
    }

    /// The exhaustive answer: the best-ranked variant that meets.
    fn exhaustive(points: &[Point], costs: &[f64], oracle: &[Status]) -> Option<usize> {
        (0..points.len())
            .filter(|&v| !points[v].excluded && oracle[v] == Status::Meets)
            .min_by(|&a, &b| costs[a].total_cmp(&costs[b]).then(a.cmp(&b)))
    }

    /// Runs the search against `oracle`, checking as it goes that it never
    /// evaluates a variant twice nor one ranking after the best meeting
    /// variant already evaluated; returns the outcome and its answer.
    fn run(
        points: &[Point],
        costs: Option<&[f64]>,
        oracle: &[Status],
        width: usize,
    ) -> (Outcome, Option<usize>) {
        let rank = |a: usize, b: usize| match costs {
            Some(c) => c[a].total_cmp(&c[b]).then(a.cmp(&b)),
            None => a.cmp(&b),
        };
        let mut seen: Vec<usize> = Vec::new();
        let mut best: Option<usize> = None;
        let out = search(points, costs, width, |vs: &[usize]| {
            for &v in vs {
                assert!(!seen.contains(&v), "{v} evaluated twice");
                assert!(!points[v].excluded, "{v} is excluded");
                if costs.is_some()
                    && let Some(b) = best
                {
                    assert!(rank(v, b).is_lt(), "{v} ranks after the best so far, {b}");
                }
                seen.push(v);
            }
            for &v in vs {
                if oracle[v] == Status::Meets && best.is_none_or(|b| rank(v, b).is_lt()) {
                    best = Some(v);
                }
            }
            Ok::<_, ()>(vs.iter().map(|&v| oracle[v]).collect())
        })
        .unwrap();
        let answer = out
            .evaluated
            .iter()
            .filter(|(_, s)| *s == Status::Meets)
            .map(|&(v, _)| v)
            .min_by(|&a, &b| {
                let c = costs.unwrap_or(&[]);
                let cost = |v: usize| c.get(v).copied().unwrap_or(0.0);
                cost(a).total_cmp(&cost(b)).then(a.cmp(&b))
            });
        (out, answer)
    }

    /// A random monotone oracle: meets on the up-closure of a few random
    /// generators, fails on the down-closure of others outside it, unsure
    /// in between; the smallest variants of some groups are excluded.
    fn random_case(rng: &mut RngStream) -> (Vec<Point>, Vec<f64>, Vec<Status>) {
        let dims = 1 + rng.below(3) as usize;
        let sizes: Vec<usize> = (0..dims).map(|_| 2 + rng.below(6) as usize).collect();
        let groups = 1 + rng.below(2) as usize;
        let mut points = grid(&sizes, groups);
        let n = points.len();
        let pick = |rng: &mut RngStream, k: u64| -> Vec<usize> {
            (0..k).map(|_| rng.below(n as u64) as usize).collect()
        };
        let k = 1 + rng.below(3);
        let meet_gen = pick(rng, k);
        let k = 1 + rng.below(4);
        let fail_gen = pick(rng, k);
        let oracle: Vec<Status> = (0..n)
            .map(|v| {
                if meet_gen.iter().any(|&g| le(&points[g], &points[v])) {
                    Status::Meets
                } else if fail_gen.iter().any(|&g| le(&points[v], &points[g])) {
                    Status::Fails
                } else {
                    Status::Unsure
                }
            })
            .collect();
        // Fails must be down-closed among what is not meeting: a failure
        // generator inside the up-set is dropped with it above.
        let oracle: Vec<Status> = (0..n)
            .map(|v| match oracle[v] {
                Status::Fails
                    if (0..n).any(|m| oracle[m] == Status::Meets && le(&points[m], &points[v])) =>
                {
                    Status::Unsure
                }
                s => s,
            })
            .collect();
        // Unstable: the all-smallest variant of a group, sometimes.
        for p in points.iter_mut() {
            if p.coords.iter().all(|&c| c == 0) && rng.below(3) == 0 {
                p.excluded = true;
            }
        }
        // Integer prices (ties happen), some dimensions unpriced, never
        // decreasing along a dimension.
        let prices: Vec<f64> = (0..dims).map(|_| rng.below(4) as f64).collect();
        let base: Vec<f64> = (0..groups).map(|_| rng.below(5) as f64).collect();
        let costs = points
            .iter()
            .map(|p| {
                base[p.group]
                    + p.coords
                        .iter()
                        .zip(&prices)
                        .map(|(&c, w)| c as f64 * w)
                        .sum::<f64>()
            })
            .collect();
        (points, costs, oracle)
    }

    /// On random monotone oracles, with and without known costs and with
    /// one or several probes per round, the search returns the exhaustive
    /// answer, every implied verdict is the oracle's, and the evaluated,
    /// implied, excluded and pruned variants add up to the grid.
    #[test]
    fn the_search_returns_the_exhaustive_answer_on_random_monotone_grids() {
        let mut rng = RngStream::new(7, "search-cases");
        let (mut evaluated, mut total) = (0, 0);
        for case in 0..400 {
            let (points, costs, oracle) = random_case(&mut rng);
            let want = exhaustive(&points, &costs, &oracle);
            for width in [1, 3] {
                let (out, got) = run(&points, Some(&costs), &oracle, width);
                assert_eq!(
                    got, want,
                    "case {case}, width {width}: {points:?} {costs:?} {oracle:?} {out:?}"
                );
                for i in &out.implied {
                    assert_eq!(i.status, oracle[i.index], "case {case}: {i:?}");
                }
                let excluded = points.iter().filter(|p| p.excluded).count();
                assert_eq!(
                    out.evaluated.len() + out.implied.len() + out.pruned + excluded,
                    points.len()
                );
                if width == 1 {
                    evaluated += out.evaluated.len();
                    total += points.len();
                }
                // Costs unknown: the cheapest by measured cost is the same,
                // and nothing is pruned.
                let (out, got) = run(&points, None, &oracle, width);
                let measured = out
                    .evaluated
                    .iter()
                    .filter(|(_, s)| *s == Status::Meets)
                    .map(|&(v, _)| v)
                    .min_by(|&a, &b| costs[a].total_cmp(&costs[b]).then(a.cmp(&b)));
                assert_eq!(measured, want, "case {case} without costs");
                assert_eq!(out.pruned, 0);
                assert!(out.implied.iter().all(|i| i.status == Status::Fails));
                let _ = got;
            }
        }
        // On these small grids (2 to 343 variants) it evaluates well
        // under half.
        assert!(2 * evaluated < total, "{evaluated} of {total}");
    }

    /// Two independent stations, each feasible from its own threshold
    /// (meets when a ≥ a* and b ≥ b*), prices per replica: on 12 × 12 the
    /// search finds (a*, b*) evaluating at most a sixth of the grid
    /// (measured: 6 to 21 of 144 over these cases; the worst is the
    /// answer in the far corner, where every cheaper variant must be
    /// ruled out).
    #[test]
    fn two_independent_thresholds_take_a_few_evaluations() {
        let points = grid(&[12, 12], 1);
        for (ta, tb, pa, pb) in [
            (5, 6, 1.0, 1.0),
            (2, 9, 3.0, 1.0),
            (8, 3, 1.0, 2.0),
            (0, 0, 1.0, 1.0),
            (11, 11, 1.0, 1.0),
        ] {
            let oracle: Vec<Status> = points
                .iter()
                .map(|p| {
                    if p.coords[0] >= ta && p.coords[1] >= tb {
                        Status::Meets
                    } else {
                        Status::Fails
                    }
                })
                .collect();
            let costs: Vec<f64> = points
                .iter()
                .map(|p| pa * (p.coords[0] + 1) as f64 + pb * (p.coords[1] + 1) as f64)
                .collect();
            let (out, got) = run(&points, Some(&costs), &oracle, 1);
            assert_eq!(got, Some(ta * 12 + tb));
            assert!(
                out.evaluated.len() <= 24,
                "({ta}, {tb}): {} evaluations: {:?}",
                out.evaluated.len(),
                out.evaluated
            );
        }
    }

    /// Nothing meets: every variant is evaluated or implied to fail, and a
    /// grid whose largest variant fails is settled by that one evaluation.
    #[test]
    fn when_nothing_meets_the_largest_failure_settles_the_grid() {
        let points = grid(&[4, 5, 3], 1);
        let oracle = vec![Status::Fails; points.len()];
        let costs: Vec<f64> = points
            .iter()
            .map(|p| p.coords.iter().sum::<usize>() as f64)
            .collect();
        let (out, got) = run(&points, Some(&costs), &oracle, 1);
        assert_eq!(got, None);
        assert_eq!(out.evaluated, vec![(points.len() - 1, Status::Fails)]);
        assert_eq!(out.implied.len(), points.len() - 1);
    }

    /// Unsure variants imply nothing: a grid unsure everywhere but at its
    /// largest variant (which meets) is evaluated in full.
    #[test]
    fn unsure_verdicts_imply_nothing() {
        let points = grid(&[3, 3], 1);
        let mut oracle = vec![Status::Unsure; points.len()];
        oracle[8] = Status::Meets;
        let costs = vec![0.0; points.len()];
        let (out, got) = run(&points, Some(&costs), &oracle, 1);
        assert_eq!(got, Some(8));
        assert_eq!(out.evaluated.len(), 9);
        assert!(out.implied.is_empty());
    }
}
