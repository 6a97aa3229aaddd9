//! # capsim
//!
//! The command-line front of capsim: argument definitions and glue. The
//! engine lives in `sim-core`, the simulated system in `models`, and
//! rendering in `reports`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod check;
pub mod cli;
pub mod input;
pub mod interrupt;
pub mod outdir;
pub mod output;
pub mod plan;
pub mod progress;
pub mod sweep;
pub mod term;
