//! JUnit XML for CI systems: one `<testsuite>` per scenario, one
//! `<testcase>` per objective, a `<failure>` for a failed objective or a
//! regression. GitHub (test-reporter actions), GitLab (`artifacts:reports:
//! junit`) and Jenkins read this shape. No timing attributes: the file is
//! deterministic, like every other output. Unprintable characters are
//! written as visible escapes (`\u{1b}`), so the file always parses.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use models::{CheckReport, CheckStatus};

use reports::fmt::{Unit, change, estimate, margin};
use reports::terminal::check::{failure_sentence, label, limit_text};

/// The JUnit document of a check.
pub fn junit(c: &CheckReport) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let count = |f: &dyn Fn(&models::ObjectiveCheck) -> bool| {
        c.scenarios
            .iter()
            .flat_map(|s| &s.objectives)
            .filter(|o| f(o))
            .count()
            .to_string()
    };
    let tests = count(&|_| true);
    let failures = count(&|o| o.failed);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .expect("writing to memory");
    w.create_element("testsuites")
        .with_attribute(("name", "capsim check"))
        .with_attribute(("tests", tests.as_str()))
        .with_attribute(("failures", failures.as_str()))
        .with_attribute(("errors", "0"))
        .write_inner_content(|w| {
            for s in &c.scenarios {
                let tests = s.objectives.len().to_string();
                let failures = s.objectives.iter().filter(|o| o.failed).count().to_string();
                let classname = format!("capsim.{}", s.scenario);
                w.create_element("testsuite")
                    .with_attribute(("name", s.scenario.as_str()))
                    .with_attribute(("tests", tests.as_str()))
                    .with_attribute(("failures", failures.as_str()))
                    .with_attribute(("errors", "0"))
                    .with_attribute(("skipped", "0"))
                    .write_inner_content(|w| {
                        w.create_element("properties").write_inner_content(|w| {
                            let seed = s.seed.to_string();
                            let reps = s.replications.to_string();
                            let tol = format!("{}", c.tolerance);
                            let mut props = vec![
                                ("file", s.file.as_str()),
                                ("seed", seed.as_str()),
                                ("replications", reps.as_str()),
                                ("scenario_hash", s.scenario_hash.as_str()),
                            ];
                            if let Some(b) = &c.baseline {
                                props.push(("baseline", b.as_str()));
                                props.push(("tolerance", tol.as_str()));
                            }
                            for (k, v) in props {
                                w.create_element("property")
                                    .with_attribute(("name", k))
                                    .with_attribute(("value", v))
                                    .write_empty()?;
                            }
                            Ok(())
                        })?;
                        for o in &s.objectives {
                            let name = label(o);
                            let unit = Unit::of(&o.objective.slo);
                            let mut detail = format!(
                                "measured {} (limit {}, margin {}; {} replication(s), seed {})",
                                estimate(&o.estimate, unit),
                                limit_text(o),
                                margin(&o.estimate, o.margin, unit.change()),
                                s.replications,
                                s.seed
                            );
                            if o.status == CheckStatus::Marginal {
                                detail.push_str("; marginal: the 95% interval straddles the limit");
                            }
                            if let Some(b) = &o.baseline {
                                detail.push_str(&format!(
                                    "; baseline {}, worse by {}{}",
                                    estimate(&b.estimate, unit),
                                    change(&b.worse_by, unit.change()),
                                    if b.regression { " (REGRESSION)" } else { "" }
                                ));
                            }
                            w.create_element("testcase")
                                .with_attribute(("name", name.as_str()))
                                .with_attribute(("classname", classname.as_str()))
                                .write_inner_content(|w| {
                                    if o.failed {
                                        let msg = failure_sentence(o, c.strict)
                                            .unwrap_or_else(|| "failed".to_string());
                                        let kind = match (o.fails_limit(c.strict), o.regressed()) {
                                            (true, true) => "slo, regression",
                                            (false, true) => "regression",
                                            _ => "slo",
                                        };
                                        w.create_element("failure")
                                            .with_attribute(("message", msg.as_str()))
                                            .with_attribute(("type", kind))
                                            .write_text_content(BytesText::new(&detail))?;
                                    }
                                    w.create_element("system-out")
                                        .write_text_content(BytesText::new(&detail))?;
                                    Ok(())
                                })?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })
        .expect("writing to memory");
    let text = String::from_utf8(w.into_inner()).expect("UTF-8 in, UTF-8 out");
    // The writer escapes markup but not control characters, which XML 1.0
    // forbids even as references (a CI server then drops the whole
    // report): scenario names, files and a baseline's contents may hold
    // them when they did not come through validation.
    format!("{}\n", models::printable_lines(&text))
}
