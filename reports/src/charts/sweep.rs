//! (being written)

use models::sweeps::SweepResult;

use crate::chart::{Chart, ChartError};

/// (being written)
pub fn sweep_charts(_s: &SweepResult) -> Result<Vec<Chart>, ChartError> {
    Ok(Vec::new())
}
