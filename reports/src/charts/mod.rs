//! One chart kind per file.

mod latency;

pub use latency::latency_over_time;
