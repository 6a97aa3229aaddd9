//! The component kinds, one folder or file each: its section of the
//! scenario file, its resolution and refusal cases, its state and events,
//! and its section of the results.

pub mod balancer;
pub mod cache;
pub mod call;
pub mod cdn;
pub mod client;
pub mod database;
pub mod queue;
pub mod service;
