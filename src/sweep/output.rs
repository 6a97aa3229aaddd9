//! `sweep.csv`, beside `sweep.json` (the summary printed in a terminal is
//! `reports::terminal::sweep`), written with the `csv` crate (quoting as
//! RFC 4180 does, `\n` line ends).
//!
//! Text cells a spreadsheet would evaluate as a formula (starting with
//! `=`, `+`, `-`, `@`, a tab or a carriage return, as OWASP lists them)
//! are neutralised with a leading `'`; numbers, including negative ones,
//! stay numbers. Unprintable characters in text are written as their
//! escapes (`\u{1b}`).

use reports::fmt::value_text;
use serde_json::Value;

use super::SweepResult;

/// `sweep.csv`: one row per variant (grid order), the parameters, the
/// replication count, then `NAME_mean` and `NAME_ci95` for every metric.
pub fn csv(result: &SweepResult) -> String {
    let names: Vec<String> = result
        .variants
        .first()
        .map(|v| v.metrics.keys().cloned().collect())
        .unwrap_or_default();
    let mut header: Vec<String> = result
        .identity
        .dims
        .iter()
        .map(|d| text_cell(&d.path))
        .collect();
    header.push("replications".into());
    for n in &names {
        header.push(text_cell(&format!("{n}_mean")));
        header.push(text_cell(&format!("{n}_ci95")));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).expect("writing to memory");
    for v in &result.variants {
        let mut row: Vec<String> = v.params.values().map(param_cell).collect();
        row.push(v.replications.to_string());
        for n in &names {
            match v.metrics.get(n) {
                Some(e) => {
                    row.push(e.mean.to_string());
                    row.push(e.ci95.map_or(String::new(), |h| h.to_string()));
                }
                None => row.extend([String::new(), String::new()]),
            }
        }
        w.write_record(&row).expect("writing to memory");
    }
    let bytes = w.into_inner().expect("writing to memory");
    String::from_utf8(bytes).expect("UTF-8 in, UTF-8 out")
}

/// A varied value's cell: a number as it is, anything else as text.
fn param_cell(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        other => text_cell(&value_text(other)),
    }
}

/// A text cell that no spreadsheet evaluates: unprintable characters
/// escaped, then a leading `'` if it would start a formula. Text that
/// reads as a finite number (`-3.5`) is left alone: a spreadsheet takes
/// it as that number, not as a formula.
fn text_cell(s: &str) -> String {
    let s = models::printable(s);
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r'])
        && !s.parse::<f64>().is_ok_and(f64::is_finite);
    if formula {
        format!("'{s}")
    } else {
        s.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Formulas are neutralised, numbers and ordinary text are not.
    #[test]
    fn formula_cells_get_a_quote_and_numbers_stay() {
        for (text, cell) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-inf", "'-inf"),
            ("-3.5", "-3.5"),
            ("+4", "+4"),
            ("hash", "hash"),
            ("a=b", "a=b"),
            ("x\u{1b}[2J", "x\\u{1b}[2J"),
        ] {
            assert_eq!(text_cell(text), cell, "{text}");
        }
        assert_eq!(param_cell(&serde_json::json!(-3.5)), "-3.5");
        assert_eq!(param_cell(&serde_json::json!("=1+1")), "'=1+1");
    }
}
