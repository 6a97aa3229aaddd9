//! capsim's integration tests, one binary with a module per concern.
//!
//! What each section of a scenario refuses (a bad value, a located
//! message) is tested beside the code that refuses it: a table of cases
//! at the end of each kind's file in `models/src/kinds/` and of the
//! cross-kind passes in `models/src/system/` (steps, faults, objectives,
//! names, durations and keys, and the order errors are reported in).
//! Here, bad input goes through the binary: exit codes and locations end
//! to end.

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

/// Issue 14, item 1: prices whose cost overflows are refused at
/// validation by every command; `report` and `check --baseline` refuse a
/// `null` number naming the file, line:column and field; no panic.
mod finite;

/// Bounded memory for any file (issue 14, item 2): runs over the memory
/// budget or the request limit refused at the field that drives them,
/// `--max-memory` and `--max-requests`.
mod limits;

/// Messages that point at the right thing (issue 14, item 6): durations,
/// invalid UTF-8, a byte-order mark, hints for `"12"` and `--vary x=8-16`,
/// kept sweeps, `--out` a file, `-` for standard input.
mod messages;

/// Interruption and `--out` (issue 14, item 4): SIGINT or SIGTERM leaves
/// the previous set byte for byte and no temporary (exit 130, 143); a
/// completed run replaces the whole set; a killed run's temporary goes.
mod interrupt;
/// `capsim schema` (issue 14, item 7): draft 2020-12, deterministic,
/// every shipped scenario valid, misspelt fields, durations and
/// distributions refused as the parser refuses them.
mod schema;
/// Names and terminals (issue 14, items 3 and 8): control characters
/// refused in names and escaped wherever text is printed; `--color`,
/// `NO_COLOR`, tables fitted to the terminal, completions, formula cells
/// neutralised in sweep.csv.
mod terminal;

/// Scenario files in YAML (issue 14, item 7): byte-identical results to
/// the JSON form, `--set`, standard input, located errors, YAML 1.1
/// pitfalls.
mod yaml;

/// `capsim sweep` and `capsim merge`: the same bytes on any thread count
/// and partitioning, grids and `--vary` values, bad input, confidence
/// intervals, common random numbers.
mod sweep;

/// `capsim plan` against Erlang C: the smallest passing concurrency by
/// the search and exhaustively, unstable variants, exit codes, plan.json.
mod plan;

/// The pages of `plan --out` and `sweep --out`: what decided a plan
/// (not p99 here), the star on the chosen variant only, cost and errors
/// pinned and windowed figures on a sweep's page (issue 13, item 5).
mod pages;

/// `capsim plan` over several monotone dimensions against Erlang C: two
/// priced M/M/c work queues, the answer, the variants evaluated, inferred
/// and pruned, agreement with the exhaustive plan; fixed costs.
mod plan_search;

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
/// scatter-gather latency, connection-pool waits (Erlang C).
mod databases;

/// Database and cache failures: random failures against renewal theory,
/// slow-downs against Erlang C, shard and cache outages (what fails, what
/// refills), determinism, and a bad fault through the binary (exit 2).
mod faults;

/// The gateway's token-bucket rate limiter (429s, global and per key) and
/// sessions kept in the pod or in an external store, through pod deaths.
mod gateway;

/// Clients: closed-loop users against the machine-repairman queue and the
/// response time law, retries against Erlang B with independent attempts,
/// the retry budget's cap, abandoned attempts, the retry storm and its
/// cure, diurnal profiles, and bad client settings through the binary
/// (exit 2, file, line and column).
mod clients;

/// Queues: a work queue against M/M/c, a topic against M/M/1 per
/// partition, prefetch against E_c/M/1, retries and dead letters against
/// the attempts law and P-K, hot partitions from zipf keys, network
/// partitions, crashes and rebalances.
mod queues;

/// Services calling services: tandem, branch (Jackson), parallel
/// (fork-join), retries at every layer; bad calls through the binary.
mod calls;

/// The golden gate: every shipped scenario at three seeds, a sweep and
/// the flash sale's report, against committed hashes; how a refactor
/// proves it changed nothing.
mod golden;
/// The topology: edges count what the components count, a database
/// step's latency against M/M/c, the picture in `run --out`.
mod topology;

/// The layering of `models/src`: no import circles, no kind importing
/// another.
mod layering;

/// Scaffolding the theory tests share: load and run a scenario given as
/// JSON, hold a measurement against a closed form.
mod support;

/// Progress bars: on a terminal only, with an estimate of the time left;
/// the engine's progress reports change no result.
mod progress;
