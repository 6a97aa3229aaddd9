//! (being written)

use models::results::Results;

use crate::chart::{Chart, ChartError};

/// (being written)
pub fn cache_hit_ratio(_r: &Results) -> Result<Vec<Chart>, ChartError> {
    Ok(Vec::new())
}
