//! The documents capsim writes: a run's results, a sweep's and a plan's,
//! a check's report, and the objectives they judge.

pub mod check;
pub mod results;
pub mod slo;
pub mod sweeps;
