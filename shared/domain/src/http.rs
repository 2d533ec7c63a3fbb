//! HTTP responses: JSON:API documents and the one mapping of [`Error`] to a response.

use crate::error::Error;
use crate::jsonapi::{MEDIA_TYPE, error_document};
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

#[cfg(test)]
mod tests {
    use super::*;

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
