//! What a sweep varies: dimensions parsed from `--vary PATH=VALUES` (or a
//! scenario's `sweeps` section) and the grid of variants they span.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use models::Dimension;

/// A `--vary` argument that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--vary {arg}: {reason}")]
pub struct VaryError {
    /// The argument as given.
    pub arg: String,
    /// What is wrong.
    pub reason: String,
}

/// Most variants one sweep may have.
pub const MAX_VARIANTS: usize = 1_000_000;

/// Parses `PATH=VALUES`. VALUES is one of:
/// - a list `4,8,16` or `hash,range` (each item is JSON if it parses as
///   JSON — numbers, `true`, quoted strings — otherwise a plain string);
/// - an integer range `4..=32:4` (inclusive) or `4..32:4` (exclusive end),
///   the `:STEP` optional (default 1);
/// - a JSON array `[{"zipf": {"n": 100, "s": 1.1}}, "x"]` for values that
///   contain commas.
pub fn parse_vary(arg: &str) -> Result<Dimension, VaryError> {
    let err = |reason: &str| VaryError {
        arg: arg.to_string(),
        reason: reason.to_string(),
    };
    let (path, values) = arg
        .split_once('=')
        .ok_or_else(|| err("expected PATH=VALUES, e.g. services.app.replicas=4,8,16"))?;
    let path = path.trim();
    if path.is_empty() {
        return Err(err("the path before `=` is empty"));
    }
    let text = values.trim();
    if text.is_empty() {
        return Err(err("no values after `=`"));
    }
    let values = if text.starts_with('[') {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(v)) => v,
            Ok(_) => return Err(err("expected a JSON array")),
            Err(e) => return Err(err(&format!("invalid JSON array: {e}"))),
        }
    } else if let Some((from, rest)) = text.split_once("..") {
        parse_range(from, rest).map_err(|r| err(&r))?
    } else {
        text.split(',')
            .map(|item| {
                let item = item.trim();
                if item.is_empty() {
                    return Err(err("an empty value in the list"));
                }
                if let Some((from, to)) = item.split_once('-')
                    && [from, to]
                        .iter()
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(err(&format!(
                        "`{item}` is not a range: for a range write {from}..={to} \
                         (quote it, \"{item}\", to mean the string)"
                    )));
                }
                Ok(serde_json::from_str::<Value>(item)
                    .unwrap_or_else(|_| Value::String(item.to_string())))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    if values.is_empty() {
        return Err(err("no values"));
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(err(&format!("the value {v} appears twice")));
        }
    }
    Ok(Dimension {
        path: path.to_string(),
        values,
    })
}

fn parse_range(from: &str, rest: &str) -> Result<Vec<Value>, String> {
    let (inclusive, rest) = match rest.strip_prefix('=') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (to, step) = match rest.split_once(':') {
        Some((t, s)) => (t, Some(s)),
        None => (rest, None),
    };
    let int = |s: &str, what: &str| -> Result<i64, String> {
        s.trim().parse::<i64>().map_err(|_| {
            format!(
                "the range {what} `{}` is not an integer (ranges are integers: 4..=32:4)",
                s.trim()
            )
        })
    };
    let a = int(from, "start")?;
    let b = int(to, "end")?;
    let step = match step {
        Some(s) => int(s, "step")?,
        None => 1,
    };
    if step <= 0 {
        return Err(format!("the step must be positive, got {step}"));
    }
    let end = if inclusive { b } else { b - 1 };
    if end < a {
        return Err(format!(
            "the range {a}..{}{b} is empty",
            if inclusive { "=" } else { "" }
        ));
    }
    let count = (end - a) / step + 1;
    if count as usize > MAX_VARIANTS {
        return Err(format!(
            "the range has {count} values; at most {MAX_VARIANTS}"
        ));
    }
    Ok((0..count).map(|i| Value::from(a + i * step)).collect())
}

/// One point of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Position in the grid (first dimension outermost).
    pub index: usize,
    /// `(path, value)` per dimension.
    pub params: Vec<(String, Value)>,
}

impl Variant {
    /// The `--set` assignments that make this variant.
    pub fn sets(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|(p, v)| format!("{p}={}", serde_json::to_string(v).expect("JSON value")))
            .collect()
    }

    /// A short label: `replicas=8 strategy=hash`.
    pub fn label(&self) -> String {
        reports::fmt::params(self.params.iter().map(|(p, v)| (p, v)))
    }
}

/// The grid spanned by `dims`: their cartesian product, first dimension
/// outermost (slowest), each dimension's values in the order given.
pub fn grid(dims: &[Dimension]) -> Result<Vec<Variant>, String> {
    let mut total: usize = 1;
    for d in dims {
        total = total
            .checked_mul(d.values.len())
            .filter(|t| *t <= MAX_VARIANTS)
            .ok_or_else(|| format!("the grid has more than {MAX_VARIANTS} variants"))?;
    }
    let mut out = Vec::with_capacity(total);
    for index in 0..total {
        let mut rem = index;
        let mut params = vec![(String::new(), Value::Null); dims.len()];
        for (k, d) in dims.iter().enumerate().rev() {
            let n = d.values.len();
            params[k] = (d.path.clone(), d.values[rem % n].clone());
            rem /= n;
        }
        out.push(Variant { index, params });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_ranges_and_json_arrays() {
        assert_eq!(
            parse_vary("a.b=4,8,16").unwrap().values,
            vec![json!(4), json!(8), json!(16)]
        );
        assert_eq!(
            parse_vary("s=hash,range").unwrap().values,
            vec![json!("hash"), json!("range")]
        );
        assert_eq!(
            parse_vary("x=4..=16:4").unwrap().values,
            vec![json!(4), json!(8), json!(12), json!(16)]
        );
        assert_eq!(
            parse_vary("x=1..4").unwrap().values,
            vec![json!(1), json!(2), json!(3)]
        );
        assert_eq!(parse_vary("x=2..=2").unwrap().values, vec![json!(2)]);
        assert_eq!(
            parse_vary("t=\"2s\",5s").unwrap().values,
            vec![json!("2s"), json!("5s")]
        );
        assert_eq!(
            parse_vary(r#"k=[{"zipf":{"n":10,"s":1.1}},"x"]"#)
                .unwrap()
                .values,
            vec![json!({"zipf": {"n": 10, "s": 1.1}}), json!("x")]
        );
        assert_eq!(
            parse_vary("x=0.5,1.5").unwrap().values,
            vec![json!(0.5), json!(1.5)]
        );
        // A string that looks like a range, quoted.
        assert_eq!(
            parse_vary("x=\"8-16\",a-b").unwrap().values,
            vec![json!("8-16"), json!("a-b")]
        );
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        for (arg, needle) in [
            ("novalues", "PATH=VALUES"),
            ("=1,2", "path"),
            ("x=", "no values"),
            ("x=1,,2", "empty value"),
            ("x=1..a", "not an integer"),
            ("x=5..=1", "empty"),
            ("x=1..=9:0", "step must be positive"),
            ("x=1..=9:-2", "step must be positive"),
            ("x=[1,2", "invalid JSON"),
            ("x=4,4", "appears twice"),
            ("x=0..=2000000", "at most"),
            ("x=8-16", "`8-16` is not a range: for a range write 8..=16"),
            ("x=4,8-16", "for a range write 8..=16"),
        ] {
            let e = parse_vary(arg).unwrap_err();
            assert!(e.to_string().contains(needle), "{arg}: {e}");
            assert!(e.to_string().starts_with(&format!("--vary {arg}")), "{e}");
        }
    }

    #[test]
    fn grid_is_the_cartesian_product_first_dimension_outermost() {
        let dims = vec![parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()];
        let g = grid(&dims).unwrap();
        let labels: Vec<String> = g.iter().map(Variant::label).collect();
        assert_eq!(
            labels,
            [
                "a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z"
            ]
        );
        assert_eq!(g[4].sets(), ["a=2", "b=\"y\""]);
        assert_eq!(
            grid(&[]).unwrap().len(),
            1,
            "no dimension: the base scenario alone"
        );
    }

    #[test]
    fn oversized_grids_are_refused() {
        let d = parse_vary("a=1..=1001").unwrap();
        assert!(grid(&[d.clone(), d]).is_err());
    }
}
