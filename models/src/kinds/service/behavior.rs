//! The HPA's `behavior` (`services[].autoscaling.behavior`): how readily
//! and how fast the autoscaler may change the pod count, and the
//! Kubernetes controller's rules that apply it
//! (`pkg/controller/podautoscaler/horizontal.go`):
//!
//! 1. **Stabilisation** (`stabilizeRecommendationWithBehaviors`): the
//!    recommendation becomes the current count brought within [lowest
//!    recommendation of the scale-up window, highest of the scale-down
//!    window], the new one included. The controller's first
//!    recommendation is the count at the start, so a fresh deployment does
//!    not scale down within its first scale-down window.
//! 2. **Rate limits** (`calculateScaleUpLimitWithScalingRules`,
//!    `calculateScaleDownLimitWithBehaviors`): each policy allows a count
//!    computed from the count at the start of its period (now, minus the
//!    pods added, plus the pods removed, within the period); `max` takes
//!    the policy allowing the biggest change, `min` the smallest, and
//!    `disabled` forbids the direction.
//! 3. The result is bounded by `min_replicas` and `max_replicas`, and a
//!    change is recorded as a scale event for the next periods.
//!
//! Times compare as the controller's do: a recommendation or an event
//! counts while it is strictly younger than its window or period.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use crate::kernel::resolve::{Path, Resolve};
use crate::scenario::ScenarioError;

/// `behavior`: the rules of each direction (Kubernetes'
/// `HorizontalPodAutoscalerBehavior`). A direction left out, or a field
/// left out of one, takes Kubernetes' default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Behavior {
    /// Adding pods (default: no stabilisation; 100% or 4 pods per 15 s,
    /// whichever is more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScalingRules>,
    /// Removing pods (default: 5 min stabilisation; 100% per 15 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<ScalingRules>,
}

/// One direction's rules (Kubernetes' `HPAScalingRules`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalingRules {
    /// Recommendations of this window are considered (scale up: the
    /// lowest; scale down: the highest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_window: Option<SimDuration>,
    /// How much the count may change per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<Policy>>,
    /// Which policy applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<SelectPolicy>,
}

/// A rate limit (Kubernetes' `HPAScalingPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Pods or a percentage of the count at the start of the period.
    #[serde(rename = "type")]
    pub kind: PolicyType,
    /// Pods (a whole number) or percent, > 0.
    pub value: f64,
    /// The period the change is counted over, > 0.
    pub period: SimDuration,
}

/// What a policy's value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    /// Pods added or removed per period.
    Pods,
    /// Percent of the count at the start of the period: up to
    /// ceil(start × (1 + value/100)), down to floor(start × (1 − value/100)).
    Percent,
}

/// Which policy applies when there are several.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SelectPolicy {
    /// The policy allowing the biggest change.
    #[default]
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No change in this direction.
    Disabled,
}

/// One direction's rules, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesDef {
    /// Stabilisation window, ns.
    pub window: u64,
    /// Rate limits (at least one unless `select` is `Disabled`).
    pub policies: Vec<Policy>,
    /// Which policy applies.
    pub select: SelectPolicy,
}

/// Both directions' rules, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviorDef {
    /// Adding pods.
    pub up: RulesDef,
    /// Removing pods.
    pub down: RulesDef,
}

impl BehaviorDef {
    /// Kubernetes' default behaviour, with `down_window` (ns) as the
    /// scale-down stabilisation window.
    fn default_with(down_window: u64) -> Self {
        let per15s = |kind, value| Policy {
            kind,
            value,
            period: SimDuration::from_secs(15),
        };
        BehaviorDef {
            up: RulesDef {
                window: 0,
                policies: vec![
                    per15s(PolicyType::Percent, 100.0),
                    per15s(PolicyType::Pods, 4.0),
                ],
                select: SelectPolicy::Max,
            },
            down: RulesDef {
                window: down_window,
                policies: vec![per15s(PolicyType::Percent, 100.0)],
                select: SelectPolicy::Max,
            },
        }
    }
}

/// Checks `behavior` (at `p`) and fills in Kubernetes' defaults;
/// `down_window` is the default scale-down window (ns).
pub fn resolve(
    cx: &Resolve<'_>,
    p: &Path,
    b: Option<&Behavior>,
    down_window: u64,
) -> Result<BehaviorDef, ScenarioError> {
    let mut def = BehaviorDef::default_with(down_window);
    let Some(b) = b else { return Ok(def) };
    if let Some(r) = &b.scale_up {
        resolve_rules(cx, &p.k("scale_up"), r, &mut def.up)?;
    }
    if let Some(r) = &b.scale_down {
        resolve_rules(cx, &p.k("scale_down"), r, &mut def.down)?;
    }
    Ok(def)
}

/// Checks one direction's rules and overrides the defaults in `def`.
fn resolve_rules(
    cx: &Resolve<'_>,
    p: &Path,
    r: &ScalingRules,
    def: &mut RulesDef,
) -> Result<(), ScenarioError> {
    if let Some(w) = r.stabilization_window {
        def.window = w.0;
    }
    if let Some(s) = r.select_policy {
        def.select = s;
    }
    let Some(policies) = &r.policies else {
        return Ok(());
    };
    if policies.is_empty() && def.select != SelectPolicy::Disabled {
        return Err(cx.err(
            &p.k("policies"),
            "needs at least one policy (or \"select_policy\": \"disabled\" to forbid this direction)",
        ));
    }
    for (i, pol) in policies.iter().enumerate() {
        let at = p.k("policies").i(i);
        if !(pol.value.is_finite() && pol.value > 0.0) {
            return Err(cx.err(
                &at.k("value"),
                format!("must be a positive number, got {}", pol.value),
            ));
        }
        if pol.kind == PolicyType::Pods && pol.value.fract() != 0.0 {
            return Err(cx.err(
                &at.k("value"),
                format!("a number of pods is a whole number, got {}", pol.value),
            ));
        }
        if pol.period.0 == 0 {
            return Err(cx.err(&at.k("period"), "must be positive"));
        }
    }
    def.policies = policies.clone();
    Ok(())
}

/// The controller's memory of one autoscaler: its recommendations and
/// scale events, kept as long as a window or period may need them.
#[derive(Debug, Clone)]
pub struct History {
    /// (time ns, recommendation).
    recs: Vec<(u64, i64)>,
    /// (time ns, pods added).
    ups: Vec<(u64, i64)>,
    /// (time ns, pods removed).
    downs: Vec<(u64, i64)>,
}

impl History {
    /// A fresh autoscaler of a deployment of `replicas` pods at time 0:
    /// its first recommendation is that count.
    pub fn new(replicas: u32) -> Self {
        History {
            recs: vec![(0, i64::from(replicas))],
            ups: Vec::new(),
            downs: Vec::new(),
        }
    }

    /// One decision at `now` (ns): `current` pods, `desired` by the
    /// metric. Returns the count to scale to, within [min, max] when it
    /// changes, and records it.
    pub fn decide(
        &mut self,
        b: &BehaviorDef,
        (min, max): (u32, u32),
        now: u64,
        current: u32,
        desired: u32,
    ) -> u32 {
        let (current, desired) = (i64::from(current), i64::from(desired));
        let stable = self.stabilize(b, now, current, desired);
        let next = if stable > current {
            let limit = self.limit(&b.up, true, now, current).max(current);
            stable.min(limit.min(i64::from(max)))
        } else if stable < current {
            let limit = self.limit(&b.down, false, now, current).min(current);
            stable.max(limit.max(i64::from(min)))
        } else {
            stable
        };
        if next > current {
            store(&mut self.ups, longest(&b.up), now, next - current);
        } else if next < current {
            store(&mut self.downs, longest(&b.down), now, current - next);
        }
        u32::try_from(next).expect("between min and max replicas")
    }

    /// `stabilizeRecommendationWithBehaviors`: `current` brought within
    /// the lowest recommendation of the scale-up window and the highest
    /// of the scale-down window (`desired` included); `desired` is
    /// recorded, in place of one that both windows have passed.
    fn stabilize(&mut self, b: &BehaviorDef, now: u64, current: i64, desired: i64) -> i64 {
        let (mut up, mut down) = (desired, desired);
        let mut old = None;
        for (i, &(at, rec)) in self.recs.iter().enumerate() {
            if at + b.up.window > now {
                up = up.min(rec);
            }
            if at + b.down.window > now {
                down = down.max(rec);
            }
            if at + b.up.window < now && at + b.down.window < now {
                old = Some(i);
            }
        }
        match old {
            Some(i) => self.recs[i] = (now, desired),
            None => self.recs.push((now, desired)),
        }
        current.max(up).min(down)
    }

    /// The count the policies of `r` allow (`up`: at most, else at
    /// least) from `current`.
    fn limit(&self, r: &RulesDef, up: bool, now: u64, current: i64) -> i64 {
        if r.select == SelectPolicy::Disabled {
            return current;
        }
        let proposals = r.policies.iter().map(|p| {
            let start = current - changed(&self.ups, p.period.0, now)
                + changed(&self.downs, p.period.0, now);
            let start_f = start as f64;
            // `as` saturates: huge values mean no limit.
            match (p.kind, up) {
                (PolicyType::Pods, true) => start.saturating_add(p.value as i64),
                (PolicyType::Pods, false) => start.saturating_sub(p.value as i64),
                (PolicyType::Percent, true) => (start_f * (1.0 + p.value / 100.0)).ceil() as i64,
                (PolicyType::Percent, false) => (start_f * (1.0 - p.value / 100.0)) as i64,
            }
        });
        // The biggest change is the highest limit up, the lowest down.
        let highest = (r.select == SelectPolicy::Max) == up;
        let limit = if highest {
            proposals.max()
        } else {
            proposals.min()
        };
        limit.unwrap_or(current)
    }
}

/// `getReplicasChangePerPeriod`: pods changed by the events younger than
/// `period` (ns).
fn changed(events: &[(u64, i64)], period: u64, now: u64) -> i64 {
    events
        .iter()
        .filter(|&&(at, _)| at + period > now)
        .map(|&(_, n)| n)
        .sum()
}

/// `storeScaleEvent`: records a change of `n` pods in place of the first
/// event older than `period` (ns), else at the end.
fn store(events: &mut Vec<(u64, i64)>, period: u64, now: u64, n: i64) {
    match events.iter().position(|&(at, _)| at + period < now) {
        Some(i) => events[i] = (now, n),
        None => events.push((now, n)),
    }
}

/// `getLongestPolicyPeriod`, ns.
fn longest(r: &RulesDef) -> u64 {
    r.policies.iter().map(|p| p.period.0).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{BehaviorDef, History, Policy, PolicyType, RulesDef, SelectPolicy};
    use crate::system::compile::testing::{accepted, assert_refused, base, changed};
    use sim_core::SimDuration;

    const S: u64 = 1_000_000_000;

    /// Kubernetes' defaults with a 5 min scale-down window.
    fn k8s() -> BehaviorDef {
        BehaviorDef::default_with(300 * S)
    }

    fn policy(kind: PolicyType, value: f64, period_s: u64) -> Policy {
        Policy {
            kind,
            value,
            period: SimDuration::from_secs(period_s),
        }
    }

    fn rules(window_s: u64, policies: Vec<Policy>, select: SelectPolicy) -> RulesDef {
        RulesDef {
            window: window_s * S,
            policies,
            select,
        }
    }

    /// A single policy, no stabilisation.
    fn one(kind: PolicyType, value: f64, period_s: u64) -> RulesDef {
        rules(0, vec![policy(kind, value, period_s)], SelectPolicy::Max)
    }

    /// The counts a deployment of `start` pods goes through when the
    /// metric asks for `desired[i]` at the (i + 1)-th 15 s sync, within
    /// [1, 100] pods.
    fn timeline(b: &BehaviorDef, start: u32, desired: &[u32]) -> Vec<u32> {
        let mut h = History::new(start);
        let mut current = start;
        let mut seen = vec![start];
        for (i, &d) in desired.iter().enumerate() {
            current = h.decide(b, (1, 100), (i as u64 + 1) * 15 * S, current, d);
            seen.push(current);
        }
        seen
    }

    /// Kubernetes' walkthrough: 1 pod at 305% CPU against a 50% target
    /// asks for ceil(6.1) = 7 pods; the default scale-up policies allow
    /// max(100%, 4 pods) per 15 s: 1 → max(2, 5) = 5 at 15 s, then (the
    /// event of 15 s being exactly one period old) 5 → min(7, max(10, 9))
    /// = 7 at 30 s.
    #[test]
    fn the_walkthrough_spike_goes_1_5_7() {
        assert_eq!(timeline(&k8s(), 1, &[7, 7, 7]), [1, 5, 7, 7]);
        // Further up, 100% wins over 4 pods: 10 → 20 → 40.
        assert_eq!(timeline(&k8s(), 10, &[60, 60, 60]), [10, 20, 40, 60]);
    }

    /// A fresh deployment's first recommendation is its count at the
    /// start: nothing scales down until that recommendation is a whole
    /// window (300 s, the 20th sync) old; then the default 100% per 15 s
    /// allows going straight to the desired count.
    #[test]
    fn no_scale_down_within_the_first_window() {
        let seen = timeline(&k8s(), 10, &[2; 21]);
        assert_eq!(&seen[..20], &[10; 20], "{seen:?}");
        assert_eq!(seen[20..], [2, 2], "{seen:?}");
        // A lower recommendation stays in the window as well: 10 → 6 at
        // 15 s, then 2 from 30 s: down to 6 at 300 s, to 2 at 315 s.
        let mut desired = vec![6];
        desired.extend([2; 21]);
        let seen = timeline(&k8s(), 10, &desired);
        assert_eq!(&seen[..20], &[10; 20], "{seen:?}");
        assert_eq!(seen[20..], [6, 2, 2], "{seen:?}");
    }

    /// A scale-up window takes the lowest recommendation of the window:
    /// the start's 1 pod holds the count until it is 60 s old.
    #[test]
    fn a_scale_up_window_delays_the_spike() {
        let mut b = k8s();
        b.up.window = 60 * S;
        assert_eq!(timeline(&b, 1, &[5; 5]), [1, 1, 1, 1, 5, 5]);
        // A dip inside the window holds the count at the dip's value.
        assert_eq!(
            timeline(&b, 1, &[5, 2, 5, 5, 5, 5, 5]),
            [1, 1, 1, 1, 2, 2, 5, 5]
        );
    }

    /// Each policy type, in each direction: `pods` adds or removes its
    /// value per period (counting the events still inside the period),
    /// `percent` a share of the count at the start of the period (ceil
    /// up, floor down).
    #[test]
    fn each_policy_type_limits_the_rate() {
        let mut b = k8s();
        b.up = one(PolicyType::Pods, 2.0, 60);
        // +2 at 15 s, then the period holds it until 75 s, and so on.
        assert_eq!(
            timeline(&b, 1, &[10; 6]),
            [1, 3, 3, 3, 3, 5, 5],
            "pods per 60 s"
        );
        b.up = one(PolicyType::Percent, 50.0, 15);
        // ceil(1.5) = 2, ceil(3) = 3, ceil(4.5) = 5, ceil(7.5) = 8, 10.
        assert_eq!(
            timeline(&b, 1, &[10; 5]),
            [1, 2, 3, 5, 8, 10],
            "50% per 15 s"
        );
        let mut b = k8s();
        b.down = one(PolicyType::Pods, 1.0, 30);
        // −1 per 30 s: the event of 15 s still counts at 30 s.
        assert_eq!(
            timeline(&b, 10, &[1; 5]),
            [10, 9, 9, 8, 8, 7],
            "pods per 30 s"
        );
        b.down = one(PolicyType::Percent, 50.0, 15);
        // floor(5) = 5, floor(2.5) = 2, floor(1) = 1.
        assert_eq!(timeline(&b, 10, &[1; 4]), [10, 5, 2, 1, 1], "50% per 15 s");
    }

    /// `max` takes the policy allowing the biggest change, `min` the
    /// smallest, `disabled` forbids the direction (and only that one).
    #[test]
    fn select_policy_max_min_disabled() {
        let mut b = k8s();
        b.up.select = SelectPolicy::Min;
        // min(2 × start, start + 4): 2, 4, 8, 12, 16, 20.
        assert_eq!(timeline(&b, 1, &[20; 6]), [1, 2, 4, 8, 12, 16, 20]);
        b.up.select = SelectPolicy::Disabled;
        assert_eq!(timeline(&b, 1, &[20; 3]), [1, 1, 1, 1]);
        let both = vec![
            policy(PolicyType::Pods, 1.0, 15),
            policy(PolicyType::Percent, 50.0, 15),
        ];
        let mut b = k8s();
        b.down = rules(0, both.clone(), SelectPolicy::Max);
        assert_eq!(timeline(&b, 10, &[1; 3]), [10, 5, 2, 1]);
        b.down = rules(0, both, SelectPolicy::Min);
        assert_eq!(timeline(&b, 10, &[1; 3]), [10, 9, 8, 7]);
        b.down = rules(0, Vec::new(), SelectPolicy::Disabled);
        assert_eq!(timeline(&b, 10, &[1; 3]), [10, 10, 10, 10]);
        // Scaling up still works with scale-down disabled.
        assert_eq!(timeline(&b, 10, &[1, 30]), [10, 10, 20]);
    }

    /// The count at the start of a period also adds back the pods removed
    /// within it: after 10 → 5 at 15 s, a scale-up at 30 s with `pods` 2
    /// per 60 s is limited to 10 + 2 = 12, not 5 + 2.
    #[test]
    fn removed_pods_count_in_the_period_start() {
        let mut b = k8s();
        b.down.window = 0;
        b.up = one(PolicyType::Pods, 2.0, 60);
        assert_eq!(timeline(&b, 10, &[5, 20]), [10, 5, 12]);
    }

    /// The bounds apply after the rate limits: the spike stops at
    /// max_replicas, the drop at min_replicas.
    #[test]
    fn bounds_cap_the_limits() {
        let mut h = History::new(1);
        assert_eq!(h.decide(&k8s(), (1, 3), 15 * S, 1, 7), 3);
        let mut b = k8s();
        b.down.window = 0;
        let mut h = History::new(10);
        assert_eq!(h.decide(&b, (4, 20), 15 * S, 10, 1), 4);
    }

    /// An autoscaler with `behavior`.
    fn with(behavior: Value) -> Value {
        json!({ "min_replicas": 1, "max_replicas": 4, "target": 0.6, "behavior": behavior })
    }

    /// `base` with an autoscaler with `behavior`.
    fn at(behavior: Value) -> Value {
        changed(&base(), &[("/services/0/autoscaling", with(behavior))])
    }

    /// A behaviour written in full resolves to what it says; a direction
    /// left out keeps Kubernetes' defaults.
    #[test]
    fn a_written_behavior_resolves() {
        let m = accepted(&at(json!({
            "scale_up": { "stabilization_window": "1m", "select_policy": "min",
                          "policies": [{ "type": "pods", "value": 2, "period": "30s" }] }
        })));
        let b = &m.services[0]
            .autoscaling
            .as_ref()
            .expect("an autoscaler")
            .behavior;
        assert_eq!(
            b.up,
            rules(
                60,
                vec![policy(PolicyType::Pods, 2.0, 30)],
                SelectPolicy::Min
            )
        );
        assert_eq!(b.down, k8s().down);
    }

    /// What a behaviour refuses: an empty policy list (unless disabled),
    /// non-positive values and periods, a fractional pod count, unknown
    /// fields, types and selections.
    #[test]
    fn refusals() {
        let up = |r: Value| json!({ "scale_up": r });
        let up_policy = |p: Value| up(json!({ "policies": [p] }));
        let b = "services[0].autoscaling.behavior";
        let cases: Vec<(Value, String)> = vec![
            (
                up(json!({ "policies": [] })),
                format!(
                    "{b}.scale_up.policies: needs at least one policy (or \"select_policy\": \"disabled\" to forbid this direction)"
                ),
            ),
            (
                up_policy(json!({ "type": "pods", "value": 0, "period": "15s" })),
                format!("{b}.scale_up.policies[0].value: must be a positive number, got 0"),
            ),
            (
                up_policy(json!({ "type": "percent", "value": -10, "period": "15s" })),
                format!("{b}.scale_up.policies[0].value: must be a positive number, got -10"),
            ),
            (
                up_policy(json!({ "type": "pods", "value": 1.5, "period": "15s" })),
                format!(
                    "{b}.scale_up.policies[0].value: a number of pods is a whole number, got 1.5"
                ),
            ),
            (
                up_policy(json!({ "type": "pods", "value": 1, "period": "0s" })),
                format!("{b}.scale_up.policies[0].period: must be positive"),
            ),
            (
                up_policy(json!({ "type": "replicas", "value": 1, "period": "15s" })),
                format!("{b}.scale_up.policies[0].type: unknown variant `replicas`"),
            ),
            (
                up_policy(
                    json!({ "type": "pods", "value": 1, "period": "15s", "periodSeconds": 15 }),
                ),
                format!("{b}.scale_up.policies[0].periodSeconds: unknown field `periodSeconds`"),
            ),
            (
                up(json!({ "select_policy": "fastest" })),
                format!("{b}.scale_up.select_policy: unknown variant `fastest`"),
            ),
            (
                json!({ "scale_down": { "stabilization_window": -1 } }),
                format!("{b}.scale_down.stabilization_window: invalid"),
            ),
            (
                json!({ "scaleUp": {} }),
                format!("{b}.scaleUp: unknown field `scaleUp`"),
            ),
        ];
        assert_refused(
            &base(),
            cases
                .iter()
                .map(|(v, m)| ("/services/0/autoscaling", with(v.clone()), m.as_str()))
                .collect(),
        );
        // Disabled needs no policy.
        accepted(&at(up(
            json!({ "policies": [], "select_policy": "disabled" }),
        )));
    }
}
