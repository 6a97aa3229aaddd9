//! Serde helpers for [`SimDuration`] fields written as duration strings.
//!
//! Use with `#[serde(with = "sim_core::dist::serde_duration")]` on a
//! `SimDuration` field and `#[serde(with = "sim_core::dist::serde_duration::option")]`
//! on an `Option<SimDuration>` field (add `#[serde(default)]` to make it
//! optional in the file). Reading accepts anything [`SimDuration::parse`]
//! accepts (`"250us"`, `"3ms"`, `"1.5s"`, `"10m"`); writing produces the
//! [`Display`](std::fmt::Display) form, which reads back to the same value.
//!
//! ```
//! use serde::Deserialize;
//! use sim_core::SimDuration;
//!
//! #[derive(Deserialize)]
//! struct Timeout {
//!     #[serde(with = "sim_core::dist::serde_duration")]
//!     after: SimDuration,
//! }
//! let t: Timeout = serde_json::from_str(r#"{"after": "1.5s"}"#).unwrap();
//! assert_eq!(t.after, SimDuration::from_millis(1500));
//! ```

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

use crate::time::SimDuration;

/// Writes a duration as its display string, e.g. `"3ms"`.
pub fn serialize<S: Serializer>(d: &SimDuration, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

/// Reads a duration string such as `"3ms"`; numbers are rejected because a
/// bare number has no unit.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SimDuration, D::Error> {
    d.deserialize_str(DurationVisitor)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = SimDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration string such as \"250ms\", \"1.5s\" or \"10m\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SimDuration, E> {
        SimDuration::parse(v).map_err(E::custom)
    }
}

/// The same, for `Option<SimDuration>` fields: `None` is written as `null`
/// (or skipped with `skip_serializing_if = "Option::is_none"`), and `null`
/// reads as `None`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::time::SimDuration;

    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    struct Text(#[serde(with = "super")] SimDuration);

    /// Writes `Some(d)` as the display string of `d`, `None` as `null`.
    pub fn serialize<S: Serializer>(d: &Option<SimDuration>, s: S) -> Result<S::Ok, S::Error> {
        d.map(Text).serialize(s)
    }

    /// Reads `null` as `None` and a duration string as `Some`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SimDuration>, D::Error> {
        Ok(Option::<Text>::deserialize(d)?.map(|t| t.0))
    }
}
