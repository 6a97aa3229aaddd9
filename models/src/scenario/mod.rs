//! The file machinery, generic over the document type: parsing with
//! located errors, `--set` overrides, and the error type that names file,
//! line:column and field path. It knows no component kind.

mod error;
mod locate;
mod overrides;
mod parse;
mod read;
mod yaml;

pub use error::{ScenarioError, ScenarioErrorKind, suggest};
pub use locate::{Location, PathSeg, format_path};
pub use parse::{parse_document, parse_text, parse_value};
pub use read::{decode, read_file};
