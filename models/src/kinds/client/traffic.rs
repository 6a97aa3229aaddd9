//! Traffic what-ifs: the scenario's `load_factor`, its named rate
//! `profiles`, and a workload's `rate` written either as its own segments
//! or as a share of a named profile (`{"profile": "sale", "share": 0.6}`).
//!
//! A workload's offered rate is its segments' rate (its own, or the named
//! profile's) × `share` × `load_factor`; closed-loop `users` are
//! `round(users × load_factor)`, at least 1. With neither field written
//! every factor is 1, and multiplying by 1 changes no rate's bits.

use std::fmt;

use indexmap::IndexMap;
use serde::de::value::SeqAccessDeserializer;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::profile::{self, RateProfile, RateSegment};
use super::{MAX_USERS, Workload};
use crate::kernel::resolve::{Path, Resolve};
use crate::scenario::ScenarioError;

/// A workload's `rate` as written: its own segments, or a share of a
/// named profile.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Rate {
    /// `[{"for": "5m", "rps": 300}, ...]`: the workload's own segments.
    Segments(Vec<RateSegment>),
    /// `{"profile": "sale", "share": 0.6}`: a profile of the top-level
    /// `profiles`, every rate multiplied by `share`.
    Shared(SharedRate),
}

/// A share of a named rate profile.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SharedRate {
    /// The name of an entry of the top-level `profiles`.
    pub profile: String,
    /// Multiplies every rate of the profile: a fraction (0.6) or a factor
    /// (2); positive and finite, default 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
}

impl Default for Rate {
    fn default() -> Self {
        Rate::Segments(Vec::new())
    }
}

impl Rate {
    /// No `rate` was written (an empty list of segments).
    pub fn is_empty(&self) -> bool {
        matches!(self, Rate::Segments(s) if s.is_empty())
    }

    /// The segments this rate plays, before any scaling: its own, or the
    /// named profile's (none if `profiles` has no such name).
    pub fn segments<'a>(
        &'a self,
        profiles: &'a IndexMap<String, Vec<RateSegment>>,
    ) -> &'a [RateSegment] {
        match self {
            Rate::Segments(s) => s,
            Rate::Shared(r) => profiles.get(&r.profile).map_or(&[], Vec::as_slice),
        }
    }
}

/// A segment's fields, which a `{profile, share}` object does not take.
const SEGMENT_FIELDS: [&str; 5] = ["for", "rps", "ramp_to", "diurnal", "label"];

/// A key of `{profile, share}`; refusing the others as the key is read
/// puts the key in the error's path (`workloads[0].rate.rps`).
enum SharedKey {
    Profile,
    Share,
}

impl<'de> Deserialize<'de> for SharedKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = SharedKey;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`profile` or `share`")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<SharedKey, E> {
                match key {
                    "profile" => Ok(SharedKey::Profile),
                    "share" => Ok(SharedKey::Share),
                    k if SEGMENT_FIELDS.contains(&k) => Err(E::custom(format!(
                        "`{k}` belongs in a rate segment: a rate is either an array of segments or {{\"profile\": NAME, \"share\": NUMBER}}, not both (a shared profile's segments are under `profiles`)"
                    ))),
                    k => Err(E::unknown_field(k, &["profile", "share"])),
                }
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// An array is the workload's own segments, an object a shared profile;
/// written by hand (not `untagged`) so that an error inside a segment
/// keeps its path (`workloads[0].rate[2].rps`).
impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RateVisitor;
        impl<'de> Visitor<'de> for RateVisitor {
            type Value = Rate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of rate segments or {\"profile\": NAME, \"share\": NUMBER}")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Rate, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(Rate::Segments)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Rate, A::Error> {
                let (mut profile, mut share) = (None, None);
                while let Some(key) = map.next_key::<SharedKey>()? {
                    match key {
                        SharedKey::Profile => profile = Some(map.next_value::<String>()?),
                        // `null` is no share, as for every optional
                        // field (and as the schema says).
                        SharedKey::Share => share = map.next_value::<Option<f64>>()?,
                    }
                }
                let profile = profile.ok_or_else(|| de::Error::missing_field("profile"))?;
                Ok(Rate::Shared(SharedRate { profile, share }))
            }
        }
        // `deserialize_any` suits the self-describing format a scenario is
        // read from (JSON).
        d.deserialize_any(RateVisitor)
    }
}

/// The scenario's traffic knobs, resolved: the load factor and the named
/// rate profiles (unscaled).
#[derive(Debug, Clone)]
pub struct Traffic {
    /// Multiplies every open-loop rate and every closed-loop user count.
    pub load_factor: f64,
    /// Name -> profile, in file order, before `share` and `load_factor`.
    pub profiles: IndexMap<String, RateProfile>,
}

/// Checks the `load_factor`, every entry of `profiles`, and each
/// workload's reference to one (its name and `share`).
pub fn resolve(
    cx: &Resolve<'_>,
    load_factor: Option<f64>,
    profiles: &IndexMap<String, Vec<RateSegment>>,
    workloads: &[Workload],
) -> Result<Traffic, ScenarioError> {
    let load_factor = load_factor.unwrap_or(1.0);
    if !(load_factor.is_finite() && load_factor > 0.0) {
        return Err(cx.err(
            &Path::root("load_factor"),
            format!("the load factor must be a finite number > 0 (1 is today's traffic), got {load_factor}"),
        ));
    }
    let mut resolved = IndexMap::new();
    for (name, segs) in profiles {
        let p = Path::root("profiles").k(name);
        if name.trim().is_empty() {
            return Err(cx.err(&p, "a rate profile needs a non-empty name"));
        }
        resolved.insert(name.clone(), profile::resolve(cx, &p, segs)?);
    }
    let known: Vec<&str> = profiles.keys().map(String::as_str).collect();
    for (wi, w) in workloads.iter().enumerate() {
        let Rate::Shared(r) = &w.rate else { continue };
        let p = Path::root(super::SECTION).i(wi).k("rate");
        if !profiles.contains_key(&r.profile) {
            return Err(cx.unknown(&p.k("profile"), "rate profile", &r.profile, &known));
        }
        if let Some(share) = r.share
            && !(share.is_finite() && share > 0.0)
        {
            return Err(cx.err(
                &p.k("share"),
                format!("a share must be a finite number > 0 (a fraction of the profile, or a factor), got {share}"),
            ));
        }
    }
    Ok(Traffic {
        load_factor,
        profiles: resolved,
    })
}

impl Traffic {
    /// The offered rate of a workload's `rate` (at `p`): its segments,
    /// resolved, × `share` × `load_factor`.
    pub fn offered(
        &self,
        cx: &Resolve<'_>,
        p: &Path,
        rate: &Rate,
    ) -> Result<RateProfile, ScenarioError> {
        let (profile, factor) = match rate {
            Rate::Segments(segs) => (profile::resolve(cx, p, segs)?, String::new()),
            Rate::Shared(r) => {
                let named = self.profiles.get(&r.profile).ok_or_else(|| {
                    let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
                    cx.unknown(&p.k("profile"), "rate profile", &r.profile, &known)
                })?;
                let share = r.share.unwrap_or(1.0);
                (named.scaled(share), format!("share {share} × "))
            }
        };
        let profile = profile.scaled(self.load_factor);
        let peak = profile
            .segments
            .iter()
            .map(|s| s.max_rate())
            .fold(0.0, f64::max);
        if !peak.is_finite() {
            return Err(cx.err(
                p,
                format!(
                    "× {factor}load_factor {}, the rate is not a finite number of requests per second",
                    self.load_factor
                ),
            ));
        }
        Ok(profile)
    }

    /// Closed-loop `users` (at `p`) × `load_factor`, rounded to the
    /// nearest integer (halves away from zero), at least 1.
    pub fn users(&self, cx: &Resolve<'_>, p: &Path, users: u64) -> Result<u64, ScenarioError> {
        let scaled = (users as f64 * self.load_factor).round().max(1.0);
        if scaled > MAX_USERS as f64 {
            return Err(cx.err(
                p,
                format!(
                    "{users} users × load_factor {} = {scaled}, more than {MAX_USERS}",
                    self.load_factor
                ),
            ));
        }
        Ok(scaled as u64)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::system::compile::load;
    use crate::system::compile::testing::{accepted, assert_refused, base, changed, merged};

    /// The base with a shared profile `sale` (a ramp, a plateau, a daily
    /// cycle) and its workload on `{"profile": "sale"}` plus `fields`.
    fn shared(fields: Value) -> Value {
        let b = base();
        let sale = json!([{ "for": "5s", "ramp_to": 40 },
                          { "for": "5s", "rps": 40 },
                          { "diurnal": { "min": 10, "max": 30, "peak_at": "2s", "period": "4s" } }]);
        let rate = merged(&json!({ "profile": "sale" }), fields);
        changed(
            &b,
            &[
                ("/profiles", json!({ "sale": sale })),
                ("/workloads/0/rate", rate),
            ],
        )
    }

    /// What the traffic knobs refuse: a load factor that is not a positive
    /// number, a bad or nameless profile, a reference to no profile, a bad
    /// share, segments mixed into `{profile, share}` (or a profile into
    /// segments), and scaling past what the limits allow.
    #[test]
    fn refusals() {
        let sale = shared(json!({}));
        assert_refused(
            &sale,
            vec![
                (
                    "/load_factor",
                    json!(0),
                    "load_factor: the load factor must be a finite number > 0 (1 is today's traffic), got 0",
                ),
                (
                    "/load_factor",
                    json!(-1.5),
                    "load_factor: the load factor must be a finite number > 0 (1 is today's traffic), got -1.5",
                ),
                (
                    "/load_factor",
                    json!("inf"),
                    "load_factor: invalid type: string \"inf\", expected f64",
                ),
                (
                    "/profiles/sale",
                    json!([]),
                    "profiles.sale: the rate profile needs at least one segment",
                ),
                (
                    "/profiles/sale/1/rps",
                    json!(-4),
                    "profiles.sale[1].rps: a rate must be a finite number of requests per second >= 0, got -4",
                ),
                (
                    "/profiles/ ",
                    json!([{ "rps": 1 }]),
                    "profiles[\" \"]: a rate profile needs a non-empty name",
                ),
                (
                    "/workloads/0/rate/profile",
                    json!("sael"),
                    "workloads[0].rate.profile: no rate profile named `sael` (known: sale)\n  help: did you mean `sale`?",
                ),
                (
                    "/profiles",
                    json!({}),
                    "workloads[0].rate.profile: no rate profile named `sale` (there are none)",
                ),
                (
                    "/workloads/0/rate/share",
                    json!(0),
                    "workloads[0].rate.share: a share must be a finite number > 0 (a fraction of the profile, or a factor), got 0",
                ),
                (
                    "/workloads/0/rate/share",
                    json!(-0.3),
                    "workloads[0].rate.share: a share must be a finite number > 0 (a fraction of the profile, or a factor), got -0.3",
                ),
                (
                    "/workloads/0/rate/share",
                    json!("half"),
                    "workloads[0].rate.share: invalid type: string \"half\", expected f64",
                ),
                (
                    "/workloads/0/rate/rps",
                    json!(5),
                    "workloads[0].rate.rps: `rps` belongs in a rate segment: a rate is either an array of segments or {\"profile\": NAME, \"share\": NUMBER}, not both",
                ),
                (
                    "/workloads/0/rate/for",
                    json!("5s"),
                    "workloads[0].rate.for: `for` belongs in a rate segment",
                ),
                (
                    "/workloads/0/rate",
                    json!([{ "profile": "sale" }]),
                    "workloads[0].rate[0].profile: unknown field `profile`",
                ),
                (
                    "/workloads/0/rate",
                    json!({ "share": 0.5 }),
                    "workloads[0].rate: missing field `profile`",
                ),
                (
                    "/workloads/0/rate/shar",
                    json!(0.5),
                    "workloads[0].rate.shar: unknown field `shar`\n  help: did you mean `share`?",
                ),
                (
                    "/workloads/0/rate",
                    json!("sale"),
                    "workloads[0].rate: invalid type: string \"sale\", expected an array of rate segments or {\"profile\": NAME, \"share\": NUMBER}",
                ),
            ],
        );
        // A rate past f64 once the share or the load factor multiplies it;
        // users past the limit once the load factor does.
        let huge = changed(&sale, &[("/profiles/sale/1/rps", json!(1e308))]);
        assert_refused(
            &huge,
            vec![
                (
                    "/workloads/0/rate/share",
                    json!(10),
                    "workloads[0].rate: × share 10 × load_factor 1, the rate is not a finite number of requests per second",
                ),
                (
                    "/load_factor",
                    json!(5),
                    "workloads[0].rate: × share 1 × load_factor 5, the rate is not a finite number",
                ),
            ],
        );
        let own = changed(&base(), &[("/workloads/0/rate/0/rps", json!(1e308))]);
        assert_refused(
            &own,
            vec![(
                "/load_factor",
                json!(2),
                "workloads[0].rate: × load_factor 2, the rate is not a finite number",
            )],
        );
        let users = merged(
            &base()["workloads"][0],
            json!({ "rate": null, "users": 1_000_000, "think_time": "1s" }),
        );
        assert_refused(
            &changed(&base(), &[("/workloads/0", users)]),
            vec![(
                "/load_factor",
                json!(1.5),
                "workloads[0].users: 1000000 users × load_factor 1.5 = 1500000, more than 1000000",
            )],
        );
    }

    /// A load factor too large for a number is refused where it is
    /// written (JSON has no infinity).
    #[test]
    fn a_load_factor_past_f64_is_refused_at_its_place() {
        let text = r#"{ "name": "x", "load_factor": 1e999 }"#;
        let err = load("big.json", text, &[])
            .expect_err("refused")
            .to_string();
        assert!(err.starts_with("big.json:1:"), "{err}");
        assert!(err.contains("number out of range"), "{err}");
    }

    /// Every rate of the profile is multiplied by share × load factor —
    /// ramps' ends, plateaus, diurnal troughs and peaks — in that order.
    #[test]
    fn shares_and_the_load_factor_multiply_every_rate() {
        let plain = accepted(&shared(json!({})));
        let scaled = accepted(&changed(
            &shared(json!({ "share": 0.3 })),
            &[("/load_factor", json!(2))],
        ));
        let want = plain.workloads[0].profile.scaled(0.3).scaled(2.0);
        assert_eq!(scaled.workloads[0].profile, want);
        let segs = &scaled.workloads[0].profile.segments;
        assert_eq!((segs[0].from, segs[0].to), (0.0, 40.0 * 0.3 * 2.0));
        assert_eq!((segs[1].from, segs[1].to), (24.0, 24.0));
        let d = segs[2].diurnal.expect("a diurnal segment");
        assert_eq!((d.min, d.max), (10.0 * 0.3 * 2.0, 30.0 * 0.3 * 2.0));
        // Shares on segments written in the workload itself: the same.
        let own = changed(
            &base(),
            &[(
                "/workloads/0/rate",
                shared(json!({}))["profiles"]["sale"].clone(),
            )],
        );
        assert_eq!(
            accepted(&own).workloads[0].profile,
            plain.workloads[0].profile
        );
    }

    /// A load factor of 1, written or not, changes no bit of any rate.
    #[test]
    fn a_load_factor_of_one_changes_nothing() {
        let without = accepted(&shared(json!({})));
        // `"share": null` is no share (the JSON Schema allows it).
        assert_eq!(
            accepted(&shared(json!({ "share": null }))).workloads[0].profile,
            without.workloads[0].profile
        );
        let with = accepted(&changed(
            &shared(json!({ "share": 1 })),
            &[("/load_factor", json!(1))],
        ));
        assert_eq!(with.workloads[0].profile, without.workloads[0].profile);
    }

    /// Closed-loop users are `round(users × load_factor)`, halves away
    /// from zero, at least 1; their rate bound follows.
    #[test]
    fn users_are_scaled_and_rounded_to_the_nearest_integer() {
        for (users, factor, want) in [
            (10, 1.0, 10),
            (10, 1.26, 13),
            (10, 1.24, 12),
            (3, 1.5, 5),
            (7, 0.5, 4),
            (1, 0.1, 1),
            (200, 1.3, 260),
        ] {
            let w = merged(
                &base()["workloads"][0],
                json!({ "rate": null, "users": users, "think_time": "1s" }),
            );
            let m = accepted(&changed(
                &base(),
                &[("/workloads/0", w), ("/load_factor", json!(factor))],
            ));
            let cl = m.workloads[0].users.as_ref().expect("closed loop");
            assert_eq!(cl.users, want, "{users} × {factor}");
            assert_eq!(m.workloads[0].profile.segments[0].from, want as f64);
        }
    }

    /// `--set` reaches the new fields: the top-level factor (created when
    /// absent), a segment of a named profile, and a workload's share.
    #[test]
    fn set_paths_reach_the_load_factor_profiles_and_shares() {
        let text = serde_json::to_string_pretty(&shared(json!({}))).expect("json");
        let sets = [
            "load_factor=1.5".to_string(),
            "profiles.sale[1].rps=60".to_string(),
            "workloads.users.rate.share=0.5".to_string(),
        ];
        let m = load("x.json", &text, &sets).expect("loads").1;
        let segs = &m.workloads[0].profile.segments;
        assert_eq!(segs[1].from, 60.0 * 0.5 * 1.5);
        assert_eq!(segs[0].to, 40.0 * 0.5 * 1.5);
    }
}
