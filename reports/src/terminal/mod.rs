//! What `capsim` prints in a terminal: one module per command — the
//! summary of a run ([`run`]), of a sweep ([`sweep`]), of a plan
//! ([`plan`]) and of a check ([`check`]) — as plain text with UTF-8
//! tables. The command-line crate only prints what these return.
//!
//! Two settings of the whole process shape that text, both off unless the
//! command line turns them on (so that a pipe, a file or a test gets the
//! same bytes as always): [`set_colour`] paints verdicts (failures red,
//! passes green, the undecided yellow) and [`set_width`] fits tables into
//! a terminal's width, wrapping text cells at spaces instead of letting
//! the terminal wrap lines mid-cell (numbers are never wrapped: a table of
//! numbers too wide for the terminal stays as wide as it is).

pub mod check;
pub mod plan;
pub mod run;
pub mod sweep;

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};

use anstyle::{AnsiColor, Style};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width};

static COLOUR: AtomicBool = AtomicBool::new(false);
static WIDTH: AtomicU16 = AtomicU16::new(0);

/// Paint verdicts in colour (ANSI escape codes) from now on.
///
/// The command line decides, `NO_COLOR` included: the crate that writes
/// the tables' colours is told to follow, not to read `NO_COLOR` itself.
pub fn set_colour(on: bool) {
    COLOUR.store(on, Ordering::Relaxed);
    #[cfg(not(windows))]
    crossterm::style::force_color_output(on);
}

/// Fit tables into `columns` characters from now on (`None`: no limit, a
/// row as long as its cells).
pub fn set_width(columns: Option<u16>) {
    WIDTH.store(columns.unwrap_or(0), Ordering::Relaxed);
}

/// The width of the terminal standard output is, if it is one and its
/// size can be read.
pub fn terminal_width() -> Option<u16> {
    Table::new().width().filter(|&w| w > 0)
}

/// What a word says, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// A failure or a regression: red.
    Bad,
    /// A pass: green.
    Good,
    /// Undecided, marginal, not measured: yellow.
    Unsure,
    /// Nothing to say: no colour.
    Plain,
}

impl Tone {
    fn ansi(self) -> Option<AnsiColor> {
        match self {
            Tone::Bad => Some(AnsiColor::Red),
            Tone::Good => Some(AnsiColor::Green),
            Tone::Unsure => Some(AnsiColor::Yellow),
            Tone::Plain => None,
        }
    }
}

/// `text` in the colour of `tone` when colour is on, else as it is.
pub fn paint(text: &str, tone: Tone) -> String {
    match tone.ansi().filter(|_| COLOUR.load(Ordering::Relaxed)) {
        Some(c) => {
            let style = Style::new().fg_color(Some(c.into()));
            format!("{style}{text}{style:#}")
        }
        None => text.to_string(),
    }
}

/// A table cell holding `text` in the colour of `tone` when colour is on.
pub(crate) fn verdict_cell(text: impl std::fmt::Display, tone: Tone) -> Cell {
    let cell = Cell::new(text);
    match tone.ansi().filter(|_| COLOUR.load(Ordering::Relaxed)) {
        Some(c) => cell.fg(match c {
            AnsiColor::Red => Color::DarkRed,
            AnsiColor::Green => Color::DarkGreen,
            _ => Color::DarkYellow,
        }),
        None => cell,
    }
}

/// A table in the terminal style (UTF-8 borders, condensed rows) with
/// `header`; the columns from `right_from` on are right-aligned (numbers).
/// Printed, it fits the width [`set_width`] gave, if any ([`TermTable`]).
pub(crate) fn table<S: std::fmt::Display>(header: &[S], right_from: usize) -> TermTable {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_header(header.iter().map(Cell::new));
    if COLOUR.load(Ordering::Relaxed) {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    for i in right_from..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    TermTable {
        table: t,
        right_from,
    }
}

/// A terminal table: a comfy-table [`Table`] that, printed, fits the width
/// [`set_width`] gave. Without one, or when its rows are no wider, it is
/// printed as it is; otherwise text columns (names, labels) wrap at spaces,
/// none narrower than its longest content or 16 characters, whichever is
/// less, and number columns keep their width.
pub struct TermTable {
    table: Table,
    /// The first number column.
    right_from: usize,
}

impl std::ops::Deref for TermTable {
    type Target = Table;
    fn deref(&self) -> &Table {
        &self.table
    }
}

impl std::ops::DerefMut for TermTable {
    fn deref_mut(&mut self) -> &mut Table {
        &mut self.table
    }
}

impl std::fmt::Display for TermTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let natural = self.table.to_string();
        let width = WIDTH.load(Ordering::Relaxed);
        let widest = natural.lines().map(display_width).max().unwrap_or(0);
        if width == 0 || widest <= usize::from(width) {
            return f.write_str(&natural);
        }
        let mut t = self.table.clone();
        let content = t.column_max_content_widths();
        for (i, c) in t.column_iter_mut().enumerate() {
            let constraint = if i >= self.right_from {
                ColumnConstraint::ContentWidth
            } else {
                // The boundary counts the cell's padding, one space a side.
                let least = content.get(i).copied().unwrap_or(0).min(16);
                ColumnConstraint::LowerBoundary(Width::Fixed(least + 2))
            };
            c.set_constraint(constraint);
        }
        t.set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width);
        write!(f, "{t}")
    }
}

/// Columns a line takes on a terminal, colour codes aside (every
/// character one column: the tables hold no wide characters but the
/// ones they may quote from names).
fn display_width(line: &str) -> usize {
    let mut n = 0;
    let mut in_code = false;
    for c in line.chars() {
        match (in_code, c) {
            (false, '\u{1b}') => in_code = true,
            (true, 'm') => in_code = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}
