//! The one error type of Hookline, and the HTTP status each kind maps to.

use std::fmt;

/// Where in a request document a problem was found (a JSON pointer, or a query parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A JSON pointer into the request body, e.g. `/data/attributes/url`.
    Pointer(String),
    /// A query-string parameter, e.g. `page[size]`.
    Parameter(String),
    /// A request header, e.g. `hookline-account`.
    Header(String),
}

/// One problem with a request, as JSON:API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// A stable machine-readable code, e.g. `invalid_url`.
    pub code: &'static str,
    /// Human-readable detail of this occurrence.
    pub detail: String,
    /// Where the problem is.
    pub source: Option<Source>,
}

impl Problem {
    /// A problem at a JSON pointer of the body.
    pub fn at(pointer: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), source: Some(Source::Pointer(pointer.into())) }
    }

    /// A problem with a request header.
    pub fn header(name: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), source: Some(Source::Header(name.into())) }
    }

    /// A problem with a query parameter.
    pub fn param(name: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), source: Some(Source::Parameter(name.into())) }
    }
}

/// Every failure Hookline can answer or act upon.
///
/// Adapters translate their own errors into these kinds (a failed DynamoDB condition is a
/// [`Error::Conflict`], a throttle is [`Error::Unavailable`]), so that callers decide on the kind,
/// never on a message string.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The request document is not well-formed (malformed JSON, bad query parameter): 400.
    #[error("bad request: {}", .0.detail)]
    BadRequest(Problem),
    /// No valid credentials: 401.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The caller is known but may not do this (a read-only session writing): 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The resource does not exist, or belongs to another account: 404.
    #[error("{0} not found")]
    NotFound(String),
    /// The method is not allowed on this path: 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The resource changed or exists already (a failed condition): 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The document's `type` or `id` is not the endpoint's (JSON:API says 409).
    #[error("document conflict: {}", .0.detail)]
    DocumentConflict(Problem),
    /// The body is larger than accepted: 413.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// The body's content type is not accepted: 415.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The document is well-formed but its content is invalid: 422, one problem per field.
    #[error("invalid: {}", first_detail(.0))]
    Invalid(Vec<Problem>),
    /// A dependency is throttling or unreachable; the same request may succeed later: 503.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A fault of Hookline itself; logged, answered as an opaque 500.
    #[error("internal error: {0}")]
    Internal(String),
}

fn first_detail(problems: &[Problem]) -> &str {
    problems.first().map_or("", |p| p.detail.as_str())
}

impl Error {
    /// One validation problem at a JSON pointer of the body.
    pub fn invalid(pointer: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid(vec![Problem::at(pointer, code, detail)])
    }

    /// A bad query parameter.
    pub fn bad_param(name: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest(Problem::param(name, code, detail))
    }

    /// A resource of `kind` that is absent or not the caller's.
    pub fn not_found(kind: impl Into<String>) -> Self {
        Self::NotFound(kind.into())
    }

    /// A fault of ours, carrying what happened for the log (never shown to the client).
    pub fn internal(what: impl fmt::Display) -> Self {
        Self::Internal(what.to_string())
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict(_) | Self::DocumentConflict(_) => 409,
            Self::PayloadTooLarge(_) => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::Invalid(_) => 422,
            Self::Internal(_) => 500,
            Self::Unavailable(_) => 503,
        }
    }

    /// Whether the same operation may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Hookline's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_error_is_a_throttle_should_be_retryable_and_503() {
        let error = Error::Unavailable("throttled".into());
        assert!(error.is_retryable());
        assert_eq!(error.status(), 503);
    }

    #[test]
    fn when_error_is_a_conflict_should_not_be_retryable() {
        let error = Error::Conflict("version".into());
        assert!(!error.is_retryable());
        assert_eq!(error.status(), 409);
    }

    #[test]
    fn when_invalid_should_display_first_problem() {
        let error = Error::invalid("/data/attributes/url", "invalid_url", "url must be https");
        assert_eq!(error.to_string(), "invalid: url must be https");
        assert_eq!(error.status(), 422);
    }
}
