//! capsim's integration tests, one binary with a module per concern.

/// Simulation results against queueing theory and other closed forms.
mod validation;
