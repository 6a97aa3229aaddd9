//! (being written)

use models::results::Results;

use crate::chart::{Chart, ChartError};

/// (being written)
pub fn throughput_over_time(_r: &Results) -> Result<Vec<Chart>, ChartError> {
    Ok(Vec::new())
}
