//! The customer portal's files, built and embedded by `build.rs`, served at `/portal/`: the
//! page never cached, its content-hashed assets cached for good, each compressed when the
//! browser accepts it, all under a strict Content-Security-Policy.

use crate::ApiState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_web::{ApiError, header};
use http::HeaderMap;

/// One built file and its compressed copies.
pub struct PortalFile {
    /// Its path under `/portal/`.
    pub path: &'static str,
    /// As built.
    pub identity: &'static [u8],
    /// Brotli-compressed, for a text file.
    pub brotli: Option<&'static [u8]>,
    /// Gzip-compressed, for a text file.
    pub gzip: Option<&'static [u8]>,
}

static FILES: &[PortalFile] = include!(concat!(env!("OUT_DIR"), "/portal_files.rs"));

const PAGE: &str = "index.html";
/// Vite names every file under `assets/` by a hash of its content.
const HASHED: &str = "assets/";

/// `GET /portal/` (the page) and `GET /portal/{path}` (its files).
pub fn routes() -> Router<ApiState> {
    Router::new().route("/portal", get(page)).route("/portal/{*path}", get(file))
}

async fn page(State(context): State<Context>, headers: HeaderMap) -> Result<Response, ApiError> {
    serve(PAGE, &context, &headers)
}

async fn file(
    State(context): State<Context>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(&path, &context, &headers)
}

fn serve(path: &str, context: &Context, headers: &HeaderMap) -> Result<Response, ApiError> {
    let file = FILES.iter().find(|file| file.path == path).ok_or_else(|| Error::not_found("portal file"))?;
    let accepted = header(headers, "accept-encoding").unwrap_or_default();
    let (body, encoding) = match (file.brotli, file.gzip) {
        (Some(brotli), _) if accepts(accepted, "br") => (brotli, Some("br")),
        (_, Some(gzip)) if accepts(accepted, "gzip") => (gzip, Some("gzip")),
        _ => (file.identity, None),
    };
    let cache = if path.starts_with(HASHED) { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = Response::builder()
        .status(200)
        .header("content-type", content_type(path))
        .header("cache-control", cache)
        .header("vary", "accept-encoding")
        .header("content-security-policy", policy(&context.settings.portal_frame_ancestors))
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer");
    if let Some(encoding) = encoding {
        response = response.header("content-encoding", encoding);
    }
    response.body(Body::from(body)).map_err(|error| ApiError(Error::internal(error)))
}

/// The page's policy: its own files only (a logo may be any https image), no inline script
/// or style, embedded only by `frame_ancestors`.
fn policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors {frame_ancestors}"
    )
}

/// Whether an `Accept-Encoding` value accepts `coding` (named, with a nonzero weight).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let weight = parts.find_map(|part| part.strip_prefix("q=")).map_or(1.0, |q| q.parse().unwrap_or(0.0));
        name.eq_ignore_ascii_case(coding) && weight > 0.0
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_encodings_are_weighed_should_take_only_those_not_refused() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip;q=0.5", "gzip"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(!accepts("", "gzip"));
        assert!(!accepts("gzipx", "gzip"));
    }

    #[test]
    fn when_built_should_have_the_page_and_compressed_assets() {
        let page = FILES.iter().find(|file| file.path == PAGE).expect("index.html embedded");
        assert!(page.brotli.is_some() && page.gzip.is_some());
        let scripts: Vec<_> =
            FILES.iter().filter(|file| file.path.starts_with(HASHED) && file.path.ends_with(".js")).collect();
        assert!(!scripts.is_empty(), "a script under assets/");
        let text = std::str::from_utf8(page.identity).expect("UTF-8 page");
        assert!(scripts.iter().any(|script| text.contains(&format!("/portal/{}", script.path))), "the page loads it");
    }
}
