//! The scenario file: its serde schema, parsing with located errors,
//! `--set` overrides, and validation into the typed [`Model`].
//!
//! [`load`] is the one entry point: text in, a validated model or a
//! [`ScenarioError`] naming file, line:column and field path out.

mod error;
mod locate;
mod overrides;
mod parse;
mod schema;
mod validate;

pub use error::{ScenarioError, ScenarioErrorKind, suggest};
pub use locate::{Location, PathSeg, format_path, locate, locate_key};
pub use overrides::{SetError, apply_set, parse_path};
pub use parse::parse_document;
pub use schema::*;
pub use validate::{DEFAULT_RETENTION, MAX_BUCKETS, MAX_CACHE_KEYS};

use crate::model::Model;

/// Parses, overrides and validates a scenario.
///
/// `file` names the file in messages; `sets` are `PATH=VALUE` overrides
/// applied before validation (as `capsim run --set`).
pub fn load(file: &str, text: &str, sets: &[String]) -> Result<(Scenario, Model), ScenarioError> {
    let (scenario, doc): (Scenario, serde_json::Value) = parse_document(file, text, sets)?;
    let ctx = validate::Ctx {
        file,
        text,
        doc: &doc,
        sets,
    };
    let model = validate::validate(&ctx, &scenario)?;
    Ok((scenario, model))
}

/// Reads `path` and [`load`]s it.
pub fn load_file(
    path: &std::path::Path,
    sets: &[String],
) -> Result<(Scenario, Model), ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(&file, &e))?;
    load(&file, &text, sets)
}
