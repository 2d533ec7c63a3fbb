//! HTTP responses: JSON:API documents, the one mapping of [`Error`] to a response, and the
//! reading of a JSON request body.

use hookline_domain::Error;
use hookline_domain::jsonapi::{MEDIA_TYPE, error_document};
use http::{Response, StatusCode, header};
use serde_json::Value;

/// A JSON:API response with `status` and `document`.
pub fn json_response(status: u16, document: &Value) -> Response<String> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, MEDIA_TYPE)
        .body(document.to_string())
        .unwrap_or_default()
}

/// The response for an error: its JSON:API `errors` document and status. Faults of ours
/// (5xx) are logged here with their detail, which the client never sees.
pub fn error_response(error: &Error) -> Response<String> {
    let (status, document) = error_document(error);
    if status >= 500 {
        tracing::error!(status, error = %error, "request failed");
    } else {
        tracing::info!(status, error = %error, "request refused");
    }
    let mut response = json_response(status, &document);
    if let Error::Unauthorized(_) = error {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(r#"Bearer realm="hookline""#));
    }
    if let Error::Unavailable(_) = error {
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response
}

/// The largest management request body accepted (webhooks, event types): 256 KiB.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Reads a JSON request body: a JSON:API or plain JSON content type (415 otherwise), at
/// most `max_bytes` (413), well-formed JSON (400 pointing at the body).
pub fn read_json(content_type: Option<&str>, body: &[u8], max_bytes: usize) -> Result<Value, Error> {
    let media_type =
        content_type.and_then(|value| value.split(';').next()).map(|value| value.trim().to_ascii_lowercase());
    match media_type.as_deref() {
        Some("application/vnd.api+json" | "application/json") => {}
        Some(other) => {
            return Err(Error::UnsupportedMediaType(format!(
                "content-type {other} is not accepted: send application/vnd.api+json or application/json"
            )));
        }
        None => {
            return Err(Error::UnsupportedMediaType(
                "content-type is missing: send application/vnd.api+json or application/json".into(),
            ));
        }
    }
    if body.len() > max_bytes {
        return Err(Error::PayloadTooLarge(format!(
            "the body has {} bytes; at most {max_bytes} are accepted",
            body.len()
        )));
    }
    serde_json::from_slice(body).map_err(|error| {
        Error::BadRequest(hookline_domain::Problem::at(
            "",
            "malformed_json",
            format!("the body is not valid JSON: {error}"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_content_type_is_text_should_answer_415() {
        let error = read_json(Some("text/plain"), b"{}", 10).expect_err("refused");
        assert_eq!(error.status(), 415);
        assert_eq!(read_json(None, b"{}", 10).expect_err("refused").status(), 415);
    }

    #[test]
    fn when_body_is_too_large_should_answer_413() {
        assert_eq!(read_json(Some("application/json"), b"[1,2,3]", 3).expect_err("refused").status(), 413);
    }

    #[test]
    fn when_json_is_malformed_should_answer_400() {
        let error = read_json(Some("application/vnd.api+json; charset=utf-8"), b"{\"data\":", 100).expect_err("bad");
        assert_eq!(error.status(), 400);
    }

    #[test]
    fn when_json_api_body_is_valid_should_parse_it() {
        let value = read_json(Some("application/vnd.api+json"), br#"{"data":{}}"#, 100).expect("ok");
        assert!(value["data"].is_object());
    }

    #[test]
    fn when_unauthorized_should_challenge_with_bearer() {
        let response = error_response(&Error::Unauthorized("missing key".into()));
        assert_eq!(response.status(), 401);
        assert!(response.headers()[header::WWW_AUTHENTICATE].to_str().expect("ascii").starts_with("Bearer"));
        assert_eq!(response.headers()[header::CONTENT_TYPE], MEDIA_TYPE);
    }

    #[test]
    fn when_unavailable_should_ask_to_retry() {
        let response = error_response(&Error::Unavailable("throttled".into()));
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }
}
