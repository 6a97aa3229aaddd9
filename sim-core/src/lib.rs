//! # sim-core: the capsim engine
//!
//! This crate knows nothing about web systems. It provides the pieces every
//! discrete-event model is built from:
//!
//! - [`time`]: [`SimTime`] and [`SimDuration`], integer nanoseconds (never
//!   `f64` on the clock), and the duration strings of scenario files.
//! - [`queue`]: [`EventQueue`], ordered by `(time, insertion sequence)`;
//!   events at the same instant fire first-in, first-out.
//! - [`rng`]: [`RngStream`], a portable generator seeded from the run's seed
//!   and a stream name, so adding a component shifts no one else's draws.
//! - [`dist`]: [`Dist`], the latency distributions of scenario files, each
//!   sampling whole nanoseconds.
//! - [`stats`]: streaming statistics in bounded memory: HDR histograms,
//!   time-weighted averages, fixed-interval time series, Welford moments and
//!   Student-t confidence intervals.
//!
//! A model owns an `EventQueue<MyEvent>` where `MyEvent` is a plain enum,
//! pops events in a loop and matches on them:
//!
//! ```
//! use sim_core::{EventQueue, SimDuration, SimTime};
//! enum Ev { Arrive, Leave }
//! let mut q = EventQueue::new();
//! q.push(SimTime::ZERO + SimDuration::from_millis(5), Ev::Leave);
//! q.push(SimTime::ZERO + SimDuration::from_millis(5), Ev::Arrive);
//! // Same instant: first scheduled, first popped.
//! assert!(matches!(q.pop(), Some((_, Ev::Leave))));
//! assert!(matches!(q.pop(), Some((_, Ev::Arrive))));
//! assert_eq!(q.now(), SimTime(5_000_000));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod dist;
pub mod queue;
pub mod rng;
pub mod stats;
pub mod theory;
pub mod time;

pub use dist::{Dist, DistError, DistSpec};
pub use queue::{EventQueue, ScheduleInPast};
pub use rng::{RngStream, stable_hash};
pub use time::{DurationError, SimDuration, SimTime};
