//! The shared vocabulary of the file format and the resolved model: typed
//! ids, keys, steps and programs, faults, and a few small value types. It
//! imports nothing from the file machinery (`scenario/`) and names no
//! component kind's state.

pub mod faults;
pub mod ids;
pub mod keys;
pub mod program;
pub mod retry;
pub mod steps;
pub mod vocab;

pub use ids::KeyId;
