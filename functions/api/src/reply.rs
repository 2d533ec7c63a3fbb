//! Writing a typed document as the response body.

use hookline_domain::jsonapi::MEDIA_TYPE;
use serde::Serialize;

/// A response with `status` and `document` as `content_type`.
pub fn typed<T: Serialize>(status: u16, content_type: &'static str, document: &T) -> http::Response<String> {
    match serde_json::to_string(document) {
        Ok(body) => raw(status, content_type, body),
        Err(error) => hookline_web::error_response(&hookline_domain::Error::internal(error)),
    }
}

/// A response with `status` and a body already serialized as `content_type`.
pub fn raw(status: u16, content_type: &'static str, body: String) -> http::Response<String> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(body)
        .unwrap_or_default()
}

/// A JSON:API response with `status` and `document`.
pub fn document<T: Serialize>(status: u16, document: &T) -> http::Response<String> {
    typed(status, MEDIA_TYPE, document)
}

/// `response` with a `Location` header naming what it created.
pub fn with_location(mut response: http::Response<String>, location: &str) -> http::Response<String> {
    if let Ok(location) = http::HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    response
}
