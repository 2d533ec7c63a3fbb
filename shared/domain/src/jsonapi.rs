//! JSON:API: its media type, and the error document every failure is answered with.

use crate::documents::{ErrorDocument, ErrorObject, ErrorSource};
use crate::error::{Error, Problem, Source};
use serde_json::Value;

/// The media type of JSON:API.
pub const MEDIA_TYPE: &str = "application/vnd.api+json";

/// The `errors` document for an error, and the status to answer it with.
///
/// This is the one place where an [`Error`] becomes what a client sees. Internal details
/// (of [`Error::Internal`]) are not shown: the caller logs them.
pub fn error_document(error: &Error) -> (u16, Value) {
    let (status, document) = typed_error_document(error);
    (status, serde_json::to_value(document).unwrap_or(Value::Null))
}

/// [`error_document`] as its type.
pub fn typed_error_document(error: &Error) -> (u16, ErrorDocument) {
    let status = error.status();
    let errors: Vec<ErrorObject> = match error {
        Error::BadRequest(problem) => vec![problem_object(status, "Bad request", problem)],
        Error::Invalid(problems) => {
            problems.iter().map(|problem| problem_object(status, "Invalid attribute", problem)).collect()
        }
        Error::Unauthorized(detail) => vec![simple(status, "unauthorized", "Unauthorized", detail)],
        Error::Forbidden(detail) => vec![simple(status, "forbidden", "Forbidden", detail)],
        Error::NotFound(kind) => {
            vec![simple(status, "not_found", "Not found", &format!("{kind} not found"))]
        }
        Error::MethodNotAllowed => {
            vec![simple(status, "method_not_allowed", "Method not allowed", "this method is not allowed on this path")]
        }
        Error::Conflict(detail) => vec![simple(status, "conflict", "Conflict", detail)],
        Error::DocumentConflict(problem) => vec![problem_object(status, "Conflict", problem)],
        Error::PayloadTooLarge(detail) => {
            vec![simple(status, "payload_too_large", "Payload too large", detail)]
        }
        Error::UnsupportedMediaType(detail) => {
            vec![simple(status, "unsupported_media_type", "Unsupported media type", detail)]
        }
        Error::Unavailable(_) => vec![simple(
            status,
            "unavailable",
            "Service unavailable",
            "a dependency is busy or unreachable; retry the request later",
        )],
        Error::Internal(_) => {
            vec![simple(status, "internal_error", "Internal error", "an unexpected error occurred; it has been logged")]
        }
    };
    (status, ErrorDocument { errors })
}

fn simple(status: u16, code: &str, title: &str, detail: &str) -> ErrorObject {
    ErrorObject {
        status: status.to_string(),
        code: code.into(),
        title: title.into(),
        detail: detail.into(),
        source: None,
    }
}

fn problem_object(status: u16, title: &str, problem: &Problem) -> ErrorObject {
    let source = problem.source.as_ref().map(|source| match source {
        Source::Pointer(pointer) => ErrorSource::Pointer(pointer.clone()),
        Source::Parameter(name) => ErrorSource::Parameter(name.clone()),
        Source::Header(name) => ErrorSource::Header(name.clone()),
    });
    ErrorObject { source, ..simple(status, problem.code, title, &problem.detail) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_invalid_should_point_at_each_field() {
        let error = Error::Invalid(vec![
            Problem::at("/data/attributes/url", "invalid_url", "bad url"),
            Problem::at("/data/attributes/events/0", "unknown_event_type", "unknown"),
        ]);
        let (status, document) = error_document(&error);
        assert_eq!(status, 422);
        assert_eq!(document["errors"][0]["source"]["pointer"], "/data/attributes/url");
        assert_eq!(document["errors"][1]["code"], "unknown_event_type");
        assert_eq!(document["errors"][1]["status"], "422");
    }

    #[test]
    fn when_internal_should_not_leak_the_detail() {
        let (status, document) = error_document(&Error::internal("table xyz is gone"));
        assert_eq!(status, 500);
        assert!(!document.to_string().contains("xyz"));
    }

    #[test]
    fn when_bad_parameter_should_name_the_parameter() {
        let (status, document) = error_document(&Error::bad_param("page[size]", "page_size_too_large", "max 1000"));
        assert_eq!(status, 400);
        assert_eq!(document["errors"][0]["source"]["parameter"], "page[size]");
    }
}
