//! Erasure requests read and erasure jobs rendered.

use crate::documents::{self, ErasureAttributes, ErasureDocument, ErasureInputDocument, ErasureResource, SelfLink};
use crate::error::{Error, Problem};
use crate::events::MAX_SUBJECT;
use crate::model::{Erasure, ErasureStatus};
use crate::webhooks::timestamp;
use serde_json::Value;

/// The JSON:API type of erasures.
pub const TYPE: &str = "erasures";

fn shape(at: &str) -> Problem {
    match at {
        "/data/attributes/subject" => subject_problem(),
        "/data/type" => Problem::at(at, "invalid_type", "`data.type` is \"erasures\""),
        "/data/attributes" => Problem::at(at, "missing_attributes", "`data.attributes` is an object with `subject`"),
        _ => Problem::at("/data", "missing_data", "the document needs a `data` object"),
    }
}

fn subject_problem() -> Problem {
    Problem::at(
        "/data/attributes/subject",
        "invalid_subject",
        format!("the subject events carried: 1 to {MAX_SUBJECT} printable characters"),
    )
}

/// Reads an erasure request: its subject.
pub fn parse_request(document: &Value) -> Result<String, Error> {
    let read: ErasureInputDocument = documents::read(document, shape)?;
    let data = read.data.ok_or_else(|| Error::Invalid(vec![shape("/data")]))?;
    if data.kind.as_deref() != Some(TYPE) {
        return Err(Error::Invalid(vec![shape("/data/type")]));
    }
    let attributes = data.attributes.ok_or_else(|| Error::Invalid(vec![shape("/data/attributes")]))?;
    if let Some(unknown) = attributes.other.keys().next() {
        return Err(Error::invalid(
            format!("/data/attributes/{}", documents::escape(unknown)),
            "unknown_attribute",
            "an erasure has `subject` only",
        ));
    }
    match attributes.subject {
        Some(subject)
            if !subject.is_empty()
                && subject.chars().count() <= MAX_SUBJECT
                && !subject.chars().any(char::is_control) =>
        {
            Ok(subject)
        }
        _ => Err(Error::Invalid(vec![subject_problem()])),
    }
}

/// The path of an account's erasure.
pub fn self_link(uid: &str, id: &str) -> String {
    format!("/api/v3/accounts/{uid}/erasures/{id}")
}

/// An erasure job as a document.
pub fn document(uid: &str, erasure: &Erasure) -> ErasureDocument {
    ErasureDocument {
        data: ErasureResource {
            kind: TYPE.into(),
            id: erasure.id.clone(),
            attributes: ErasureAttributes {
                status: match erasure.status {
                    ErasureStatus::Running => "running",
                    ErasureStatus::Done => "done",
                }
                .into(),
                subject_digest: erasure.subject_digest.clone(),
                erased: erasure.erased,
                created_at: timestamp(erasure.created_at),
                finished_at: erasure.finished_at.map(timestamp),
            },
            links: SelfLink::to(self_link(uid, &erasure.id)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn when_request_names_a_subject_should_read_it_and_point_at_anything_wrong() {
        let document = |attributes: Value| json!({"data": {"type": "erasures", "attributes": attributes}});
        assert_eq!(parse_request(&document(json!({"subject": "customer_42"}))).expect("valid"), "customer_42");
        for (wrong, pointer) in [
            (document(json!({})), "/data/attributes/subject"),
            (document(json!({"subject": ""})), "/data/attributes/subject"),
            (document(json!({"subject": 42})), "/data/attributes/subject"),
            (document(json!({"subject": "x".repeat(MAX_SUBJECT + 1)})), "/data/attributes/subject"),
            (document(json!({"subject": "a", "also": 1})), "/data/attributes/also"),
            (json!({"data": {"type": "webhooks", "attributes": {"subject": "a"}}}), "/data/type"),
            (json!({}), "/data"),
        ] {
            let Err(Error::Invalid(problems)) = parse_request(&wrong) else { panic!("{wrong} is refused") };
            assert_eq!(problems[0].source, Some(crate::Source::Pointer(pointer.into())), "{wrong}");
        }
    }
}
