//! The wiring: the only place (with the results document's root) that
//! lists every component kind. It compiles a scenario into a [`Model`]
//! and runs it.

mod call;
pub mod compile;
pub mod endpoints;
pub mod faults;
mod finish;
mod interpreter;
pub mod kinds;
pub mod limits;
pub mod model;
pub mod objectives;
mod price;
pub mod printable;
pub mod program;
mod request;
pub mod reshard;
pub mod scenario;
pub mod stability;
pub mod topology;
pub mod world;

pub use model::Model;
