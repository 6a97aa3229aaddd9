//! Rate profiles: the segments of a workload's `rate` (constant, linear
//! ramps, diurnal sinusoids), as written and resolved.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use crate::kernel::resolve::{Path, Resolve};
use crate::scenario::ScenarioError;

/// One segment of a rate profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateSegment {
    /// How long the segment lasts. Only the last segment may omit it, and
    /// then it lasts until the end of the run.
    #[serde(default, rename = "for")]
    pub length: Option<SimDuration>,
    /// A constant rate, requests per second.
    #[serde(default)]
    pub rps: Option<f64>,
    /// A linear ramp from the previous segment's final rate (0 for the first
    /// segment) to this rate, requests per second.
    #[serde(default)]
    pub ramp_to: Option<f64>,
    /// A daily cycle: a sinusoid between `min` and `max`.
    #[serde(default)]
    pub diurnal: Option<Diurnal>,
    /// Optional label ("spike", "plateau") for people reading the file.
    #[serde(default)]
    pub label: Option<String>,
}

/// A sinusoidal rate: `min + (max - min) × (1 + cos(2π (t - peak_at) /
/// period)) / 2`, `t` the time since the run began (a run starts at
/// midnight, so `peak_at` reads as a time of day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Diurnal {
    /// The lowest rate (the trough), requests per second.
    pub min: f64,
    /// The highest rate (the peak), requests per second.
    pub max: f64,
    /// Length of one cycle (default 24h).
    #[serde(default)]
    pub period: Option<SimDuration>,
    /// When the rate peaks, within the first period (e.g. "14h").
    pub peak_at: SimDuration,
}

/// A piecewise-linear arrival-rate profile in requests per second.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    /// Segments in order; the last one lasts until the end of the run.
    pub segments: Vec<RateSeg>,
}

/// One segment: the rate goes linearly from `from` to `to` over
/// `[start, end)`, both in requests per second.
#[derive(Debug, Clone, PartialEq)]
pub struct RateSeg {
    /// Start, ns since the run began.
    pub start: u64,
    /// End, ns (u64::MAX for an open-ended last segment).
    pub end: u64,
    /// Rate at the start, requests/s.
    pub from: f64,
    /// Rate at the end, requests/s.
    pub to: f64,
    /// A sinusoid instead of the linear ramp (`from` and `to` are then its
    /// values at the ends).
    pub diurnal: Option<DiurnalDef>,
    /// Optional label.
    pub label: Option<String>,
}

/// A sinusoidal rate between `min` and `max` peaking at `peak_at` and
/// every `period` after (or before) it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiurnalDef {
    /// Trough, requests/s.
    pub min: f64,
    /// Peak, requests/s.
    pub max: f64,
    /// Cycle length, ns.
    pub period: u64,
    /// A peak instant, ns since the run began.
    pub peak_at: u64,
}

impl DiurnalDef {
    fn phase(&self, t_ns: u64) -> f64 {
        let p = self.period as f64;
        std::f64::consts::TAU * ((t_ns as f64 - self.peak_at as f64) / p)
    }

    /// The rate at `t_ns`, requests/s.
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        let mid = (self.min + self.max) / 2.0;
        let amp = (self.max - self.min) / 2.0;
        (mid + amp * self.phase(t_ns).cos()).clamp(self.min, self.max)
    }

    /// Expected arrivals in `[a, b)` (ns): the integral of the rate,
    /// `mid·Δt + amp·period/2π·(sin φ(b) − sin φ(a))`.
    pub fn integral(&self, a: u64, b: u64) -> f64 {
        let mid = (self.min + self.max) / 2.0;
        let amp = (self.max - self.min) / 2.0;
        let secs = (b - a) as f64 / 1e9;
        let p_s = self.period as f64 / 1e9;
        mid * secs + amp * p_s / std::f64::consts::TAU * (self.phase(b).sin() - self.phase(a).sin())
    }

    /// The first peak instant at or after `t_ns` (ns, saturating).
    pub fn next_peak(&self, t_ns: u64) -> u64 {
        if t_ns <= self.peak_at {
            // Peaks before `peak_at` are `peak_at - k·period`.
            let back = (self.peak_at - t_ns) / self.period;
            return self.peak_at - back * self.period;
        }
        let k = (t_ns - self.peak_at).div_ceil(self.period);
        self.peak_at.saturating_add(k.saturating_mul(self.period))
    }
}

impl RateProfile {
    /// The same profile with every rate multiplied by `k` (constant rates,
    /// ramps' ends, diurnal troughs and peaks); `k = 1` changes no bits.
    pub fn scaled(&self, k: f64) -> RateProfile {
        let segments = self
            .segments
            .iter()
            .map(|s| RateSeg {
                from: s.from * k,
                to: s.to * k,
                diurnal: s.diurnal.map(|d| DiurnalDef {
                    min: d.min * k,
                    max: d.max * k,
                    ..d
                }),
                ..s.clone()
            })
            .collect();
        RateProfile { segments }
    }

    /// The rate at time `t_ns`, requests per second.
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        for s in &self.segments {
            if t_ns < s.end {
                return s.rate_at(t_ns);
            }
        }
        self.segments.last().map_or(0.0, |s| s.to)
    }

    /// The highest rate reached before `until_ns`, and when.
    pub fn peak(&self, until_ns: u64) -> (f64, u64) {
        let mut best = (0.0, 0);
        for s in &self.segments {
            if s.start >= until_ns {
                break;
            }
            if let Some(d) = &s.diurnal {
                let end = s.end.min(until_ns);
                let at = d.next_peak(s.start);
                if at < end && d.max > best.0 {
                    best = (d.max, at);
                }
                for t in [s.start, end] {
                    if d.rate_at(t) > best.0 {
                        best = (d.rate_at(t), t);
                    }
                }
                continue;
            }
            if s.from > best.0 {
                best = (s.from, s.start);
            }
            if s.to > best.0 {
                best = (s.to, s.end.min(until_ns));
            }
        }
        best
    }

    /// Expected number of arrivals in `[0, until_ns)`.
    pub fn expected_arrivals(&self, until_ns: u64) -> f64 {
        let mut total = 0.0;
        for s in &self.segments {
            if s.start >= until_ns {
                break;
            }
            let end = s.end.min(until_ns);
            if let Some(d) = &s.diurnal {
                total += d.integral(s.start, end);
                continue;
            }
            let secs = (end - s.start) as f64 / 1e9;
            total += secs * (s.from + s.rate_at(end)) / 2.0;
        }
        total
    }
}

impl RateSeg {
    /// Rate at `t_ns` within the segment.
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        if let Some(d) = &self.diurnal {
            return d.rate_at(t_ns);
        }
        if self.end == u64::MAX || self.from == self.to {
            return self.from;
        }
        let f = (t_ns.saturating_sub(self.start)) as f64 / (self.end - self.start) as f64;
        self.from + (self.to - self.from) * f.clamp(0.0, 1.0)
    }

    /// A bound on the rate within the segment (the largest rate of a
    /// ramp, the peak of a sinusoid).
    pub fn max_rate(&self) -> f64 {
        match &self.diurnal {
            Some(d) => d.max,
            None => self.from.max(self.to),
        }
    }

    /// The rate does not change within the segment.
    pub fn is_constant(&self) -> bool {
        self.diurnal.is_none() && self.from == self.to
    }
}

/// A diurnal segment's sinusoid.
fn diurnal(cx: &Resolve<'_>, p: &Path, d: &Diurnal) -> Result<DiurnalDef, ScenarioError> {
    for (name, v) in [("min", d.min), ("max", d.max)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(cx.err(
                &p.k(name),
                format!("a rate must be a finite number of requests per second >= 0, got {v}"),
            ));
        }
    }
    if d.min > d.max {
        return Err(cx.err(
            &p.k("min"),
            format!(
                "the trough (min {}) is above the peak (max {})",
                d.min, d.max
            ),
        ));
    }
    let period = d.period.map_or(24 * 3_600_000_000_000, |x| x.0);
    if period == 0 {
        return Err(cx.err(&p.k("period"), "the period must be positive"));
    }
    if d.peak_at.0 >= period {
        return Err(cx.err(
            &p.k("peak_at"),
            format!(
                "the peak ({}) must fall within the first period ({})",
                d.peak_at,
                SimDuration(period)
            ),
        ));
    }
    Ok(DiurnalDef {
        min: d.min,
        max: d.max,
        period,
        peak_at: d.peak_at.0,
    })
}

/// Checks the segments at `p` (a workload's `rate` or an entry of
/// `profiles`) and resolves them, unscaled.
pub fn resolve(
    cx: &Resolve<'_>,
    p: &Path,
    segs: &[RateSegment],
) -> Result<RateProfile, ScenarioError> {
    if segs.is_empty() {
        return Err(cx.err(p, "the rate profile needs at least one segment"));
    }
    let mut out = Vec::new();
    let mut t = 0u64;
    let mut prev = 0.0f64;
    for (i, s) in segs.iter().enumerate() {
        let sp = p.i(i);
        let last = i + 1 == segs.len();
        let kinds = [s.rps.is_some(), s.ramp_to.is_some(), s.diurnal.is_some()];
        let (from, to) = match (s.rps, s.ramp_to) {
            _ if kinds.iter().filter(|k| **k).count() > 1 => {
                return Err(cx.err(
                    &sp,
                    "a segment has one of `rps` (constant), `ramp_to` (linear) or `diurnal` (sinusoid), not several",
                ));
            }
            (Some(r), None) => (r, r),
            (None, Some(r)) => (prev, r),
            _ if s.diurnal.is_some() => (0.0, 0.0), // set below
            _ => {
                return Err(cx.err(
                    &sp,
                    "a segment needs `rps` (constant), `ramp_to` (linear ramp) or `diurnal` (daily cycle)",
                ));
            }
        };
        for (name, v) in [("rps", s.rps), ("ramp_to", s.ramp_to)] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(cx.err(
                    &sp.k(name),
                    format!("a rate must be a finite number of requests per second >= 0, got {v}"),
                ));
            }
        }
        let end = match s.length {
            Some(d) if d.0 == 0 => {
                return Err(cx.err(&sp.k("for"), "a segment must last more than 0s"));
            }
            Some(d) => t.saturating_add(d.0),
            None if last && s.ramp_to.is_none() => u64::MAX,
            None if last => return Err(cx.err(&sp, "a ramp needs `for`: how long it takes")),
            None => return Err(cx.err(&sp, "only the last segment may omit `for`")),
        };
        let diurnal = s
            .diurnal
            .as_ref()
            .map(|d| diurnal(cx, &sp.k("diurnal"), d))
            .transpose()?;
        let (from, to) = match &diurnal {
            Some(d) => (d.rate_at(t), d.rate_at(end)),
            None => (from, to),
        };
        out.push(RateSeg {
            start: t,
            end,
            from,
            to,
            diurnal,
            label: s.label.clone(),
        });
        t = end;
        prev = to;
    }
    Ok(RateProfile { segments: out })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::testing::{accepted, assert_refused, base, changed};

    /// What a rate profile refuses: no segment, a segment of several kinds
    /// or of none, negative rates, bad lengths, and diurnal cycles whose
    /// trough, period or peak make no sense.
    #[test]
    fn refusals() {
        let diurnal = |d: Value| json!([{ "for": "1h", "diurnal": d }]);
        let cycle = json!({ "min": 1, "max": 2, "peak_at": "1h" });
        assert_refused(
            &base(),
            vec![
                (
                    "/workloads/0/rate",
                    json!([]),
                    "workloads[0].rate: the rate profile needs at least one segment",
                ),
                (
                    "/workloads/0/rate",
                    json!([{ "rps": 5, "diurnal": cycle }]),
                    "workloads[0].rate[0]: a segment has one of `rps` (constant), `ramp_to` (linear) or `diurnal` (sinusoid), not several",
                ),
                (
                    "/workloads/0/rate",
                    json!([{ "for": "1s", "rps": 5, "ramp_to": 10 }]),
                    "workloads[0].rate[0]: a segment has one of `rps`",
                ),
                (
                    "/workloads/0/rate",
                    json!([{ "for": "1s" }]),
                    "workloads[0].rate[0]: a segment needs `rps` (constant), `ramp_to` (linear ramp) or `diurnal` (daily cycle)",
                ),
                (
                    "/workloads/0/rate/0/rps",
                    json!(-5),
                    "workloads[0].rate[0].rps: a rate must be a finite number of requests per second >= 0, got -5",
                ),
                (
                    "/workloads/0/rate",
                    json!([{ "for": "5s", "rps": 1 }, { "for": "5s", "ramp_to": -1 }]),
                    "workloads[0].rate[1].ramp_to: a rate must be a finite number of requests per second >= 0, got -1",
                ),
                (
                    "/workloads/0/rate/0/for",
                    json!("0s"),
                    "workloads[0].rate[0].for: a segment must last more than 0s",
                ),
                (
                    "/workloads/0/rate",
                    json!([{ "ramp_to": 10 }]),
                    "workloads[0].rate[0]: a ramp needs `for`: how long it takes",
                ),
                (
                    "/workloads/0/rate",
                    json!([{ "rps": 1 }, { "rps": 2 }]),
                    "workloads[0].rate[0]: only the last segment may omit `for`",
                ),
                (
                    "/workloads/0/rate",
                    diurnal(json!({ "min": -1, "max": 100, "peak_at": "14h" })),
                    "workloads[0].rate[0].diurnal.min: a rate must be a finite number of requests per second >= 0, got -1",
                ),
                (
                    "/workloads/0/rate",
                    diurnal(json!({ "min": 1, "max": -100, "peak_at": "14h" })),
                    "workloads[0].rate[0].diurnal.max: a rate must be a finite number of requests per second >= 0, got -100",
                ),
                (
                    "/workloads/0/rate",
                    diurnal(json!({ "min": 500, "max": 100, "peak_at": "14h" })),
                    "workloads[0].rate[0].diurnal.min: the trough (min 500) is above the peak (max 100)",
                ),
                (
                    "/workloads/0/rate",
                    diurnal(json!({ "min": 1, "max": 100, "peak_at": "1h", "period": "0s" })),
                    "workloads[0].rate[0].diurnal.period: the period must be positive",
                ),
                (
                    "/workloads/0/rate",
                    diurnal(json!({ "min": 1, "max": 100, "peak_at": "25h" })),
                    "workloads[0].rate[0].diurnal.peak_at: the peak (25h) must fall within the first period (24h)",
                ),
            ],
        );
    }

    /// Ramps and a flat diurnal cycle load.
    #[test]
    fn good_profiles_load() {
        let rate = json!([{ "for": "5s", "ramp_to": 50 },
                          { "for": "5s", "diurnal": { "min": 1, "max": 1, "peak_at": "0s", "period": "1h" } },
                          { "ramp_to": 10, "for": "10s" }]);
        accepted(&changed(&base(), &[("/workloads/0/rate", rate)]));
    }
}
