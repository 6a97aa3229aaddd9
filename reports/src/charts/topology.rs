//! The system's topology: every component a box, every path between two
//! an arrow labelled with what went along it (rate, p99), the boxes
//! coloured by their peak utilisation, so the bottleneck and the hot path
//! are seen at a glance.
//!
//! The layout is layout-rs's (a layered, Sugiyama-style layout as
//! Graphviz's `dot` does it: ranks, crossing reduction, Brandes–Köpf
//! placement, edge labels as nodes of their own so they never overlap);
//! the drawing is ours, through its [`RenderBackend`], so the SVG has the
//! fonts, colours and escaping of every other chart.

use std::fmt::Write as _;

use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::{Point, Position};
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;
use models::{Results, TopologyEdge, TopologyNode};

use crate::chart::{Chart, ChartError, FONT};
use crate::fmt::{int, ms, pct};
use crate::html::escape as xml;

/// Room kept around an edge label by the layout, px.
const LABEL_HALO: f64 = 14.0;
/// Edge label text, px.
const LABEL_PX: f64 = 11.0;
/// A box's first line (the name), px, and its other lines.
const NAME_PX: f64 = 13.0;
const DETAIL_PX: f64 = 11.0;
/// Line height in boxes, px.
const LINE_H: f64 = 15.0;
/// Margin around the drawing, px; room for the title above it and the
/// legend below.
const MARGIN: f64 = 16.0;
const TITLE_H: f64 = 40.0;
const LEGEND_H: f64 = 44.0;

/// Peak-utilisation bands: upper bound (exclusive), fill, text colour,
/// legend text. Sequential light-to-dark (ColorBrewer YlOrRd), readable
/// with every common colour blindness as lightness alone.
const BANDS: [(f64, &str, &str, &str); 4] = [
    (0.5, "#ffffcc", "#222", "peak < 50%"),
    (0.7, "#fed976", "#222", "50–70%"),
    (0.85, "#fd8d3c", "#222", "70–85%"),
    (f64::INFINITY, "#e31a1c", "#fff", "≥ 85%"),
];
/// Components without a capacity of their own.
const NEUTRAL: (&str, &str, &str) = ("#f2f2f2", "#222", "no capacity of its own");

/// The topology chart's file name (the run page shows it first).
pub const TOPOLOGY_FILE: &str = "topology.svg";

/// The topology chart, or none when the document has no topology (one
/// written before capsim recorded it).
pub fn topology(r: &Results) -> Result<Vec<Chart>, ChartError> {
    let t = &r.topology;
    if t.nodes.is_empty() {
        return Ok(Vec::new());
    }
    let boxes: Vec<NodeBox> = t.nodes.iter().map(|n| NodeBox::of(n, r)).collect();
    let arrows = merged_edges(&t.edges, &t.nodes);
    let drawing = std::panic::catch_unwind(|| layout(&boxes, &arrows))
        .map_err(|_| ChartError("the graph layout failed on this topology".into()))?;
    let title = "Topology — components, paths, rates and p99".to_string();
    Ok(vec![Chart {
        file: TOPOLOGY_FILE.into(),
        svg: draw(&title, &boxes, &arrows, &drawing),
        title,
        what_to_look_at: "Each box is a component, coloured by the highest utilisation it reached (a service's busiest interval, a database's busiest shard, a queue's consumers); each arrow is a path requests or messages took, labelled with its rate over the measured period and, where the sender waits for it, its p99 (a workload's requests as its users saw them; a step as the service waited for it, queueing and retries included). A red box is the bottleneck; follow the arrows with the largest p99 from a workload to find the hot path.".into(),
    }])
}

/// A component's box: its lines of text and its colours.
struct NodeBox {
    lines: Vec<String>,
    fill: &'static str,
    ink: &'static str,
}

impl NodeBox {
    fn of(n: &TopologyNode, r: &Results) -> NodeBox {
        let detail = detail(n, r);
        let (fill, ink) = match n.peak_utilisation {
            Some(u) => {
                let b = BANDS.iter().find(|b| u < b.0).unwrap_or(&BANDS[3]);
                (b.1, b.2)
            }
            None => (NEUTRAL.0, NEUTRAL.1),
        };
        let mut lines = vec![n.name.clone()];
        lines.extend(detail);
        if let Some(u) = n.peak_utilisation {
            lines.push(format!("peak {} busy", pct(u)));
        }
        NodeBox { lines, fill, ink }
    }

    /// Width and height, px.
    fn size(&self) -> (f64, f64) {
        let w = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let em = if i == 0 {
                    NAME_PX * 0.64
                } else {
                    DETAIL_PX * 0.6
                };
                l.chars().count() as f64 * em
            })
            .fold(0.0, f64::max);
        (w + 28.0, self.lines.len() as f64 * LINE_H + 16.0)
    }
}

/// What a box says under the name: the kind and its key figures.
fn detail(n: &TopologyNode, r: &Results) -> Vec<String> {
    let name = n.name.as_str();
    match n.kind.as_str() {
        "workload" => {
            let rate: f64 = r
                .topology
                .edges
                .iter()
                .filter(|e| e.from == n.id && e.kind == "requests")
                .map(|e| e.rate_rps)
                .sum();
            vec![format!("workload · {} req/s", per_sec(rate))]
        }
        "load_balancer" => {
            let policy = r.load_balancers.iter().find(|l| l.name == name);
            vec![match policy {
                Some(l) => format!("load balancer · {}", l.policy.replace('_', " ")),
                None => "load balancer".into(),
            }]
        }
        "cdn" => match r.cdns.iter().find(|c| c.name == name) {
            Some(c) => vec![format!("CDN edge · hit {}", pct(c.hit_ratio))],
            None => vec!["CDN edge".into()],
        },
        "service" => match r.services.iter().find(|s| s.name == name) {
            Some(s) => {
                let (lo, hi) = (s.ready_min.round(), s.ready_max.round());
                let pods = if lo < hi {
                    format!("{lo}–{hi} pods")
                } else {
                    format!("{} pods", s.replicas)
                };
                vec![format!("service · {pods} × {}", s.concurrency)]
            }
            None => vec!["service".into()],
        },
        "cache" => match r.caches.iter().find(|c| c.name == name) {
            Some(c) => vec![format!("cache · hit {}", pct(c.hit_ratio))],
            None => vec!["cache".into()],
        },
        "database" => match r.databases.iter().find(|d| d.name == name) {
            Some(d) => {
                let shards = d.shards.len();
                let s = if shards == 1 { "" } else { "s" };
                vec![format!("database · {shards} shard{s}")]
            }
            None => vec!["database".into()],
        },
        "queue" => match r.queues.iter().find(|q| q.name == name) {
            Some(q) => {
                let mut v = vec![format!(
                    "queue · {} consumer{}",
                    q.consumers,
                    if q.consumers == 1 { "" } else { "s" }
                )];
                if q.lag_max > 0.0 {
                    v.push(format!("lag max {}", int(q.lag_max.round() as u64)));
                }
                v
            }
            None => vec!["queue".into()],
        },
        other => vec![other.replace('_', " ")],
    }
}

/// A rate per second: `1,557`, `42.2`, `0.35`.
fn per_sec(v: f64) -> String {
    if v >= 100.0 {
        int(v.round() as u64)
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v > 0.0 {
        format!("{v:.2}")
    } else {
        "0".into()
    }
}

/// One arrow: the edges between two nodes, one label line each.
struct ArrowDef {
    from: usize,
    to: usize,
    lines: Vec<String>,
    rate: f64,
}

/// The edges grouped by their pair of nodes, in order of first use.
fn merged_edges(edges: &[TopologyEdge], nodes: &[TopologyNode]) -> Vec<ArrowDef> {
    let index = |id: &str| nodes.iter().position(|n| n.id == id);
    let mut out: Vec<ArrowDef> = Vec::new();
    for e in edges {
        let (Some(from), Some(to)) = (index(&e.from), index(&e.to)) else {
            continue;
        };
        let kind = if e.kind == "dead_letter" {
            "dead letters"
        } else {
            e.kind.as_str()
        };
        let mut line = format!("{kind} {}/s", per_sec(e.rate_rps));
        if let Some(l) = &e.latency
            && l.count > 0
        {
            let _ = write!(line, " · p99 {} ms", ms(l.p99_ms));
        }
        match out.iter_mut().find(|a| a.from == from && a.to == to) {
            Some(a) => {
                a.lines.push(line);
                a.rate += e.rate_rps;
            }
            None => out.push(ArrowDef {
                from,
                to,
                lines: vec![line],
                rate: e.rate_rps,
            }),
        }
    }
    out
}

/// A Bézier path as layout-rs gives it (`(point, control)` pairs), and
/// whether it has a head at its start and at its end (a back edge is laid
/// out reversed, its head at the start).
type Path = (Vec<(Point, Point)>, (bool, bool));

/// Where layout-rs put everything.
#[derive(Default)]
struct Drawing {
    /// Per box: top-left corner and size.
    boxes: Vec<Option<(Point, Point)>>,
    /// Per arrow: its label's box.
    labels: Vec<Option<(Point, Point)>>,
    /// Per arrow: the path into its label and the path out of it.
    paths: Vec<[Option<Path>; 2]>,
}

impl RenderBackend for Drawing {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        _look: &StyleAttr,
        properties: Option<String>,
        _clip: Option<ClipHandle>,
    ) {
        let Some(p) = properties else { return };
        let (kind, i) = p.split_at(1);
        let Ok(i) = i.parse::<usize>() else { return };
        let slot = match kind {
            "n" => self.boxes.get_mut(i),
            "l" => self.labels.get_mut(i),
            _ => None,
        };
        if let Some(slot) = slot {
            *slot = Some((xy, size));
        }
    }

    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_text(&mut self, _: Point, _: &str, _: &StyleAttr) {}

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _dashed: bool,
        head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        _text: &str,
    ) {
        let Some(p) = properties else { return };
        let (half, i) = p.split_at(1);
        let (Ok(i), true) = (i.parse::<usize>(), path.len() >= 2) else {
            return;
        };
        let half = usize::from(half == "b");
        if let Some(slot) = self.paths.get_mut(i) {
            slot[half] = Some((path.to_vec(), head));
        }
    }

    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}

/// Lays the boxes and arrows out, top to bottom. An arrow's label is a
/// box of its own between its ends, so the layout keeps room for it.
fn layout(boxes: &[NodeBox], arrows: &[ArrowDef]) -> Drawing {
    let dir = Orientation::TopToBottom;
    let mut vg = VisualGraph::new(dir);
    let look = StyleAttr::new(Color::fast("black"), 1, None, 0, 12);
    let handles: Vec<_> = boxes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (w, h) = b.size();
            vg.add_node(Element::create_with_properties(
                ShapeKind::new_box(""),
                look.clone(),
                dir,
                Point::new(w, h),
                format!("n{i}"),
            ))
        })
        .collect();
    let line = |props: String, head: LineEndKind| {
        Arrow::with_properties(
            LineEndKind::None,
            head,
            LineStyleKind::Normal,
            "",
            &look,
            props,
            &None,
            &None,
        )
    };
    for (i, a) in arrows.iter().enumerate() {
        let (w, h) = label_size(&a.lines);
        let mut label = Element::create_with_properties(
            ShapeKind::new_box(""),
            look.clone(),
            dir,
            Point::new(w, h),
            format!("l{i}"),
        );
        label.pos = Position::new(
            Point::zero(),
            Point::new(w, h),
            Point::zero(),
            Point::splat(LABEL_HALO),
        );
        let l = vg.add_node(label);
        vg.add_edge(line(format!("a{i}"), LineEndKind::None), handles[a.from], l);
        vg.add_edge(line(format!("b{i}"), LineEndKind::Arrow), l, handles[a.to]);
    }
    let mut d = Drawing {
        boxes: vec![None; boxes.len()],
        labels: vec![None; arrows.len()],
        paths: (0..arrows.len()).map(|_| [None, None]).collect(),
    };
    vg.do_it(false, false, false, &mut d);
    // layout-rs ends a path on the label's border where the curve meets
    // it; through the middle of the label's top and bottom, the two
    // halves read as one arrow.
    for (halves, label) in d.paths.iter_mut().zip(&d.labels) {
        let Some((xy, size)) = label else { continue };
        let cx = xy.x + size.x / 2.0;
        let (top, bottom) = (xy.y, xy.y + size.y);
        // The side of the label nearest to `y`, and a control point
        // outside it, so the curve meets the label square on.
        let side = |y: f64| {
            if (y - top).abs() < (y - bottom).abs() {
                (Point::new(cx, top), Point::new(cx, top - 24.0))
            } else {
                (Point::new(cx, bottom), Point::new(cx, bottom + 24.0))
            }
        };
        // A path's first pair is (start, its control); the others are
        // (control, point).
        if let Some((path, _)) = &mut halves[0]
            && let Some(end) = path.last_mut()
        {
            let (at, control) = side(end.1.y);
            *end = (control, at);
        }
        if let Some((path, _)) = &mut halves[1]
            && let Some(start) = path.first_mut()
        {
            *start = side(start.0.y);
        }
    }
    d
}

/// An edge label's width and height, px.
fn label_size(lines: &[String]) -> (f64, f64) {
    let w = lines
        .iter()
        .map(|l| l.chars().count() as f64 * LABEL_PX * 0.6)
        .fold(0.0, f64::max);
    (w + 6.0, lines.len() as f64 * 14.0 + 4.0)
}

/// The SVG document.
fn draw(title: &str, boxes: &[NodeBox], arrows: &[ArrowDef], d: &Drawing) -> String {
    // The drawing's extent.
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut grow = |p: Point| {
        x0 = x0.min(p.x);
        y0 = y0.min(p.y);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
    };
    for (xy, size) in d.boxes.iter().flatten() {
        grow(*xy);
        grow(Point::new(xy.x + size.x, xy.y + size.y));
    }
    for (path, _) in d.paths.iter().flatten().flatten() {
        for (p, c) in path {
            grow(*p);
            grow(*c);
        }
    }
    for (xy, size) in d.labels.iter().flatten() {
        grow(*xy);
        grow(Point::new(xy.x + size.x, xy.y + size.y));
    }
    if x0 > x1 {
        (x0, y0, x1, y1) = (0.0, 0.0, 0.0, 0.0);
    }
    let legend_w = 620.0;
    let width = (x1 - x0 + 2.0 * MARGIN).max(legend_w + 2.0 * MARGIN).ceil();
    let height = (y1 - y0 + 2.0 * MARGIN + TITLE_H + LEGEND_H).ceil();
    let dx = MARGIN - x0 + ((width - 2.0 * MARGIN) - (x1 - x0)) / 2.0;
    let dy = MARGIN + TITLE_H - y0;
    let at = |p: Point| (p.x + dx, p.y + dy);
    let max_rate = arrows.iter().map(|a| a.rate).fold(0.0, f64::max);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT}">"##
    );
    s.push_str(r##"<defs><marker id="topology-head" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##);
    s.push('\n');
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{MARGIN}" y="28" font-size="18" fill="#222">{}</text>"##,
        xml(title)
    );

    // Arrows under the boxes.
    s.push_str("<g fill=\"none\" stroke=\"#555\">\n");
    for (a, halves) in arrows.iter().zip(&d.paths) {
        let w = if max_rate > 0.0 {
            1.0 + 3.0 * (1.0 + a.rate).ln() / (1.0 + max_rate).ln()
        } else {
            1.0
        };
        let tip = xml(&a.lines.join("; "));
        for (path, head) in halves.iter().flatten() {
            let head = match head {
                (true, _) => " marker-start=\"url(#topology-head)\"",
                (false, true) => " marker-end=\"url(#topology-head)\"",
                (false, false) => "",
            };
            let _ = writeln!(
                s,
                "<path d=\"{}\" stroke-width=\"{w:.2}\"{head}><title>{tip}</title></path>",
                svg_path(path, at)
            );
        }
    }
    s.push_str("</g>\n");

    // Boxes.
    for (b, pos) in boxes.iter().zip(&d.boxes) {
        let Some((xy, size)) = pos else { continue };
        let (x, y) = at(*xy);
        let stroke = if b.fill == NEUTRAL.0 { "#999" } else { "#555" };
        let _ = writeln!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" rx="6" fill="{}" stroke="{stroke}"/>"##,
            size.x, size.y, b.fill
        );
        let cx = x + size.x / 2.0;
        let top = y + (size.y - b.lines.len() as f64 * LINE_H) / 2.0 + LINE_H - 3.0;
        for (i, line) in b.lines.iter().enumerate() {
            let (px, weight) = if i == 0 {
                (NAME_PX, " font-weight=\"bold\"")
            } else {
                (DETAIL_PX, "")
            };
            let _ = writeln!(
                s,
                r##"<text x="{cx:.1}" y="{:.1}" font-size="{px}"{weight} text-anchor="middle" fill="{}">{}</text>"##,
                top + i as f64 * LINE_H,
                b.ink,
                xml(line)
            );
        }
    }

    // Edge labels in their boxes.
    for (a, pos) in arrows.iter().zip(&d.labels) {
        let Some((xy, size)) = pos else { continue };
        let (x, y) = at(*xy);
        let cx = x + size.x / 2.0;
        for (i, line) in a.lines.iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="{cx:.1}" y="{:.1}" font-size="{LABEL_PX}" text-anchor="middle" fill="#333">{}</text>"##,
                y + 13.0 + i as f64 * 14.0,
                xml(line)
            );
        }
    }

    // Legend.
    let ly = height - LEGEND_H + 14.0;
    let mut lx = MARGIN;
    let _ = writeln!(
        s,
        r##"<text x="{lx}" y="{:.1}" font-size="11" fill="#333">Peak utilisation:</text>"##,
        ly + 11.0
    );
    lx += 100.0;
    let swatches = BANDS
        .iter()
        .map(|b| (b.1, b.3))
        .chain(std::iter::once((NEUTRAL.0, NEUTRAL.2)));
    for (fill, text) in swatches {
        let _ = writeln!(
            s,
            r##"<rect x="{lx:.1}" y="{ly:.1}" width="14" height="14" rx="3" fill="{fill}" stroke="#777"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{}</text>"##,
            lx + 19.0,
            ly + 11.0,
            xml(text)
        );
        lx += 19.0 + text.chars().count() as f64 * 6.2 + 16.0;
    }
    s.push_str("</svg>\n");
    s
}

/// An SVG path through layout-rs's Bézier points, moved by `at`.
fn svg_path(path: &[(Point, Point)], at: impl Fn(Point) -> (f64, f64)) -> String {
    let (px, py) = at(path[0].0);
    let (cx, cy) = at(path[0].1);
    let mut d = format!("M{px:.1},{py:.1} C{cx:.1},{cy:.1}");
    for (i, (p, c)) in path.iter().enumerate().skip(1) {
        let (px, py) = at(*p);
        let (cx, cy) = at(*c);
        let sep = if i == 1 { " " } else { " S" };
        let _ = write!(d, "{sep}{px:.1},{py:.1} {cx:.1},{cy:.1}");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random graphs — trees, fan-ins, cycles, self-loops, several edges
    /// between one pair, isolated nodes — are laid out without a panic,
    /// every box and label placed, into an SVG that parses, and the same
    /// graph gives the same bytes.
    #[test]
    fn any_graph_is_laid_out() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for case in 0..150 {
            let n = 1 + next(14) as usize;
            let boxes: Vec<NodeBox> = (0..n)
                .map(|i| NodeBox {
                    lines: (0..1 + next(3))
                        .map(|l| format!("node {i} line {l}"))
                        .collect(),
                    fill: BANDS[next(4) as usize].1,
                    ink: "#222",
                })
                .collect();
            let arrows: Vec<ArrowDef> = (0..next(2 * n as u64 + 1))
                .map(|_| ArrowDef {
                    from: next(n as u64) as usize,
                    to: next(n as u64) as usize,
                    lines: vec!["call 12.5/s · p99 3.25 ms".into(); 1 + next(2) as usize],
                    rate: next(1000) as f64,
                })
                .collect();
            let d = layout(&boxes, &arrows);
            assert!(
                d.boxes.iter().all(Option::is_some),
                "case {case}: a box unplaced"
            );
            let svg = draw("t", &boxes, &arrows, &d);
            roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("case {case}: {e}"));
            assert_eq!(svg, draw("t", &boxes, &arrows, &layout(&boxes, &arrows)));
        }
    }

    /// Names are escaped; the colour band follows the peak utilisation.
    #[test]
    fn boxes_escape_names_and_colour_by_peak() {
        let node = |u: Option<f64>| TopologyNode {
            id: "service:<a&b>".into(),
            kind: "service".into(),
            name: "<a&b>".into(),
            peak_utilisation: u,
        };
        let scenario = r#"{"name": "t", "duration": "1s",
            "workloads": [{"name": "w", "target": "s", "rate": [{"rps": 10}], "mix": {"x": 1}}],
            "services": [{"name": "s", "replicas": 1, "concurrency": 1,
                          "endpoints": {"x": [{"compute": "1ms"}]}}]}"#;
        let model = models::load("t.json", scenario, &[]).expect("loads").1;
        let r = models::simulate(&model).expect("runs");
        for (u, fill) in [
            (Some(0.2), "#ffffcc"),
            (Some(0.5), "#fed976"),
            (Some(0.84), "#fd8d3c"),
            (Some(0.85), "#e31a1c"),
            (Some(1.0), "#e31a1c"),
            (None, NEUTRAL.0),
        ] {
            assert_eq!(NodeBox::of(&node(u), &r).fill, fill, "{u:?}");
        }
        let b = NodeBox::of(&node(Some(0.9)), &r);
        let d = layout(std::slice::from_ref(&b), &[]);
        let svg = draw("t", std::slice::from_ref(&b), &[], &d);
        assert!(svg.contains("&lt;a&amp;b&gt;") && !svg.contains("<a&b>"));
        assert!(svg.contains("peak 90.0% busy"));
    }
}
