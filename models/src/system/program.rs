//! The step compiler: endpoint and queue-work steps into flat programs,
//! the keys each program (and what it publishes to) needs, and the
//! invalidations checked once every cache's key is known.

use indexmap::IndexMap;
use sim_core::Dist;

use super::scenario::Scenario;
use crate::kernel::resolve::{Path, Programs, Resolve};
use crate::kinds::queue::{QueueDef, QueueKind};
use crate::kinds::{cache, database, queue};
use crate::model::KeyId;
use crate::model::ids::{CacheId, DbId, ProgramId, QueueId};
use crate::model::program::{BranchDef, Instr, Program};
use crate::model::steps::{BranchArm, CallStep, ScatterShards, Step};
use crate::scenario::ScenarioError;

/// Compiles every program of a scenario, in file order.
pub struct Builder<'a> {
    sc: &'a Scenario,
    /// Compiled programs.
    pub programs: Vec<Program>,
    /// Keys each program uses, with the path of the step that uses them.
    pub key_uses: Vec<KeyUse>,
    /// Distributions of compute steps, with their random stream names.
    pub step_dists: Vec<(Dist, String)>,
    /// Length of the path of the program being compiled.
    root_len: usize,
    /// The key each cache holds (from its first use), with that use's path.
    cache_keys: IndexMap<usize, (KeyId, Path)>,
    /// Invalidations to check once every cache's key is known.
    invalidations: Vec<(usize, KeyId, Path)>,
    /// Call steps, resolved once every service and balancer is (their
    /// index is their `Instr::Call`'s).
    pub calls: Vec<PendingCall>,
    /// Branch steps' weights and streams.
    pub branches: Vec<BranchDef>,
    /// The program being compiled (its sub-programs come after it).
    root: ProgramId,
}

/// A call step as written, with where it is and the program it is in.
#[derive(Debug, Clone)]
pub struct PendingCall {
    /// The step.
    pub spec: CallStep,
    /// Its path (`...call`).
    pub path: Path,
    /// Its random streams' prefix.
    pub stream: String,
    /// The endpoint (or queue work) program it belongs to.
    pub root: ProgramId,
}

/// What the emission of a program's steps carries down to nested steps.
struct Emit<'a, 'r> {
    cx: &'a Resolve<'r>,
    stream: &'a str,
    in_queue: bool,
}

/// Key paths recorded per program for reachability checks.
pub type KeyUse = Vec<(KeyId, Path)>;

impl<'a> Builder<'a> {
    /// A compiler of `sc`'s programs.
    pub fn new(sc: &'a Scenario) -> Self {
        Builder {
            sc,
            programs: Vec::new(),
            key_uses: Vec::new(),
            step_dists: Vec::new(),
            root_len: 0,
            cache_keys: IndexMap::new(),
            invalidations: Vec::new(),
            calls: Vec::new(),
            branches: Vec::new(),
            root: ProgramId(0),
        }
    }

    /// A new, empty program's id (filled by the caller).
    fn reserve(&mut self) -> ProgramId {
        self.programs.push(Program::default());
        self.key_uses.push(Vec::new());
        ProgramId::new(self.programs.len() - 1)
    }

    /// The stream name of the step at `sp` of a program streamed as
    /// `stream`: by the step's place within its program.
    fn step_stream(&self, stream: &str, sp: &Path) -> String {
        format!(
            "{stream}/{}",
            crate::scenario::format_path(&sp.0[self.root_len..])
        )
    }

    /// A write invalidates the written key's value: only meaningful in a
    /// cache that holds that key. Checked once every program is compiled.
    pub fn check_invalidations(&self, cx: &Resolve<'_>) -> Result<(), ScenarioError> {
        let sc = self.sc;
        for (cache, key, path) in &self.invalidations {
            let kname = cx.key_name(*key);
            match self.cache_keys.get(cache) {
                Some((k, _)) if k == key => {}
                Some((k, _)) => {
                    return Err(cx.err(
                        path,
                        format!(
                            "this write routes by `{kname}` but cache `{}` holds `{}` values; it would delete unrelated entries",
                            sc.caches[*cache].name,
                            cx.key_name(*k)
                        ),
                    ));
                }
                None => {
                    return Err(cx.err(
                        path,
                        format!(
                            "cache `{}` is never read by a `cache` step, so there is nothing to invalidate",
                            sc.caches[*cache].name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Programs for Builder<'_> {
    /// Compiles `steps` into a new program and returns its index.
    fn compile(
        &mut self,
        cx: &Resolve<'_>,
        p: &Path,
        steps: &[Step],
        stream: &str,
        in_queue: bool,
    ) -> Result<ProgramId, ScenarioError> {
        if steps.is_empty() {
            return Err(cx.err(p, "a program needs at least one step"));
        }
        let mut instrs = Vec::new();
        let mut uses = Vec::new();
        // Streams are named by the step's place within its program, not in
        // the file, so adding a component elsewhere shifts no one's draws.
        self.root_len = p.0.len();
        let id = self.reserve();
        self.root = id;
        self.emit(cx, p, steps, stream, in_queue, &mut instrs, &mut uses)?;
        self.programs[id] = Program { instrs };
        self.key_uses[id] = uses;
        Ok(id)
    }

    fn add_dist(&mut self, dist: Dist, stream: String) -> usize {
        self.step_dists.push((dist, stream));
        self.step_dists.len() - 1
    }

    fn prepend(&mut self, program: ProgramId, ins: Instr) {
        prepend(&mut self.programs[program], ins);
    }

    fn require_key(&mut self, program: ProgramId, key: KeyId, path: Path) {
        self.key_uses[program].push((key, path));
    }
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        cx: &Resolve<'_>,
        p: &Path,
        steps: &[Step],
        stream: &str,
        in_queue: bool,
        out: &mut Vec<Instr>,
        uses: &mut KeyUse,
    ) -> Result<(), ScenarioError> {
        for (i, step) in steps.iter().enumerate() {
            let sp = p.i(i);
            match step {
                Step::Compute(spec) => {
                    let dp = sp.k("compute");
                    let dist = cx.dist(&dp, spec)?;
                    self.step_dists.push((dist, self.step_stream(stream, &sp)));
                    out.push(Instr::Compute {
                        dist: self.step_dists.len() - 1,
                    });
                }
                Step::Cache(c) => {
                    let cp = sp.k("cache");
                    let cache = cx.index_in(&cp.k("cache"), &c.cache, cache::SECTION, "cache")?;
                    let key = cx.key(&cp.k("key"), &c.key)?;
                    uses.push((key, cp.k("key")));
                    // A cache holds values of one key: its entries are key
                    // values, so two keys would mix up equal values.
                    match self.cache_keys.get(&cache) {
                        Some((k, first)) if *k != key => {
                            return Err(cx.err(
                                &cp.k("key"),
                                format!(
                                    "cache `{}` is already used with key `{}` (at {}); a cache holds one kind of key — use another cache for `{}`",
                                    c.cache,
                                    cx.key_name(*k),
                                    crate::scenario::format_path(&first.0),
                                    c.key
                                ),
                            ));
                        }
                        Some(_) => {}
                        None => {
                            self.cache_keys.insert(cache, (key, cp.k("key")));
                        }
                    }
                    let at = out.len();
                    out.push(Instr::CacheGet {
                        cache: CacheId::new(cache),
                        key,
                        skip_to: 0,
                    });
                    self.emit(
                        cx,
                        &cp.k("on_miss"),
                        &c.on_miss,
                        stream,
                        in_queue,
                        out,
                        uses,
                    )?;
                    out.push(Instr::CacheFill {
                        cache: CacheId::new(cache),
                        key,
                    });
                    let skip = out.len();
                    if let Instr::CacheGet { skip_to, .. } = &mut out[at] {
                        *skip_to = skip;
                    }
                }
                Step::Read(r) => {
                    let rp = sp.k("read");
                    let db = self.db(cx, &rp.k("db"), &r.db)?;
                    let key = self.db_key(cx, &rp, db, r.key.as_deref())?;
                    uses.push((key, rp.k(if r.key.is_some() { "key" } else { "db" })));
                    out.push(Instr::Read {
                        db: DbId::new(db),
                        key,
                    });
                }
                Step::Write(w) => {
                    let wp = sp.k("write");
                    let db = self.db(cx, &wp.k("db"), &w.db)?;
                    let key = self.db_key(cx, &wp, db, w.key.as_deref())?;
                    uses.push((key, wp.k(if w.key.is_some() { "key" } else { "db" })));
                    let mut invalidate = Vec::new();
                    for (j, c) in w.invalidate.iter().enumerate() {
                        let ip = wp.k("invalidate").i(j);
                        let cache = cx.index_in(&ip, c, cache::SECTION, "cache")?;
                        self.invalidations.push((cache, key, ip));
                        invalidate.push(CacheId::new(cache));
                    }
                    out.push(Instr::Write {
                        db: DbId::new(db),
                        key,
                        invalidate,
                    });
                }
                Step::Scatter(sg) => {
                    let gp = sp.k("scatter");
                    let db = self.db(cx, &gp.k("db"), &sg.db)?;
                    let n = self.sc.databases[db].shards;
                    let (key, shards) = match sg.shards {
                        ScatterShards::All => {
                            if sg.key.is_some() {
                                return Err(cx.err(
                                    &gp.k("key"),
                                    "`key` picks the first of a number of shards; with \"shards\": \"all\" every shard is read",
                                ));
                            }
                            (None, n)
                        }
                        ScatterShards::Count(k) => {
                            // A database without shards is reported with
                            // the database.
                            if k == 0 || (n > 0 && k > n) {
                                return Err(cx.err(
                                    &gp.k("shards"),
                                    format!(
                                        "a scatter reads 1 to {n} shards of `{}` (\"all\" for every shard), got {k}",
                                        sg.db
                                    ),
                                ));
                            }
                            let key = self.db_key(cx, &gp, db, sg.key.as_deref())?;
                            uses.push((key, gp.k(if sg.key.is_some() { "key" } else { "db" })));
                            (Some(key), k)
                        }
                    };
                    out.push(Instr::Scatter {
                        db: DbId::new(db),
                        key,
                        shards,
                    });
                }
                Step::Publish(pb) => {
                    let pp = sp.k("publish");
                    if in_queue {
                        return Err(cx.err(
                            &pp,
                            "publishing from a queue consumer's work is not supported in format v1",
                        ));
                    }
                    let queue = cx.index_in(&pp.k("queue"), &pb.queue, queue::SECTION, "queue")?;
                    let qdef = &self.sc.queues[queue];
                    if qdef.kind == QueueKind::WorkQueue && pb.key.is_some() {
                        return Err(cx.err(
                            &pp.k("key"),
                            format!("`{}` is a work queue: one FIFO without partitions, so a publish to it takes no `key`", pb.queue),
                        ));
                    }
                    let key = match (&pb.key, &qdef.partition_key) {
                        (Some(k), _) => Some(cx.key(&pp.k("key"), k)?),
                        (None, Some(k)) => {
                            Some(cx.key(&Path::root("queues").i(queue).k("partition_key"), k)?)
                        }
                        (None, None) => None,
                    };
                    if let Some(k) = key {
                        uses.push((k, pp.k(if pb.key.is_some() { "key" } else { "queue" })));
                    }
                    out.push(Instr::Publish {
                        queue: QueueId::new(queue),
                        key,
                    });
                }
                Step::Call(c) => {
                    let cp = sp.k("call");
                    not_in_queue(cx, &cp, in_queue, "make calls")?;
                    out.push(Instr::Call {
                        call: self.calls.len() as u32,
                    });
                    self.calls.push(PendingCall {
                        spec: (**c).clone(),
                        path: cp,
                        stream: self.step_stream(stream, &sp),
                        root: self.root,
                    });
                }
                Step::Parallel(branches) => {
                    let pp = sp.k("parallel");
                    not_in_queue(cx, &pp, in_queue, "run parallel branches")?;
                    let programs = self.parallel(cx, &pp, branches, stream)?;
                    out.push(Instr::Parallel { programs });
                }
                Step::Branch(arms) => {
                    let stream_of_step = self.step_stream(stream, &sp);
                    let bp = sp.k("branch");
                    let ctx = Emit {
                        cx,
                        stream,
                        in_queue,
                    };
                    self.branch(&ctx, &bp, arms, stream_of_step, out, uses)?;
                }
            }
        }
        Ok(())
    }

    /// Each branch of the `parallel` step at `pp` as a program of its own.
    fn parallel(
        &mut self,
        cx: &Resolve<'_>,
        pp: &Path,
        branches: &[Vec<Step>],
        stream: &str,
    ) -> Result<Vec<ProgramId>, ScenarioError> {
        if branches.is_empty() {
            return Err(cx.err(pp, "a parallel step needs at least one branch"));
        }
        let mut programs = Vec::new();
        for (k, branch) in branches.iter().enumerate() {
            let bp = pp.i(k);
            if branch.is_empty() {
                return Err(cx.err(&bp, "a parallel branch needs at least one step"));
            }
            let id = self.reserve();
            let (mut instrs, mut uses) = (Vec::new(), Vec::new());
            self.emit(cx, &bp, branch, stream, false, &mut instrs, &mut uses)?;
            self.programs[id] = Program { instrs };
            self.key_uses[id] = uses;
            programs.push(id);
        }
        Ok(programs)
    }

    /// The `branch` step at `bp`: a draw among the arms, each arm's steps
    /// inline and ending with a jump past the step (an empty arm is that
    /// jump alone).
    fn branch(
        &mut self,
        e: &Emit<'_, '_>,
        bp: &Path,
        arms: &[BranchArm],
        stream: String,
        out: &mut Vec<Instr>,
        uses: &mut KeyUse,
    ) -> Result<(), ScenarioError> {
        let cx = e.cx;
        if arms.is_empty() {
            return Err(cx.err(bp, "a branch step needs at least one arm"));
        }
        let total: f64 = arms.iter().map(|a| a.weight).sum();
        let mut cum = Vec::new();
        let mut acc = 0.0;
        for (k, arm) in arms.iter().enumerate() {
            let w = arm.weight;
            if !(w.is_finite() && w > 0.0) {
                return Err(cx.err(
                    &bp.i(k).k("weight"),
                    format!("a branch weight must be a positive number, got {w}"),
                ));
            }
            acc += w / total;
            cum.push(acc);
        }
        if let Some(last) = cum.last_mut() {
            *last = 1.0;
        }
        let branch = self.branches.len() as u32;
        self.branches.push(BranchDef { cum, stream });
        let at = out.len();
        out.push(Instr::Jump { to: 0 }); // the branch, once its arms are known
        let (mut starts, mut jumps) = (Vec::new(), Vec::new());
        for (k, arm) in arms.iter().enumerate() {
            starts.push(out.len() as u32);
            let ap = bp.i(k).k("steps");
            self.emit(cx, &ap, &arm.steps, e.stream, e.in_queue, out, uses)?;
            jumps.push(out.len());
            out.push(Instr::Jump { to: 0 });
        }
        let end = out.len() as u32;
        for j in jumps {
            out[j] = Instr::Jump { to: end };
        }
        out[at] = Instr::Branch {
            branch,
            arms: starts,
        };
        Ok(())
    }

    fn db(&self, cx: &Resolve<'_>, p: &Path, name: &str) -> Result<usize, ScenarioError> {
        cx.index_in(p, name, database::SECTION, "database")
    }

    fn db_key(
        &self,
        cx: &Resolve<'_>,
        sp: &Path,
        db: usize,
        key: Option<&str>,
    ) -> Result<KeyId, ScenarioError> {
        match key {
            Some(k) => cx.key(&sp.k("key"), k),
            None => {
                let d = &self.sc.databases[db];
                cx.key(&Path::root("databases").i(db).k("shard_key"), &d.shard_key)
            }
        }
    }
}

/// Refuses a step a queue consumer's work cannot have (`what` it cannot
/// do), at `p`.
fn not_in_queue(
    cx: &Resolve<'_>,
    p: &Path,
    in_queue: bool,
    what: &str,
) -> Result<(), ScenarioError> {
    if in_queue {
        return Err(cx.err(
            p,
            format!("a queue consumer's work cannot {what} (only a service's endpoints can)"),
        ));
    }
    Ok(())
}

/// Puts `ins` before a compiled program's first instruction.
fn prepend(prog: &mut Program, ins: Instr) {
    for i in &mut prog.instrs {
        match i {
            Instr::CacheGet { skip_to, .. } => *skip_to += 1,
            Instr::Jump { to } => *to += 1,
            Instr::Branch { arms, .. } => arms.iter_mut().for_each(|a| *a += 1),
            _ => {}
        }
    }
    prog.instrs.insert(0, ins);
}

/// Keys used by a program and, through its publishes, its parallel
/// branches and its calls (to any depth), by everything it reaches.
pub fn reachable_keys(
    programs: &[Program],
    key_uses: &[KeyUse],
    queues: &[QueueDef],
    callee: &dyn Fn(u32) -> ProgramId,
    prog: ProgramId,
) -> KeyUse {
    let mut out: KeyUse = Vec::new();
    let mut seen = vec![false; programs.len()];
    let mut todo = vec![prog];
    while let Some(p) = todo.pop() {
        if std::mem::replace(&mut seen[p.ix()], true) {
            continue;
        }
        out.extend(key_uses[p].iter().cloned());
        for ins in &programs[p].instrs {
            match ins {
                Instr::Publish { queue, .. } => {
                    if let Some(q) = queues.get(queue.ix()) {
                        queue_keys(key_uses, queues, q, &mut out);
                    }
                }
                Instr::Parallel { programs } => todo.extend(programs.iter().copied()),
                Instr::Call { call } => todo.push(callee(*call)),
                _ => {}
            }
        }
    }
    out
}

/// The keys a message published to `q` needs: its work's, and its dead
/// letters' on to their queues (validation refused cycles), routed by
/// their partition keys.
fn queue_keys(key_uses: &[KeyUse], queues: &[QueueDef], q: &QueueDef, out: &mut KeyUse) {
    out.extend(key_uses[q.program].iter().cloned());
    let mut dlq = q.dead_letter;
    while let Some(d) = dlq.and_then(|d| queues.get(d.ix()).map(|x| (d.ix(), x))) {
        out.extend(key_uses[d.1.program].iter().cloned());
        if let Some(k) = d.1.partition_key {
            out.push((k, Path::root("queues").i(d.0).k("partition_key")));
        }
        dlq = d.1.dead_letter;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::system::compile::testing::{accepted, assert_refused, base, changed, merged};

    /// What the step compiler refuses: an empty program, a bad compute
    /// step, caches, databases, queues and keys that do not exist, a cache
    /// used with two keys, scatters over more shards than there are or
    /// with a key for every shard, a publish from a queue's work or with a
    /// key to a work queue, invalidations of a cache holding another key
    /// or never read.
    #[test]
    fn refusals() {
        let b = base();
        let no_key = "no key drawn by any workload named `usr` (known: user_id, item_id)";
        let miss = "/services/0/endpoints/get/1/cache/on_miss/0";
        let scatter = "/services/0/endpoints/get/2";
        let publish = "/services/0/endpoints/put/1/publish";
        let write = "/services/0/endpoints/put/0/write";
        assert_refused(
            &b,
            vec![
                (
                    "/services/0/endpoints/get",
                    json!([]),
                    "services[0].endpoints.get: a program needs at least one step",
                ),
                (
                    "/queues/0/work",
                    json!([]),
                    "queues[0].work: a program needs at least one step",
                ),
                (
                    "/services/0/endpoints/get/0/compute",
                    json!({ "exponential": { "mean": "0s" } }),
                    "services[0].endpoints.get[0].compute: exponential: mean (0s) must be positive",
                ),
                (
                    "/services/0/endpoints/get/1/cache/cache",
                    json!("cc"),
                    "services[0].endpoints.get[1].cache.cache: no cache named `cc` (known: c)",
                ),
                (
                    "/services/0/endpoints/get/1/cache/key",
                    json!("usr"),
                    &format!("services[0].endpoints.get[1].cache.key: {no_key}"),
                ),
                (
                    "/services/0/endpoints/put/2",
                    json!({ "cache": { "cache": "c", "key": "item_id", "on_miss": [{ "compute": "1ms" }] } }),
                    "services[0].endpoints.put[2].cache.key: cache `c` is already used with key `user_id` (at services[0].endpoints.get[1].cache.key); a cache holds one kind of key — use another cache for `item_id`",
                ),
                (
                    &format!("{miss}/read/db"),
                    json!("user-db"),
                    "services[0].endpoints.get[1].cache.on_miss[0].read.db: no database named `user-db` (known: d)",
                ),
                (
                    &format!("{miss}/read/key"),
                    json!("usr"),
                    &format!("services[0].endpoints.get[1].cache.on_miss[0].read.key: {no_key}"),
                ),
                (
                    &format!("{write}/db"),
                    json!("e"),
                    "services[0].endpoints.put[0].write.db: no database named `e` (known: d)",
                ),
                (
                    &format!("{write}/key"),
                    json!("usr"),
                    &format!("services[0].endpoints.put[0].write.key: {no_key}"),
                ),
                (
                    &format!("{write}/invalidate/0"),
                    json!("c2"),
                    "services[0].endpoints.put[0].write.invalidate[0]: no cache named `c2` (known: c)",
                ),
                (
                    &format!("{write}/key"),
                    json!("item_id"),
                    "services[0].endpoints.put[0].write.invalidate[0]: this write routes by `item_id` but cache `c` holds `user_id` values; it would delete unrelated entries",
                ),
                (
                    scatter,
                    json!({ "scatter": { "db": "d", "key": "user_id" } }),
                    "services[0].endpoints.get[2].scatter.key: `key` picks the first of a number of shards; with \"shards\": \"all\" every shard is read",
                ),
                (
                    scatter,
                    json!({ "scatter": { "db": "d", "shards": 3 } }),
                    "services[0].endpoints.get[2].scatter.shards: a scatter reads 1 to 2 shards of `d` (\"all\" for every shard), got 3",
                ),
                (
                    scatter,
                    json!({ "scatter": { "db": "d", "shards": 0 } }),
                    "services[0].endpoints.get[2].scatter.shards: a scatter reads 1 to 2 shards of `d` (\"all\" for every shard), got 0",
                ),
                (
                    scatter,
                    json!({ "scatter": { "db": "d", "shards": "some" } }),
                    "services[0].endpoints.get[2].scatter.shards: `some` is not a number of shards: write \"all\" or a count such as 3",
                ),
                (
                    scatter,
                    json!({ "scatter": { "db": "e" } }),
                    "services[0].endpoints.get[2].scatter.db: no database named `e` (known: d)",
                ),
                (
                    scatter,
                    json!({ "scatter": { "db": "d", "shards": 1, "key": "usr" } }),
                    &format!("services[0].endpoints.get[2].scatter.key: {no_key}"),
                ),
                (
                    "/queues/0/work/1",
                    json!({ "publish": { "queue": "q" } }),
                    "queues[0].work[1].publish: publishing from a queue consumer's work is not supported in format v1",
                ),
                (
                    &format!("{publish}/queue"),
                    json!("qq"),
                    "services[0].endpoints.put[1].publish.queue: no queue named `qq` (known: q)",
                ),
                (
                    &format!("{publish}/key"),
                    json!("usr"),
                    &format!("services[0].endpoints.put[1].publish.key: {no_key}"),
                ),
                (
                    "/queues/0/partition_key",
                    json!("usr"),
                    &format!("queues[0].partition_key: {no_key}"),
                ),
            ],
        );
        // With a second cache, and with a work queue.
        let wq = merged(
            &b["queues"][0],
            json!({ "kind": "work_queue", "partitions": null }),
        );
        for (change, (pointer, value, want)) in [
            (
                (
                    "/caches/1",
                    merged(&b["caches"][0], json!({ "name": "c2" })),
                ),
                (
                    format!("{write}/invalidate/0"),
                    json!("c2"),
                    "services[0].endpoints.put[0].write.invalidate[0]: cache `c2` is never read by a `cache` step, so there is nothing to invalidate",
                ),
            ),
            (
                ("/queues/0", wq),
                (
                    format!("{publish}/key"),
                    json!("user_id"),
                    "services[0].endpoints.put[1].publish.key: `q` is a work queue: one FIFO without partitions, so a publish to it takes no `key`",
                ),
            ),
        ] {
            assert_refused(
                &changed(&b, &[change]),
                vec![(pointer.as_str(), value, want)],
            );
        }
    }

    /// A scatter over some shards, and over all of them, compiles.
    #[test]
    fn scatters_compile() {
        for scatter in [
            json!({ "db": "d", "shards": 2, "key": "user_id" }),
            json!({ "db": "d" }),
        ] {
            let step = json!({ "scatter": scatter });
            accepted(&changed(&base(), &[("/services/0/endpoints/get/2", step)]));
        }
    }
}
