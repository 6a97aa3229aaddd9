//! Small types the file format and the resolved model share: fractions
//! written as numbers or percentages, random failure rates, and where a
//! workload (or a CDN edge) sends its requests.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

use super::ids::{EndpointId, LbId, ServiceId};

/// A fraction written as a number (`0.001`) or a percentage (`"0.1%"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "FractionText", into = "f64")]
pub struct Fraction(pub f64);

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum FractionText {
    Number(f64),
    Text(String),
}

impl TryFrom<FractionText> for Fraction {
    type Error = String;
    fn try_from(t: FractionText) -> Result<Self, String> {
        match t {
            FractionText::Number(v) => Ok(Fraction(v)),
            FractionText::Text(s) => match s.trim().strip_suffix('%') {
                Some(p) => p
                    .trim()
                    .parse::<f64>()
                    .map(|v| Fraction(v / 100.0))
                    .map_err(|_| format!("`{s}` is not a percentage (e.g. \"0.1%\")")),
                None => Err(format!(
                    "`{s}` is not a fraction: write a number (0.001) or a percentage (\"0.1%\")"
                )),
            },
        }
    }
}

impl From<Fraction> for f64 {
    fn from(f: Fraction) -> f64 {
        f.0
    }
}

/// Random failures of a component, each instance independently: up for an
/// exponential time of mean `mtbf`, then down for an exponential time of
/// mean `mttr` (for pods: until the crash is noticed and the container
/// restarted — the restart delay and start-up then follow).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Failures {
    /// Mean time between failures of one instance.
    pub mtbf: SimDuration,
    /// Mean time to repair (for pods: default 0, the restart delay and
    /// start-up model the rest).
    #[serde(default)]
    pub mttr: SimDuration,
}

/// Where a workload sends its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Through a load balancer.
    Lb(LbId),
    /// Straight to a service (replicas chosen in turn).
    Service(ServiceId),
}

/// Where a workload's requests go, resolved: the receiver,
/// the service that executes them, and that service's endpoints.
pub struct Destination<'a> {
    /// The balancer or service named by `target`.
    pub target: Target,
    /// The service behind it.
    pub service: ServiceId,
    /// Its name.
    pub service_name: &'a str,
    /// Its endpoints, with their names.
    pub endpoints: Vec<(EndpointId, &'a str)>,
}
