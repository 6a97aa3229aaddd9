//! What every page shares: the inline CSS and the page around a body,
//! escaping, the contents line, the warnings box, headline cards, the
//! table builder and its cells, the charts as figures, and the few
//! number forms only the pages use (estimates with their intervals, plain
//! numbers, parameters as HTML); every other figure is written by
//! [`crate::fmt`].

use std::fmt::Write as _;

use serde_json::Value;

use crate::chart::{Chart, slug};
use crate::fmt::{pct, short_path, value_text};
use crate::objectives::percent_figure;

/// Escapes text for HTML element content and attribute values (SVG and
/// XML too): markup characters as entities, and characters that must not
/// be printed as they are ([`models::is_unprintable`]: controls, which XML
/// forbids, bidirectional overrides) as their visible escapes (`\u{1b}`);
/// line breaks and tabs stay.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if !matches!(c, '\n' | '\t') && models::is_unprintable(c) => {
                out.extend(c.escape_default())
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --zebra: #f6f7f9;
  --bad: #b34700; --good: #00795a; --warn: #8a5a00; --bar: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 48px; }
header .kind { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .06em; }
h1 { margin: 4px 0 8px; font-size: 28px; line-height: 1.2; overflow-wrap: anywhere; }
h2 { margin: 36px 0 10px; font-size: 21px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 22px 0 6px; font-size: 17px; overflow-wrap: anywhere; }
p { margin: 6px 0; }
.desc { max-width: 80ch; }
.meta, .note { color: var(--muted); font-size: 13px; }
nav { margin: 16px 0; padding: 8px 12px; background: var(--zebra); border-radius: 6px; font-size: 14px; }
nav a { margin-right: 14px; white-space: nowrap; }
a { color: #005a8c; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .k { color: var(--muted); font-size: 13px; }
.box { border-left: 4px solid; border-radius: 4px; padding: 8px 14px; margin: 14px 0; }
.box.warn { border-color: #e69f00; background: #fff8e6; }
.box.bad { border-color: var(--bad); background: #fdf0e8; }
.box.good { border-color: var(--good); background: #e9f6f1; }
.box ul { margin: 4px 0; padding-left: 20px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { text-align: left; background: var(--zebra); font-weight: 600; vertical-align: bottom; }
td { overflow-wrap: break-word; }
td.n, th.n { text-align: right; }
td.n { white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fbfbfc; }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
tr.hot td { background: #fdf0e8 !important; }
.bad { color: var(--bad); font-weight: 600; }
.good { color: var(--good); font-weight: 600; }
.unsure { color: var(--warn); font-weight: 600; }
.sharebar { display: inline-block; vertical-align: middle; width: 90px; height: 10px;
  background: var(--zebra); border: 1px solid var(--line); margin-right: 6px; }
.sharebar span { display: block; height: 100%; background: var(--bar); }
code { font-size: 13px; background: var(--zebra); padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
figure { margin: 18px 0 28px; padding: 0; break-inside: avoid; }
figure h3 { margin-bottom: 2px; }
figure .look { margin: 2px 0 8px; color: var(--muted); max-width: 90ch; }
figure svg, figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
ol.toc { columns: 2; column-gap: 32px; padding-left: 22px; font-size: 14px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { nav { display: none; } main { max-width: none; } h2 { break-after: avoid; } }
"#;

/// The page around `body`.
pub(crate) fn page(title: &str, body: &str) -> String {
    styled_page(title, body, "")
}

/// The page around `body`, with `css` after the shared style (rules only
/// some pages need: pinned columns, limit bars).
pub(crate) fn styled_page(title: &str, body: &str, css: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}{css}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(title)
    )
}

/// The rules of a table of class `class` whose first columns, `widths`
/// wide (in em), stay in view while the rest scrolls sideways: each is
/// `position: sticky` at the sum of the widths before it, with a solid
/// background and a rule after the last.
pub(crate) fn pinned_css(class: &str, widths: &[f64]) -> String {
    let mut out = String::new();
    let k = widths.len();
    let _ = write!(
        out,
        "table.{class} :is(th,td):nth-child(-n+{k}) {{ position: sticky; z-index: 1; background: #fff; }}\n\
         table.{class} th:nth-child(-n+{k}) {{ background: var(--zebra); }}\n\
         table.{class} tbody tr:nth-child(even) td:nth-child(-n+{k}) {{ background: #fbfbfc; }}\n\
         table.{class} :is(th,td):nth-child({k}) {{ box-shadow: inset -2px 0 0 var(--line); }}\n"
    );
    let mut left = 0.0;
    for (i, w) in widths.iter().enumerate() {
        let _ = writeln!(
            out,
            "table.{class} :is(th,td):nth-child({}) {{ left: {left:.1}em; min-width: {w:.1}em; max-width: {w:.1}em; }}",
            i + 1
        );
        left += w;
    }
    out
}

/// The width, em, of a pinned column whose widest text that cannot wrap
/// is `chars` characters long (14 px figures are about 0.6 em wide, and
/// a cell has 16 px of padding), from 4 to 24 em.
pub(crate) fn column_em(chars: usize) -> f64 {
    ((chars as f64 * 0.6 + 1.4) * 10.0)
        .round()
        .clamp(40.0, 240.0)
        / 10.0
}

/// The longest part of [`params_text`] that cannot wrap: one
/// `field=value`, in characters.
pub(crate) fn param_chars<'a>(params: impl IntoIterator<Item = (&'a String, &'a Value)>) -> usize {
    params
        .into_iter()
        .map(|(p, v)| short_path(p).chars().count() + 2 + value_text(v).chars().count())
        .max()
        .unwrap_or(0)
}

/// The rules of [`limit_bar`].
pub(crate) const LIMIT_CSS: &str = r#"
.limit { display: inline-block; position: relative; vertical-align: middle; width: 72px; height: 10px;
  margin-right: 6px; border: 1px solid var(--line); }
.limit.max { background: linear-gradient(to right, #fff 50%, #ececec 50%); }
.limit.min { background: linear-gradient(to right, #ececec 50%, #fff 50%); }
.limit i { position: absolute; top: 1px; bottom: 1px; left: 0; opacity: .75; }
.limit i.h { background: var(--good); } .limit i.u { background: #e69f00; } .limit i.f { background: var(--bad); }
.limit s { position: absolute; top: 4px; height: 2px; background: var(--ink); }
.limit b { position: absolute; top: -3px; bottom: -3px; left: 50%; border-left: 2px solid var(--ink); }
"#;

/// A value as a share of its limit, drawn as the check chart draws it: a
/// bar from 0 to 200% of the limit with the limit at the middle, its
/// failing side shaded (right for a maximum, left for a minimum), the
/// mean filled in the verdict's colour (`h` holds, `u` unsure, `f`
/// fails) and the 95% interval as a line; then the mean's share in
/// figures. `share` is (low, mean, high) as fractions of the limit.
pub(crate) fn limit_bar(share: (f64, f64, f64), minimum: bool, verdict: &str) -> String {
    let at = |v: f64| (v * 50.0).clamp(0.0, 100.0);
    let (lo, mean, hi) = (at(share.0), at(share.1), at(share.2));
    let interval = if hi > lo {
        format!("<s style=\"left:{lo:.1}%;width:{:.1}%\"></s>", hi - lo)
    } else {
        String::new()
    };
    format!(
        "<span class=\"limit {}\" title=\"share of the limit; the limit is the black line, the failing side shaded\"><i class=\"{verdict}\" style=\"width:{mean:.1}%\"></i>{interval}<b></b></span>{}",
        if minimum { "min" } else { "max" },
        percent_figure(share.1 * 100.0)
    )
}

/// A headline figure: the value `v` over what it is, `k`; `class` marks
/// it (`bad`, `good`, `unsure` or nothing).
pub(crate) fn card(b: &mut String, v: String, k: &str, class: &str) {
    let _ = writeln!(
        b,
        "<div class=\"card\"><div class=\"v {class}\">{v}</div><div class=\"k\">{k}</div></div>"
    );
}

// ---------------------------------------------------------------- numbers

/// A plain number: `1.45`, `250`, `0.0123`.
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.3}")
    }
}

/// A sweep parameter value as text (strings without quotes), escaped.
pub(crate) fn value(v: &Value) -> String {
    escape(&value_text(v))
}

/// `params` as `path=value, ...`, escaped.
pub(crate) fn params_text<'a>(params: impl IntoIterator<Item = (&'a String, &'a Value)>) -> String {
    params
        .into_iter()
        .map(|(p, v)| {
            format!(
                "<span title=\"{}\">{}</span>=<b>{}</b>",
                escape(p),
                escape(&short_path(p)),
                value(v)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each of `items` escaped, as code, space-separated: settings such as
/// `--set` assignments.
pub(crate) fn codes(items: &[String]) -> String {
    items
        .iter()
        .map(|x| format!("<code>{}</code>", escape(x)))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------- tables

/// A table under construction: a header, then rows of cells whose HTML
/// the caller has already escaped.
pub(crate) struct Html {
    out: String,
}

impl Html {
    pub(crate) fn new(header: &[(&str, bool)]) -> Html {
        Html::with_class("", header)
    }

    /// A table of class `class` (for [`pinned_css`]).
    pub(crate) fn with_class(class: &str, header: &[(&str, bool)]) -> Html {
        let mut out = if class.is_empty() {
            String::from("<div class=\"scroll\"><table>\n<thead><tr>")
        } else {
            format!("<div class=\"scroll\"><table class=\"{class}\">\n<thead><tr>")
        };
        for (h, numeric) in header {
            let _ = write!(
                out,
                "<th{}>{}</th>",
                if *numeric { " class=\"n\"" } else { "" },
                escape(h)
            );
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        Html { out }
    }

    /// A row; each cell is (html, numeric).
    pub(crate) fn row(&mut self, class: &str, cells: &[(String, bool)]) {
        if class.is_empty() {
            self.out.push_str("<tr>");
        } else {
            let _ = write!(self.out, "<tr class=\"{class}\">");
        }
        for (c, numeric) in cells {
            let _ = write!(
                self.out,
                "<td{}>{c}</td>",
                if *numeric { " class=\"n\"" } else { "" }
            );
        }
        self.out.push_str("</tr>\n");
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</tbody>\n</table></div>\n");
        self.out
    }
}

/// A numeric cell.
pub(crate) fn n(s: impl Into<String>) -> (String, bool) {
    (s.into(), true)
}

/// A text cell (already escaped).
pub(crate) fn t(s: impl Into<String>) -> (String, bool) {
    (s.into(), false)
}

/// A share of the whole as a small bar and a percentage.
pub(crate) fn share_bar(v: f64) -> String {
    let w = (v * 100.0).clamp(0.0, 100.0);
    format!(
        "<span class=\"sharebar\"><span style=\"width:{w:.1}%\"></span></span>{}",
        pct(v)
    )
}

// ---------------------------------------------------------------- charts

/// True when an SVG carries something a browser could run inline.
fn active(svg: &str) -> bool {
    let lower = svg.to_ascii_lowercase();
    lower.contains("<script")
        || lower.contains("<foreignobject")
        || lower.contains("javascript:")
        || lower
            .split(|c: char| c.is_whitespace())
            .any(|w| w.starts_with("on") && w.contains('='))
}

/// The anchor of a chart's figure.
fn chart_id(c: &Chart) -> String {
    format!("chart-{}", slug(c.file.trim_end_matches(".svg")))
}

/// Every chart as a figure: its title, what to look at, the picture.
pub(crate) fn charts_section(charts: &[Chart]) -> String {
    let mut out = String::new();
    if charts.is_empty() {
        return out;
    }
    out.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n<ol class=\"toc\">\n");
    for c in charts {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            chart_id(c),
            escape(&c.title)
        );
    }
    out.push_str("</ol>\n");
    for c in charts {
        out.push_str(&figure(c));
    }
    out.push_str("</section>\n");
    out
}

/// One chart as a figure: its title, what to look at, the SVG inline (or
/// as an image when it is not plain SVG) and a link to its file.
pub(crate) fn figure(c: &Chart) -> String {
    let mut out = String::new();
    let id = chart_id(c);
    let file = escape(&c.file);
    let title = escape(&c.title);
    let _ = write!(
        out,
        "<figure id=\"{id}\">\n<h3>{title}</h3>\n<p class=\"look\">{}</p>\n",
        escape(&c.what_to_look_at)
    );
    let svg = c.svg.trim_start();
    if svg.starts_with("<svg ") && !active(svg) {
        let _ = writeln!(
            out,
            "<svg role=\"img\" aria-label=\"{title}\" {}",
            &svg["<svg ".len()..]
        );
    } else {
        let _ = writeln!(out, "<img src=\"{file}\" alt=\"{title}\">");
    }
    let _ = write!(
        out,
        "<figcaption>Chart file: <a href=\"{file}\">{file}</a></figcaption>\n</figure>\n"
    );
    out
}

/// The contents line: links to the sections present and to each chart.
pub(crate) fn nav(sections: &[(&str, &str)], charts: &[Chart]) -> String {
    let mut out = String::from("<nav>");
    for (id, name) in sections {
        let _ = write!(out, "<a href=\"#{id}\">{}</a>", escape(name));
    }
    if !charts.is_empty() {
        out.push_str("<a href=\"#charts\">Charts</a>");
    }
    out.push_str("</nav>\n");
    out
}

/// Warnings in a box at the top, where no one can miss them.
pub(crate) fn warnings_box(warnings: &[String]) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section id=\"warnings\" class=\"box warn\">\n<strong>Warnings</strong>\n<ul>\n",
    );
    for w in warnings {
        let _ = writeln!(out, "<li>{}</li>", escape(w));
    }
    out.push_str("</ul>\n</section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn tabs_and_line_breaks_stay_other_controls_show() {
        assert_eq!(escape("a\tb\nc\u{1b}d\re"), "a\tb\nc\\u{1b}d\\re");
    }

    #[test]
    fn active_svg_is_not_inlined() {
        assert!(active("<svg ><script>x</script></svg>"));
        assert!(active("<svg onload=\"x\"></svg>"));
        assert!(!active(
            "<svg width=\"1\"><text>&lt;script&gt;</text></svg>"
        ));
        let chart = Chart {
            file: "a.svg".into(),
            title: "t".into(),
            what_to_look_at: "w".into(),
            svg: "<svg onload=\"alert(1)\"></svg>".into(),
        };
        let html = charts_section(&[chart]);
        assert!(html.contains("<img src=\"a.svg\""));
        assert!(!html.contains("onload"));
    }
}
