//! (being written)

use models::sweeps::PlanResult;

use crate::chart::{Chart, ChartError};

/// (being written)
pub fn plan_charts(_p: &PlanResult) -> Result<Vec<Chart>, ChartError> {
    Ok(Vec::new())
}
