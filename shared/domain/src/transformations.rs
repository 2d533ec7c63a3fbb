//! Transformations: a webhook's jq program, the event document it reads, the `{body, headers}`
//! it must answer, and what a failed one says. Running programs is the sandbox's job
//! (`hookline-transform`); this module holds the contract both sides keep.

use crate::error::Problem;
use crate::model::{Message, Webhook};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The longest program a webhook may have, in bytes.
pub const MAX_PROGRAM_BYTES: usize = 16 * 1024;

/// The JSON:API type of a transformation test.
pub const TEST_TYPE: &str = "transformation_tests";

/// Where a program stops parsing (or names something undefined), 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramError {
    /// What is wrong, in jq's terms.
    pub message: String,
    /// The line of the first offending character.
    pub line: u32,
    /// Its column, in characters.
    pub column: u32,
}

impl ProgramError {
    /// The error at byte `offset` of `program`.
    pub fn at(program: &str, offset: usize, message: impl Into<String>) -> Self {
        let before = program.get(..offset.min(program.len())).unwrap_or(program);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        Self {
            message: message.into(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    /// The 422 problem of this error at `pointer`.
    pub fn problem(&self, pointer: &str) -> Problem {
        Problem::at(pointer, "invalid_transformation", self.to_string())
    }
}

impl std::fmt::Display for ProgramError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

/// Why a transformation gave nothing to send. A sandbox that cannot be started is not one of
/// these: it is the worker's fault, an [`crate::Error::Unavailable`], and the task is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformFailure {
    /// The program does not parse or compile.
    #[error("the program does not parse: {0}")]
    Program(ProgramError),
    /// It failed on this event: a jq error, no output, a wrong output, or over its time or memory.
    #[error("{0}")]
    Failed(String),
}

/// What a transformation made of an event: the body the webhook receives and extra headers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transformed {
    /// Sent as the JSON body, and signed.
    pub body: Value,
    /// Sent besides the webhook's own headers (and over them, when a name is the same).
    pub headers: BTreeMap<String, String>,
}

/// The document a program reads: the event as this webhook would receive it.
pub fn input(message: &Message, webhook: &Webhook) -> Value {
    event_document(&message.id, &message.event_type, message.created_at, &message.payload, &webhook.headers)
}

/// The document a program reads, from its parts (a test runs a sample event that is no message).
pub fn event_document(
    id: &str,
    event_type: &str,
    at: chrono::DateTime<chrono::Utc>,
    payload: &Value,
    headers: &BTreeMap<String, String>,
) -> Value {
    json!({
        "id": id,
        "type": event_type,
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "payload": payload,
        "headers": headers,
    })
}

/// Reads a program's output: an object with `body` and, optionally, `headers` (names and
/// values a custom header could have).
pub fn output(value: Value) -> Result<Transformed, TransformFailure> {
    let wrong = |why: &str| {
        TransformFailure::Failed(format!("the output must be an object {{\"body\": …, \"headers\": {{…}}}}: {why}"))
    };
    let Value::Object(mut object) = value else { return Err(wrong("it is not an object")) };
    let Some(body) = object.remove("body") else { return Err(wrong("it has no `body`")) };
    let headers = match object.remove("headers") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(headers) => serde_json::from_value::<BTreeMap<String, String>>(headers)
            .map_err(|_| wrong("`headers` maps names to strings"))?,
    };
    if let Some(other) = object.keys().next() {
        return Err(wrong(&format!("`{other}` is neither `body` nor `headers`")));
    }
    crate::webhooks::validate::validate_headers(headers.clone(), "/headers").map_err(|problems| {
        TransformFailure::Failed(format!(
            "the output's headers: {}",
            problems.iter().map(|problem| problem.detail.as_str()).collect::<Vec<_>>().join("; ")
        ))
    })?;
    Ok(Transformed { body, headers })
}

/// A transformation test, read: what to run, on what (each `None` takes its default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestRequest {
    /// The program.
    pub program: Option<String>,
    /// The event type.
    pub event_type: Option<String>,
    /// The payload, an object.
    pub payload: Option<Value>,
}

fn test_shape(at: &str) -> Problem {
    match at {
        "/data/attributes/transformation" => program_problem(at),
        "/data/attributes/event_type" => Problem::at(at, "invalid_event_type", "an event type's name"),
        "/data/attributes/payload" => payload_problem(at),
        "/data/type" => Problem::at(at, "invalid_type", format!("`data.type` is \"{TEST_TYPE}\"")),
        _ => Problem::at("/data", "not_an_object", "a `data` object with `attributes`, or no body"),
    }
}

fn program_problem(at: &str) -> Problem {
    Problem::at(at, "invalid_transformation", format!("a jq program of 1 to {MAX_PROGRAM_BYTES} bytes"))
}

fn payload_problem(at: &str) -> Problem {
    Problem::at(at, "invalid_payload", "a JSON object, as an event's payload")
}

/// Reads a transformation test's document (an empty body is `{}`: every default).
pub fn parse_test(document: &Value) -> Result<TestRequest, crate::Error> {
    let read: crate::documents::TransformationTestDocument = crate::documents::read(document, test_shape)?;
    let Some(data) = read.data else { return Ok(TestRequest::default()) };
    if data.kind.as_deref().is_some_and(|kind| kind != TEST_TYPE) {
        return Err(crate::Error::Invalid(vec![test_shape("/data/type")]));
    }
    let attributes = data.attributes;
    let mut problems = Vec::new();
    if let Some(unknown) = attributes.other.keys().next() {
        problems.push(Problem::at(
            format!("/data/attributes/{}", crate::documents::escape(unknown)),
            "unknown_attribute",
            "`transformation`, `event_type` and `payload` only",
        ));
    }
    if attributes
        .transformation
        .as_ref()
        .is_some_and(|program| program.trim().is_empty() || program.len() > MAX_PROGRAM_BYTES)
    {
        problems.push(program_problem("/data/attributes/transformation"));
    }
    if attributes.event_type.as_ref().is_some_and(|name| !crate::webhooks::is_event_type_name(name)) {
        problems.push(test_shape("/data/attributes/event_type"));
    }
    if attributes.payload.as_ref().is_some_and(|payload| !payload.is_object()) {
        problems.push(payload_problem("/data/attributes/payload"));
    }
    if !problems.is_empty() {
        return Err(crate::Error::Invalid(problems));
    }
    Ok(TestRequest {
        program: attributes.transformation,
        event_type: attributes.event_type,
        payload: attributes.payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_error_is_on_a_later_line_should_count_lines_and_characters_from_one() {
        let error = ProgramError::at("{a: 1,\n  é: }", 12, "expected term");
        assert_eq!((error.line, error.column), (2, 5));
        assert_eq!(error.to_string(), "line 2, column 5: expected term");
        assert_eq!(ProgramError::at("", 0, "x").line, 1);
    }

    #[test]
    fn when_output_is_body_and_headers_should_read_both_and_refuse_anything_else() {
        let read = output(json!({"body": {"text": "hi"}, "headers": {"X-Kind": "paid"}})).expect("valid");
        assert_eq!(read.body, json!({"text": "hi"}));
        assert_eq!(read.headers.get("X-Kind").map(String::as_str), Some("paid"));
        assert_eq!(output(json!({"body": null})).expect("a null body is a body").body, Value::Null);
        for wrong in [
            json!("text"),
            json!({"text": "hi"}),
            json!({"body": 1, "extra": 2}),
            json!({"body": 1, "headers": {"X": 1}}),
            json!({"body": 1, "headers": {"webhook-signature": "forged"}}),
            json!({"body": 1, "headers": {"content-length": "1"}}),
            json!({"body": 1, "headers": {"bad name": "x"}}),
        ] {
            assert!(matches!(output(wrong.clone()), Err(TransformFailure::Failed(_))), "{wrong}");
        }
    }

    #[test]
    fn when_test_document_is_read_should_default_what_is_missing_and_point_at_what_is_wrong() {
        assert_eq!(parse_test(&json!({})).expect("empty"), TestRequest::default());
        let full = json!({"data": {"type": TEST_TYPE, "attributes": {"transformation": "{body: .}", "event_type": "invoice.paid", "payload": {"id": 1}}}});
        let read = parse_test(&full).expect("full");
        assert_eq!(read.program.as_deref(), Some("{body: .}"));
        assert_eq!(read.payload, Some(json!({"id": 1})));
        for (document, pointer) in [
            (json!({"data": {"attributes": {"payload": [1]}}}), "/data/attributes/payload"),
            (json!({"data": {"attributes": {"transformation": 5}}}), "/data/attributes/transformation"),
            (json!({"data": {"attributes": {"transformation": " "}}}), "/data/attributes/transformation"),
            (json!({"data": {"attributes": {"event_type": "no spaces allowed"}}}), "/data/attributes/event_type"),
            (json!({"data": {"attributes": {"sample": {}}}}), "/data/attributes/sample"),
            (json!({"data": {"type": "webhooks"}}), "/data/type"),
            (json!({"data": 3}), "/data"),
        ] {
            let Err(crate::Error::Invalid(problems)) = parse_test(&document) else { panic!("{document} is refused") };
            assert_eq!(problems[0].source, Some(crate::Source::Pointer(pointer.into())), "{document}");
        }
    }
}
