//! capsim's integration tests, one binary with a module per concern.

/// Simulation results against queueing theory and other closed forms.
mod validation;

/// Same seed, same results (in-process and through the binary); other
/// seeds, other numbers; named random streams.
mod determinism;

/// Conservation laws and invariants of every results document, on every
/// shipped scenario, Little's law, and random stations (proptest).
mod conservation;

/// The `capsim` binary: formats, `--out`, `--seed`, `--set`, help, and
/// bad input (exit 2, located messages, no output file).
mod cli;

/// `capsim sweep` and `capsim merge`: the same bytes on any thread count
/// and partitioning, grids and `--vary` values, bad input, confidence
/// intervals, common random numbers.
mod sweep;

/// `capsim plan` against Erlang C: the smallest passing concurrency by
/// bisection and exhaustively, unstable variants, exit codes, plan.json.
mod plan;

/// `capsim check`: SLO sections, windows, baselines, JUnit, exit codes.
mod check;

/// Balancing policies against queueing theory, crashes, health checks and
/// the autoscaler.
mod services;

/// Caches and CDN edges: TTL hit ratios against renewal theory, sliding
/// expiry, LFU against LRU under a scan, write-through, the edge in front
/// of an origin, stampedes and request coalescing.
mod caches;

/// Databases against theory: jump and ring resharding, ring balance with
/// virtual nodes, directory placement, read replicas and stale reads,
/// scatter-gather latency, connection-pool waits (Erlang C), and the
/// validation of database settings.
mod databases;
