//! Resolution: turning a kind's section of the file into its resolved
//! definition, or explaining — with the file location and field path —
//! what is wrong. [`Resolve`] is what every kind's `resolve` sees: error
//! constructors, component names with "did you mean", the interned keys,
//! and what the workloads send where (for requirements such as "every
//! workload sending here draws this key").

use indexmap::IndexMap;
use sim_core::{Dist, DistSpec};

use crate::model::KeyId;
use crate::model::ids::ProgramId;
use crate::model::program::Instr;
use crate::model::steps::Step;
use crate::model::vocab::Failures;
use crate::scenario::PathSeg;
use crate::scenario::ScenarioError;

/// A field path under construction: `services[0].endpoints.get[1]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Path(pub Vec<PathSeg>);

impl Path {
    /// The top-level field `key`.
    pub fn root(key: &str) -> Path {
        Path(vec![PathSeg::Key(key.to_string())])
    }

    /// The field `key` of the object at this path.
    pub fn k(&self, key: &str) -> Path {
        let mut v = self.0.clone();
        v.push(PathSeg::Key(key.to_string()));
        Path(v)
    }

    /// Element `index` of the array at this path.
    pub fn i(&self, index: usize) -> Path {
        let mut v = self.0.clone();
        v.push(PathSeg::Index(index));
        Path(v)
    }
}

/// The components' names, unique across sections, each with its section
/// (`"services"`) and its index there, in the order they were registered.
#[derive(Debug, Default)]
pub struct Names {
    all: IndexMap<String, (&'static str, usize)>,
}

impl Names {
    /// Registers `name` as entry `index` of `section`; false if the name is
    /// taken.
    pub fn insert(&mut self, name: &str, section: &'static str, index: usize) -> bool {
        self.all
            .insert(name.to_string(), (section, index))
            .is_none()
    }

    /// The section and index `name` refers to.
    pub fn get(&self, name: &str) -> Option<(&'static str, usize)> {
        self.all.get(name).copied()
    }

    /// The index of `name` if it is an entry of `section`.
    pub fn index_in(&self, name: &str, section: &str) -> Option<usize> {
        self.get(name)
            .filter(|(s, _)| *s == section)
            .map(|(_, i)| i)
    }

    /// The names registered in `sections`, in registration order.
    pub fn of(&self, sections: &[&str]) -> Vec<&str> {
        self.all
            .iter()
            .filter(|(_, (s, _))| sections.contains(s))
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// A workload as the components it reaches see it, in the file's words:
/// where it sends, the endpoints of its mix (in order) and the keys it
/// draws.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The workload's name.
    pub name: String,
    /// The load balancer or service it sends to.
    pub target: String,
    /// The endpoints of its mix, in file order.
    pub mix: Vec<String>,
    /// The keys it draws.
    pub keys: Vec<String>,
}

/// What resolution can see and how it reports errors.
pub struct Resolve<'a> {
    /// File name as given by the user.
    pub file: &'a str,
    /// The file's text.
    pub text: &'a str,
    /// The document after the overrides.
    pub doc: &'a serde_json::Value,
    /// The `--set` assignments, in order.
    pub sets: &'a [String],
    /// Every component's name.
    pub names: Names,
    /// Interned key names (a request carries one value per key) with the
    /// size of their value space (None: unbounded, e.g. sequential).
    pub keys: IndexMap<String, Option<u64>>,
    /// Every workload, in file order.
    pub senders: Vec<Sender>,
}

impl<'a> Resolve<'a> {
    /// Resolution of the document `doc` (the text of `file` with the
    /// `--set`s applied), with no names or keys registered yet.
    pub fn new(
        file: &'a str,
        text: &'a str,
        doc: &'a serde_json::Value,
        sets: &'a [String],
    ) -> Self {
        Resolve {
            file,
            text,
            doc,
            sets,
            names: Names::default(),
            keys: IndexMap::new(),
            senders: Vec::new(),
        }
    }

    /// The value at `path` is invalid: `message` says why.
    pub fn err(&self, path: &Path, message: impl Into<String>) -> ScenarioError {
        ScenarioError::invalid(self.file, self.text, &path.0, message.into())
            .attribute_to_sets(self.text, self.doc, self.sets)
    }

    /// The `--set` assignment that gave the value at `path`, if one did.
    pub fn override_of(&self, path: &Path) -> Option<String> {
        ScenarioError::invalid(self.file, self.text, &path.0, String::new())
            .attribute_to_sets(self.text, self.doc, self.sets)
            .from_override
    }

    /// The system described at `path` cannot reach a steady state.
    pub fn unstable(&self, path: &Path, message: impl Into<String>) -> ScenarioError {
        ScenarioError::unstable(self.file, self.text, &path.0, message.into())
            .attribute_to_sets(self.text, self.doc, self.sets)
    }

    /// `name` at `path` names no `what`; `known` are the names it could be.
    pub fn unknown(&self, path: &Path, what: &str, name: &str, known: &[&str]) -> ScenarioError {
        let list = if known.is_empty() {
            "there are none".to_string()
        } else {
            format!("known: {}", known.join(", "))
        };
        let e = self.err(path, format!("no {what} named `{name}` ({list})"));
        match crate::scenario::suggest(name, known.iter().copied()) {
            Some(s) => e.with_suggestion(s),
            None => e,
        }
    }

    /// The distribution at `path`.
    pub fn dist(&self, path: &Path, spec: &DistSpec) -> Result<Dist, ScenarioError> {
        Dist::from_spec(spec).map_err(|e| self.err(path, e.to_string()))
    }

    /// The optional distribution at `path`.
    pub fn dist_opt(
        &self,
        path: &Path,
        spec: Option<&DistSpec>,
    ) -> Result<Option<Dist>, ScenarioError> {
        spec.map(|d| self.dist(path, d)).transpose()
    }

    /// A price at `path`: finite and not negative.
    pub fn price(&self, path: &Path, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.err(
                path,
                format!("a price must be a finite number >= 0, got {v}"),
            ))
        }
    }

    /// The random failures of a database shard's primary or a cache node
    /// at `path`: both means must be positive (a failed node stays down
    /// until it is repaired). Returns (mtbf, mttr) in ns.
    pub fn failures(
        &self,
        path: &Path,
        f: Option<Failures>,
    ) -> Result<Option<(f64, f64)>, ScenarioError> {
        let Some(f) = f else { return Ok(None) };
        if f.mtbf.0 == 0 {
            return Err(self.err(&path.k("mtbf"), "must be positive"));
        }
        if f.mttr.0 == 0 {
            return Err(self.err(
                &path.k("mttr"),
                "must be positive: a failed node is down until it is repaired, e.g. \"mttr\": \"5m\"",
            ));
        }
        Ok(Some((f.mtbf.0 as f64, f.mttr.0 as f64)))
    }

    /// The field `key` is written in the object at `path` (after the
    /// overrides), even if its value is empty.
    pub fn has_field(&self, path: &Path, key: &str) -> bool {
        let mut v = self.doc;
        for seg in &path.0 {
            v = match seg {
                PathSeg::Key(k) => &v[k.as_str()],
                PathSeg::Index(i) => &v[*i],
            };
        }
        v.get(key).is_some()
    }

    /// The key `name` (at `path`), drawn by some workload.
    pub fn key(&self, path: &Path, name: &str) -> Result<KeyId, ScenarioError> {
        match self.keys.get_index_of(name) {
            Some(i) => Ok(i),
            None => {
                let known: Vec<&str> = self.keys.keys().map(String::as_str).collect();
                Err(self.unknown(path, "key drawn by any workload", name, &known))
            }
        }
    }

    /// The name of key `id`.
    pub fn key_name(&self, id: KeyId) -> &str {
        self.keys.get_index(id).map_or("", |(n, _)| n.as_str())
    }

    /// The entry of one of `sections` that `name` (at `path`) refers to,
    /// or an error calling it a `what`.
    pub fn component(
        &self,
        path: &Path,
        name: &str,
        sections: &[&str],
        what: &str,
    ) -> Result<(&'static str, usize), ScenarioError> {
        match self.names.get(name) {
            Some((s, i)) if sections.contains(&s) => Ok((s, i)),
            _ => Err(self.unknown(path, what, name, &self.names.of(sections))),
        }
    }

    /// The entry of `section` that `name` (at `path`) refers to.
    pub fn index_in(
        &self,
        path: &Path,
        name: &str,
        section: &'static str,
        what: &str,
    ) -> Result<usize, ScenarioError> {
        self.component(path, name, &[section], what).map(|(_, i)| i)
    }

    /// The key a component named `target` reads (at `path`): drawn by
    /// some workload, and by every workload that sends requests to it.
    pub fn key_drawn_by_senders(
        &self,
        path: &Path,
        target: &str,
        key: &str,
    ) -> Result<KeyId, ScenarioError> {
        let id = self.key(path, key)?;
        if let Some(w) = self
            .senders
            .iter()
            .find(|w| w.target == target && !w.keys.iter().any(|k| k == key))
        {
            return Err(self.err(
                path,
                format!(
                    "workload `{}` sends requests here but does not draw `{key}`",
                    w.name
                ),
            ));
        }
        Ok(id)
    }
}

/// The step compiler, as the kinds whose entries hold programs (a
/// service's endpoints, a queue's work) see it.
pub trait Programs {
    /// Compiles `steps` (the program at `path`, whose compute steps draw
    /// from streams named `stream/...`) and returns the program's index.
    /// `in_queue`: the program is a queue consumer's work.
    fn compile(
        &mut self,
        cx: &Resolve<'_>,
        path: &Path,
        steps: &[Step],
        stream: &str,
        in_queue: bool,
    ) -> Result<ProgramId, ScenarioError>;

    /// Registers the distribution of a compute step that draws from the
    /// random stream `stream`; returns its index for [`Instr::Compute`].
    fn add_dist(&mut self, dist: Dist, stream: String) -> usize;

    /// Puts `ins` before the first instruction of program `program`.
    fn prepend(&mut self, program: ProgramId, ins: Instr);

    /// Every workload whose requests run `program` must draw `key`; an
    /// error names `path`.
    fn require_key(&mut self, program: ProgramId, key: KeyId, path: Path);
}
