//! One chart kind per file. Each function returns the charts of its kind
//! for a document (none when the document has nothing of that kind).

mod cache;
mod cdf;
mod check;
mod heatmap;
mod latency;
mod limits;
mod plan;
mod pods;
mod queue;
mod sweep;
mod throughput;
mod topology;
mod utilisation;

pub use cache::cache_hit_ratio;
pub use cdf::latency_cdf;
pub use check::check_charts;
pub use heatmap::shard_heatmaps;
pub use latency::latency_over_time;
pub use plan::plan_charts;
pub use pods::pods_over_time;
pub use queue::queue_lag;
pub use sweep::sweep_charts;
pub use throughput::throughput_over_time;
pub use topology::{TOPOLOGY_FILE, topology};
pub use utilisation::utilisation_over_time;
