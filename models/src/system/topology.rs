//! The system as a graph (the results' `topology`): every component is a
//! node, and every path requests and messages take from one component to
//! another is an edge — a workload's requests, a CDN edge's origin
//! fetches, a balancer's dispatches, the steps of endpoints and of queue
//! work, dead letters.
//!
//! The edges are found once, from the model ([`TopologyDef::build`]). The
//! run counts what goes along each edge in the measured period and times
//! the edges that are waits ([`EdgeStats`]): a workload's requests as its
//! client sees them, and each step as the job that made it waits for it.
//! A job remembers the edge of the step it waits on and when the step
//! began; the step ends at the job's next turn in the interpreter.

use sim_core::stats::{CoarseHistogram, LatencyHistogram};

use super::model::Model;
use crate::doc::results::{Results, Topology, TopologyEdge, TopologyNode};
use crate::kernel::kind::Finish;
use crate::model::ids::ProgramId;
use crate::model::program::Instr;
use crate::model::vocab::Target;

/// "No edge": the instruction is not a step to another component.
pub const NO_EDGE: u32 = u32::MAX;

/// A component of the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A workload (its clients).
    Workload(usize),
    /// A load balancer.
    Lb(usize),
    /// A CDN edge.
    Cdn(usize),
    /// A service.
    Service(usize),
    /// A cache.
    Cache(usize),
    /// A database.
    Db(usize),
    /// A queue with its consumer group.
    Queue(usize),
}

impl Node {
    /// Where a workload's requests or a call go.
    fn target(t: Target) -> Node {
        match t {
            Target::Lb(l) => Node::Lb(l.ix()),
            Target::Service(s) => Node::Service(s.ix()),
        }
    }

    /// The node's kind and name, as the results name them.
    fn describe(self, m: &Model) -> (&'static str, &str) {
        match self {
            Node::Workload(i) => ("workload", &m.workloads[i].name),
            Node::Lb(i) => ("load_balancer", &m.load_balancers[i].name),
            Node::Cdn(i) => ("cdn", &m.cdns[i].name),
            Node::Service(i) => ("service", &m.services[i].name),
            Node::Cache(i) => ("cache", &m.caches[i].name),
            Node::Db(i) => ("database", &m.databases[i].name),
            Node::Queue(i) => ("queue", &m.queues[i].name),
        }
    }

    /// `kind:name`.
    fn id(self, m: &Model) -> String {
        let (kind, name) = self.describe(m);
        format!("{kind}:{name}")
    }
}

/// What travels along an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A workload's attempts.
    Requests,
    /// A CDN edge's requests to its origin (misses and uncached ones).
    Origin,
    /// A balancer's dispatches to its service's pods.
    Route,
    /// Cache lookups.
    Lookup,
    /// Database reads.
    Read,
    /// Database writes.
    Write,
    /// Scatter-gather reads (one per step).
    Scatter,
    /// Publishes to a queue.
    Publish,
    /// A call step's calls.
    Call,
    /// Messages moved to a dead-letter queue.
    DeadLetter,
}

impl EdgeKind {
    /// The name in the results.
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::Requests => "requests",
            EdgeKind::Origin => "origin",
            EdgeKind::Route => "route",
            EdgeKind::Lookup => "lookup",
            EdgeKind::Read => "read",
            EdgeKind::Write => "write",
            EdgeKind::Scatter => "scatter",
            EdgeKind::Publish => "publish",
            EdgeKind::Call => "call",
            EdgeKind::DeadLetter => "dead_letter",
        }
    }

    /// The edge is a wait its sender times.
    fn timed(self) -> bool {
        !matches!(
            self,
            EdgeKind::Origin | EdgeKind::Route | EdgeKind::DeadLetter
        )
    }
}

/// One edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeDef {
    /// The sender.
    pub from: Node,
    /// The receiver.
    pub to: Node,
    /// What travels.
    pub kind: EdgeKind,
}

/// The edges of a model and where the run meets them.
#[derive(Debug, Clone, Default)]
pub struct TopologyDef {
    /// Every edge, in the order of first use: workloads, balancers,
    /// services' endpoints, queues' work.
    pub edges: Vec<EdgeDef>,
    /// Per program, per instruction: the edge its step goes along
    /// ([`NO_EDGE`] for compute, cache fills, branches, jumps and
    /// parallel steps, which stay inside the component).
    pub steps: Vec<Vec<u32>>,
    /// Per workload: its requests' edge.
    pub workloads: Vec<u32>,
    /// The workloads' edges are timed as the run goes (more than one
    /// workload); with one, its edge's latency is the overall latency,
    /// whose samples are the same.
    pub time_workloads: bool,
    /// Per balancer: its dispatches' edge.
    pub balancers: Vec<u32>,
    /// Per CDN edge: its origin requests' edge.
    pub cdns: Vec<u32>,
    /// Per queue: its dead letters' edge ([`NO_EDGE`] without a
    /// dead-letter queue).
    pub dead_letters: Vec<u32>,
}

impl TopologyDef {
    /// The edges of `m`.
    pub fn build(m: &Model) -> TopologyDef {
        let mut t = TopologyDef {
            time_workloads: m.workloads.len() > 1,
            steps: m
                .programs
                .iter()
                .map(|p| vec![NO_EDGE; p.instrs.len()])
                .collect(),
            ..TopologyDef::default()
        };
        for (w, def) in m.workloads.iter().enumerate() {
            let origin = Node::target(def.target);
            let cdn = m.cdns.iter().position(|c| c.origin == def.target);
            let to = cdn.map_or(origin, Node::Cdn);
            let e = t.edge(Node::Workload(w), to, EdgeKind::Requests);
            t.workloads.push(e);
        }
        for (c, def) in m.cdns.iter().enumerate() {
            let e = t.edge(Node::Cdn(c), Node::target(def.origin), EdgeKind::Origin);
            t.cdns.push(e);
        }
        for (l, def) in m.load_balancers.iter().enumerate() {
            let e = t.edge(
                Node::Lb(l),
                Node::Service(def.service.ix()),
                EdgeKind::Route,
            );
            t.balancers.push(e);
        }
        for (s, def) in m.services.iter().enumerate() {
            for &ep in &def.endpoints {
                t.walk(m, Node::Service(s), m.endpoints[ep].program);
            }
        }
        for (q, def) in m.queues.iter().enumerate() {
            t.walk(m, Node::Queue(q), def.program);
            let dlq = def.dead_letter.map_or(NO_EDGE, |d| {
                t.edge(Node::Queue(q), Node::Queue(d.ix()), EdgeKind::DeadLetter)
            });
            t.dead_letters.push(dlq);
        }
        t
    }

    /// The edge `from → to` carrying `kind`, added if new.
    fn edge(&mut self, from: Node, to: Node, kind: EdgeKind) -> u32 {
        let def = EdgeDef { from, to, kind };
        let at = self
            .edges
            .iter()
            .position(|e| *e == def)
            .unwrap_or_else(|| {
                self.edges.push(def);
                self.edges.len() - 1
            });
        at as u32
    }

    /// Assigns the steps of program `p`, run by `owner`, to their edges
    /// (the branches of its parallel steps too).
    fn walk(&mut self, m: &Model, owner: Node, p: ProgramId) {
        for (pc, ins) in m.programs[p].instrs.iter().enumerate() {
            let (to, kind) = match ins {
                Instr::CacheGet { cache, .. } => (Node::Cache(cache.ix()), EdgeKind::Lookup),
                Instr::Read { db, .. } => (Node::Db(db.ix()), EdgeKind::Read),
                Instr::Write { db, .. } => (Node::Db(db.ix()), EdgeKind::Write),
                Instr::Scatter { db, .. } => (Node::Db(db.ix()), EdgeKind::Scatter),
                Instr::Publish { queue, .. } => (Node::Queue(queue.ix()), EdgeKind::Publish),
                Instr::Call { call } => {
                    (Node::target(m.calls[*call as usize].target), EdgeKind::Call)
                }
                Instr::Parallel { programs } => {
                    for &b in programs {
                        self.walk(m, owner, b);
                    }
                    continue;
                }
                Instr::Compute { .. }
                | Instr::CacheFill { .. }
                | Instr::Branch { .. }
                | Instr::Jump { .. } => continue,
            };
            self.steps[p][pc] = self.edge(owner, to, kind);
        }
    }
}

/// What went along each edge in the measured period.
#[derive(Debug, Clone)]
pub struct EdgeStats {
    counts: Vec<u64>,
    /// Timed edges' latencies, allocated at their first.
    latency: Vec<Option<Box<CoarseHistogram>>>,
}

impl EdgeStats {
    /// Nothing yet on the edges of `def`.
    pub fn new(def: &TopologyDef) -> Self {
        EdgeStats {
            counts: vec![0; def.edges.len()],
            latency: vec![None; def.edges.len()],
        }
    }

    /// One more went along edge `e` ([`NO_EDGE`]: nothing to count).
    #[inline]
    pub fn count(&mut self, e: u32) {
        if let Some(c) = self.counts.get_mut(e as usize) {
            *c += 1;
        }
    }

    /// One went along timed edge `e` in `ns` ([`NO_EDGE`]: nothing to
    /// record).
    #[inline]
    pub fn record(&mut self, e: u32, ns: u64) {
        if let Some(h) = self.latency.get_mut(e as usize) {
            h.get_or_insert_with(|| Box::new(CoarseHistogram::new()))
                .record(ns);
        }
    }

    /// The results' topology: the nodes with their peak utilisation (from
    /// `r`'s sections and series), the edges with what went along them
    /// (a single workload's latency from `overall`, the users' ok answers).
    pub fn finish(
        &self,
        m: &Model,
        r: &Results,
        fin: &Finish<'_>,
        overall: &LatencyHistogram,
    ) -> Topology {
        let def = &m.topology;
        let measured_s = fin.measured_s();
        let (first, last) = measured_buckets(fin);
        let peak = |values: &[f64]| -> f64 {
            let end = last.min(values.len());
            let window = if first < end {
                &values[first..end]
            } else {
                values
            };
            window.iter().copied().fold(0.0, f64::max)
        };
        let mut nodes = Vec::new();
        let mut add = |node: Node, peak_utilisation: Option<f64>| {
            let (kind, name) = node.describe(m);
            nodes.push(TopologyNode {
                id: node.id(m),
                kind: kind.to_string(),
                name: name.to_string(),
                peak_utilisation,
            });
        };
        (0..m.workloads.len()).for_each(|i| add(Node::Workload(i), None));
        (0..m.load_balancers.len()).for_each(|i| add(Node::Lb(i), None));
        (0..m.cdns.len()).for_each(|i| add(Node::Cdn(i), None));
        for (i, s) in r.time_series.services.iter().enumerate() {
            add(Node::Service(i), Some(peak(&s.utilisation)));
        }
        (0..m.caches.len()).for_each(|i| add(Node::Cache(i), None));
        for (i, d) in r.time_series.databases.iter().enumerate() {
            let busiest = d.shard_utilisation.iter().map(|s| peak(s));
            add(Node::Db(i), Some(busiest.fold(0.0, f64::max)));
        }
        for (i, q) in r.queues.iter().enumerate() {
            let busy = (q.consumers > 0).then_some(q.consumer_utilisation);
            add(Node::Queue(i), busy);
        }

        // Counted from the components' own figures: origin requests and
        // dead letters.
        let mut counts = self.counts.clone();
        for (c, &e) in def.cdns.iter().enumerate() {
            counts[e as usize] = r.cdns[c].origin_requests;
        }
        for (q, &e) in def.dead_letters.iter().enumerate() {
            if e != NO_EDGE {
                counts[e as usize] += r.queues[q].dead_lettered;
            }
        }
        let edges = def
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| TopologyEdge {
                from: e.from.id(m),
                to: e.to.id(m),
                kind: e.kind.name().to_string(),
                count: counts[i],
                rate_rps: if measured_s > 0.0 {
                    counts[i] as f64 / measured_s
                } else {
                    0.0
                },
                latency: e.kind.timed().then(|| {
                    if e.kind == EdgeKind::Requests && !def.time_workloads {
                        return overall.summary();
                    }
                    self.latency[i]
                        .as_ref()
                        .map(|h| h.summary())
                        .unwrap_or_default()
                }),
            })
            .collect();
        Topology { nodes, edges }
    }
}

/// The time-series buckets wholly inside the measured period, as a range
/// `first..last`.
fn measured_buckets(fin: &Finish<'_>) -> (usize, usize) {
    let width = fin.spec.interval.0.max(1);
    let from = fin.period.warmup.0;
    let to = fin.period.measure_end.0.min(fin.period.end.0);
    (from.div_ceil(width) as usize, (to / width) as usize)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::system::compile::testing::accepted;

    /// Every step to another component is an edge from the service (or
    /// queue) that runs it, a parallel branch's steps included; repeated
    /// steps share their edge; compute steps have none.
    #[test]
    fn edges_follow_the_steps() {
        let m = accepted(&json!({
            "name": "t", "duration": "10s",
            "workloads": [{"name": "web", "target": "lb", "rate": [{"rps": 10}],
                           "mix": {"page": 1},
                           "keys": {"id": {"uniform": {"n": 100}}}}],
            "load_balancers": [{"name": "lb", "target": "front"}],
            "services": [
                {"name": "front", "replicas": 1, "concurrency": 4, "endpoints": {"page": [
                    {"compute": "1ms"},
                    {"cache": {"cache": "c", "key": "id", "on_miss": [{"read": {"db": "d"}}]}},
                    {"parallel": [[{"call": {"target": "back", "endpoint": "get"}}],
                                  [{"read": {"db": "d"}}]]},
                    {"publish": {"queue": "q"}}
                ]}},
                {"name": "back", "replicas": 1, "concurrency": 4, "endpoints": {"get": [
                    {"write": {"db": "d"}}
                ]}}
            ],
            "caches": [{"name": "c", "capacity": 10, "hit_latency": "1ms"}],
            "databases": [{"name": "d", "shards": 2, "shard_key": "id", "connections": 4, "read_time": "1ms", "write_time": "1ms"}],
            "queues": [{"name": "q", "partitions": 1, "consumers": 1, "work": [{"read": {"db": "d"}}]}]
        }));
        let t = &m.topology;
        let names: Vec<String> = t
            .edges
            .iter()
            .map(|e| format!("{} -{}-> {}", e.from.id(&m), e.kind.name(), e.to.id(&m)))
            .collect();
        assert_eq!(
            names,
            [
                "workload:web -requests-> load_balancer:lb",
                "load_balancer:lb -route-> service:front",
                "service:front -lookup-> cache:c",
                "service:front -read-> database:d",
                "service:front -call-> service:back",
                "service:front -publish-> queue:q",
                "service:back -write-> database:d",
                "queue:q -read-> database:d",
            ]
        );
        let page = m.endpoints[0].program;
        let steps = &t.steps[page];
        assert_eq!(steps[0], NO_EDGE, "compute stays inside the service");
        assert_eq!(steps[1], 2, "cache lookup");
        // The read on a miss and the read in a parallel branch share one edge.
        let read_on_miss = m.programs[page]
            .instrs
            .iter()
            .position(|i| matches!(i, Instr::Read { .. }))
            .expect("a read");
        assert_eq!(steps[read_on_miss], 3);
        let branch_reads: Vec<u32> = t
            .steps
            .iter()
            .zip(&m.programs)
            .flat_map(|(s, p)| {
                p.instrs
                    .iter()
                    .zip(s)
                    .filter(|(i, _)| matches!(i, Instr::Read { .. }))
                    .map(|(_, &e)| e)
            })
            .collect();
        let mut branch_reads = branch_reads;
        branch_reads.sort_unstable();
        assert_eq!(
            branch_reads,
            [3, 3, 7],
            "two reads of front, one of q's work"
        );
    }
}
