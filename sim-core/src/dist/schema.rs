//! JSON Schemas of the distribution forms, for `capsim schema`: written by
//! hand because [`DistSpec`] and [`EmpiricalSpec`] have hand-written
//! `Deserialize` impls, and each schema says exactly what those accept.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::empirical::EmpiricalSpec;
use super::spec::{DistSpec, LogNormalSpec, MixtureComponent};
use crate::time::SimDuration;

/// Makes the schema of one field.
type FieldSchema = fn(&mut SchemaGenerator) -> Schema;

/// A closed object: exactly the `fields` (every one required), each with
/// the schema its function gives.
fn closed(generator: &mut SchemaGenerator, fields: &[(&str, FieldSchema)]) -> Schema {
    let properties: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(name, of)| ((*name).to_owned(), of(generator).to_value()))
        .collect();
    let required: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    json_schema!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// `object` (a [`closed`] one) also allows each of `fields` as `null`,
/// which the parser reads as absent, as it does for every optional field.
fn with_nulls(mut object: Schema, fields: &[&str]) -> Schema {
    if let Some(properties) = object
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
    {
        for name in fields {
            properties.insert((*name).to_owned(), serde_json::json!({ "type": "null" }));
        }
    }
    object
}

fn duration(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<SimDuration>()
}

fn positive_number(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "number", "exclusiveMinimum": 0 })
}

fn phases(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer", "minimum": 1, "maximum": u32::MAX })
}

/// A distribution: a bare duration string (a constant) or an object with
/// exactly one kind.
impl JsonSchema for DistSpec {
    fn schema_name() -> Cow<'static, str> {
        "Distribution".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let kinds: [(&str, Schema); 11] = [
            ("constant", duration(generator)),
            ("exponential", closed(generator, &[("mean", duration)])),
            (
                "uniform",
                closed(generator, &[("min", duration), ("max", duration)]),
            ),
            (
                "normal",
                closed(generator, &[("mean", duration), ("stddev", duration)]),
            ),
            ("lognormal", generator.subschema_for::<LogNormalSpec>()),
            (
                "gamma",
                closed(generator, &[("mean", duration), ("cv", positive_number)]),
            ),
            (
                "erlang",
                closed(generator, &[("k", phases), ("mean", duration)]),
            ),
            (
                "pareto",
                closed(
                    generator,
                    &[("scale", duration), ("shape", positive_number)],
                ),
            ),
            (
                "weibull",
                closed(
                    generator,
                    &[("scale", duration), ("shape", positive_number)],
                ),
            ),
            ("empirical", generator.subschema_for::<EmpiricalSpec>()),
            (
                "mixture",
                json_schema!({
                    "type": "array",
                    "items": generator.subschema_for::<MixtureComponent>(),
                    "minItems": 1,
                }),
            ),
        ];
        let tagged: Vec<serde_json::Value> = kinds
            .into_iter()
            .map(|(kind, schema)| {
                json_schema!({
                    "type": "object",
                    "properties": { kind: schema },
                    "required": [kind],
                    "additionalProperties": false,
                })
                .to_value()
            })
            .collect();
        let mut one_of = vec![duration(generator).to_value()];
        one_of.extend(tagged);
        json_schema!({
            "description": "A distribution: a duration string (always that value, e.g. \"5ms\") \
                            or an object with exactly one kind, e.g. \
                            {\"exponential\": {\"mean\": \"20ms\"}}.",
            "oneOf": one_of,
        })
    }
}

/// A lognormal by its moments or by two percentiles, never a mix.
impl JsonSchema for LogNormalSpec {
    fn schema_name() -> Cow<'static, str> {
        "LogNormal".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A lognormal: {\"mean\", \"stddev\"} of the values, or \
                            {\"median\", \"p99\"}.",
            "oneOf": [
                with_nulls(
                    closed(generator, &[("mean", duration), ("stddev", duration)]),
                    &["median", "p99"],
                ),
                with_nulls(
                    closed(generator, &[("median", duration), ("p99", duration)]),
                    &["mean", "stddev"],
                ),
            ],
        })
    }
}

/// A percentile table: `max` required, `min` optional, and percentile keys
/// `p50`, `p99.9`, `p999`, ... (digits with at most one inner dot).
impl JsonSchema for EmpiricalSpec {
    fn schema_name() -> Cow<'static, str> {
        "Empirical".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let duration = duration(generator);
        json_schema!({
            "description": "A percentile table such as {\"p50\": \"12ms\", \"p99\": \"80ms\", \
                            \"max\": \"200ms\"}: `max` required, `min` optional (default 0s), \
                            values not decreasing in percentile order.",
            "type": "object",
            "properties": { "min": duration, "max": duration },
            "patternProperties": { r"^p[0-9]+(\.[0-9]+)?$": duration },
            "required": ["max"],
            "additionalProperties": false,
        })
    }
}
