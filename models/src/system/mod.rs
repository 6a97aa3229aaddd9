//! The wiring: the only place (with the results document's root) that
//! lists every component kind. It compiles a scenario into a [`Model`]
//! and runs it.

pub mod compile;
pub mod faults;
pub mod model;
pub mod objectives;
pub mod program;
pub mod reshard;
pub mod scenario;
pub mod stability;

pub use model::Model;
