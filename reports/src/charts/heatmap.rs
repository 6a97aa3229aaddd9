//! (being written)

use models::results::Results;

use crate::chart::{Chart, ChartError};

/// (being written)
pub fn shard_heatmaps(_r: &Results) -> Result<Vec<Chart>, ChartError> {
    Ok(Vec::new())
}
