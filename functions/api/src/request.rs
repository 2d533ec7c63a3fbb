//! Reading a Lambda HTTP request: headers, query string, JSON body.

use hookline_aws::Store;
use hookline_domain::Error;
use hookline_domain::auth::{APP_HEADER, Caller, EXTERNAL_CLIENT_ID_HEADER};
use hookline_domain::http::{MAX_DOCUMENT_BYTES, read_json};
use lambda_http::{Body, Request};
use serde_json::Value;

/// A header's value, if present and text.
pub fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|value| value.to_str().ok())
}

/// The raw query string, if any.
pub fn query(request: &Request) -> Option<&str> {
    request.uri().query().filter(|query| !query.is_empty())
}

/// The JSON document of the body.
pub fn json_body(request: &Request) -> Result<Value, Error> {
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    read_json(header(request, "content-type"), bytes, MAX_DOCUMENT_BYTES)
}

/// The authenticated caller.
pub async fn caller(store: &Store, request: &Request) -> Result<Caller, Error> {
    store
        .authenticate(
            header(request, "authorization"),
            header(request, EXTERNAL_CLIENT_ID_HEADER),
            header(request, APP_HEADER),
        )
        .await
}
