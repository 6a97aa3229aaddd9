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
use crate::model::program::{Instr, Program};
use crate::model::steps::{ScatterShards, Step};
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
        }
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
        self.emit(cx, p, steps, stream, in_queue, &mut instrs, &mut uses)?;
        self.programs.push(Program { instrs });
        self.key_uses.push(uses);
        Ok(ProgramId::new(self.programs.len() - 1))
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
                    self.step_dists.push((
                        dist,
                        format!(
                            "{stream}/{}",
                            crate::scenario::format_path(&sp.0[self.root_len..])
                        ),
                    ));
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
            }
        }
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

/// Puts `ins` before a compiled program's first instruction.
fn prepend(prog: &mut Program, ins: Instr) {
    for i in &mut prog.instrs {
        if let Instr::CacheGet { skip_to, .. } = i {
            *skip_to += 1;
        }
    }
    prog.instrs.insert(0, ins);
}

/// Keys used by a program and, through its publishes, by queue work.
pub fn reachable_keys(
    programs: &[Program],
    key_uses: &[KeyUse],
    queues: &[QueueDef],
    prog: ProgramId,
) -> KeyUse {
    let mut out: KeyUse = key_uses[prog].clone();
    for ins in &programs[prog].instrs {
        if let Instr::Publish { queue, .. } = ins
            && let Some(q) = queues.get(queue.ix())
        {
            out.extend(key_uses[q.program].iter().cloned());
            // Dead letters carry the message's keys on to their queue
            // (validation refused cycles), routed by its partition key.
            let mut dlq = q.dead_letter;
            while let Some(d) = dlq.and_then(|d| queues.get(d.ix()).map(|x| (d.ix(), x))) {
                out.extend(key_uses[d.1.program].iter().cloned());
                if let Some(k) = d.1.partition_key {
                    out.push((k, Path::root("queues").i(d.0).k("partition_key")));
                }
                dlq = d.1.dead_letter;
            }
        }
    }
    out
}
