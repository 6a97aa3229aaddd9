//! `index.html`: one self-contained page per report — the scenario, the
//! summary tables and every chart with its title and what to look at.
//!
//! The page needs nothing but itself: CSS is inline, there is no script,
//! no web font and no external style, and the charts are inlined as SVG,
//! so the one file can be attached to a design review, mailed or opened
//! from a CI artifact on its own (the `.svg` files beside it remain, for
//! slides, and each figure links to its file). Plotters escapes the text
//! it writes into an SVG; a chart that somehow carried markup that could
//! run (`<script`, `<foreignObject`, an `on…=` handler) is embedded as an
//! `<img>` instead, which never runs anything.
//!
//! Every string that comes from a scenario or a saved document (names,
//! descriptions, parameter values, warnings, objectives) goes through
//! [`escape`].
//!
//! One file per page ([`run_page`], [`sweep_page`], [`plan_page`] and the
//! check's page); what they share (CSS, escaping, navigation, tables,
//! figures) is in `page.rs`, and the run page's sections in `sections/`.

mod check;
mod page;
mod plan;
mod run;
mod sections;
mod sweep;

pub(crate) use check::check_page;
pub use page::escape;
pub use plan::plan_page;
pub use run::run_page;
pub use sweep::sweep_page;
