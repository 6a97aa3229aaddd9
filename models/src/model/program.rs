//! Compiled step programs: flat instruction lists a job runs from its
//! first instruction to its last.

use super::ids::{CacheId, DbId, KeyId, ProgramId, QueueId};

/// A compiled step program.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Instructions, run from 0 until the end.
    pub instrs: Vec<Instr>,
}

/// A `branch` step's arms: cumulative weights (the last is 1) and the
/// name of the stream its draws come from.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchDef {
    /// Cumulative probabilities, one per arm.
    pub cum: Vec<f64>,
    /// Random stream name.
    pub stream: String,
}

/// One instruction of a compiled program.
#[derive(Debug, Clone, PartialEq)]
pub enum Instr {
    /// Hold the worker for a draw of `Model::step_dists[dist]`.
    Compute {
        /// Index into [`Model::step_dists`].
        dist: usize,
    },
    /// Look `key` up in `cache`; on a hit jump to `skip_to`.
    CacheGet {
        /// The cache.
        cache: CacheId,
        /// Key.
        key: KeyId,
        /// Instruction after the fill.
        skip_to: usize,
    },
    /// Store `key` in `cache` after a miss.
    CacheFill {
        /// The cache.
        cache: CacheId,
        /// Key.
        key: KeyId,
    },
    /// A read on the shard owning `key`.
    Read {
        /// The database.
        db: DbId,
        /// Routing key.
        key: KeyId,
    },
    /// A write on the shard owning `key`, then invalidations.
    Write {
        /// The database.
        db: DbId,
        /// Routing key.
        key: KeyId,
        /// Caches to delete the key from (or, write-through, to store it in).
        invalidate: Vec<CacheId>,
    },
    /// One read on each of `shards` shards of `db` at once; the program
    /// continues when the slowest answers.
    Scatter {
        /// The database.
        db: DbId,
        /// The key whose shard is the first of `shards` consecutive shards
        /// (None: from shard 0, used when every shard is read).
        key: Option<KeyId>,
        /// Shards read, 1 to the database's shard count.
        shards: u32,
    },
    /// Publish to a queue.
    Publish {
        /// The queue.
        queue: QueueId,
        /// Partition key.
        key: Option<KeyId>,
    },
    /// A call to another service: see the call kind (`kinds/call`).
    Call {
        /// Index into the model's call steps.
        call: u32,
    },
    /// Branches run at once by child jobs on the same pod; the program
    /// goes on when all have ended.
    Parallel {
        /// One program per branch.
        programs: Vec<ProgramId>,
    },
    /// Draw one arm by weight and go to its first instruction.
    Branch {
        /// Index into the model's branch steps (weights and stream).
        branch: u32,
        /// Each arm's first instruction (an empty arm: the end of the
        /// step); arms end with a [`Instr::Jump`] past the step.
        arms: Vec<u32>,
    },
    /// Go on at instruction `to`.
    Jump {
        /// The next instruction.
        to: u32,
    },
}
