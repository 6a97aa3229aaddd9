//! What every chart shares: the [`Chart`] it produces, the size, the
//! palette, the time axis and the plumbing from plotters to an SVG string.

use plotters::coord::Shift;
use plotters::prelude::*;

/// One rendered chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name in the output folder (`latency-checkout.svg`).
    pub file: String,
    /// The chart's title (also its heading in `index.html`).
    pub title: String,
    /// One line for the reader: what to look at.
    pub what_to_look_at: String,
    /// The SVG document.
    pub svg: String,
}

/// Default chart width, px.
pub const WIDTH: u32 = 960;
/// Default chart height, px.
pub const HEIGHT: u32 = 440;

/// The Okabe-Ito palette: distinguishable with every common kind of colour
/// blindness; series use it in order.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// The colour of series `i`.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Light grey for secondary elements (offered load, grid).
pub const GREY: RGBColor = RGBColor(170, 170, 170);

/// The font family written into the SVG (any sans-serif renders it).
pub const FONT: &str = "sans-serif";

/// A chart could not be drawn (a plotters error, with its message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot draw chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ChartError(e.to_string())
    }
}

/// The drawing area handed to chart code.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws into a fresh SVG of `size` and returns the document.
pub fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(buf)
}

/// How the time axis is labelled: seconds for short runs, minutes for
/// longer ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    /// Seconds per axis unit.
    pub scale: f64,
    /// The unit's name for the axis label.
    pub unit: &'static str,
}

impl TimeAxis {
    /// The axis for a run of `duration_s`.
    pub fn for_duration(duration_s: f64) -> TimeAxis {
        if duration_s >= 600.0 {
            TimeAxis {
                scale: 60.0,
                unit: "min",
            }
        } else {
            TimeAxis {
                scale: 1.0,
                unit: "s",
            }
        }
    }

    /// The axis label.
    pub fn label(&self) -> String {
        format!("time since start ({})", self.unit)
    }

    /// Bucket `i`'s midpoint in axis units.
    pub fn bucket_mid(&self, i: usize, interval_s: f64) -> f64 {
        (i as f64 + 0.5) * interval_s / self.scale
    }
}

/// A readable number for tick labels: `1.5k`, `250`, `0.25`.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A slug usable in a file name: letters, digits and `-`.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "x".into() } else { s }
}

/// The largest finite value, at least `floor` (so empty data still gives
/// a drawable range).
pub fn max_of(values: impl IntoIterator<Item = f64>, floor: f64) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(floor, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_slugs() {
        assert_eq!(tick(1500.0), "1500");
        assert_eq!(tick(15000.0), "15k");
        assert_eq!(tick(2.5e6), "2.5M");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(slug("Orders DB/primary"), "orders-db-primary");
        assert_eq!(slug("<script>"), "script");
        assert_eq!(slug("???"), "x");
    }
}
