//! What every component kind builds on, naming none of them: the run's
//! context ([`Cx`]: clock and event queue, the job slab and the keys jobs
//! carry, the request ledger, the series layout, random streams), jobs and
//! where their answers go, and the failure machinery nodes share.

pub mod backend;
pub mod cx;
pub mod failures;
pub mod job;
pub mod kind;
pub mod ledger;
pub mod outcome;
pub mod resolve;
pub mod retry;
pub mod store;

pub use cx::Cx;
