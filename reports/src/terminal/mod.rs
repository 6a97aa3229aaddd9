//! What `capsim` prints in a terminal: one module per command — the
//! summary of a run ([`run`]), of a sweep ([`sweep`]), of a plan
//! ([`plan`]) and of a check ([`check`]) — as plain text with UTF-8
//! tables. The command-line crate only prints what these return.

pub mod check;
pub mod plan;
pub mod run;
pub mod sweep;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};

/// A table in the terminal style (UTF-8 borders, condensed rows) with
/// `header`; the columns from `right_from` on are right-aligned (numbers).
pub(crate) fn table<S: std::fmt::Display>(header: &[S], right_from: usize) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_header(header.iter().map(Cell::new));
    for i in right_from..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}
