//! The HTTP edge shared by the `api` and `ingest` routers: JSON:API responses, the one
//! rendering of an [`Error`] as an error document ([`ApiError`]), and the extractors of the
//! caller ([`Authenticated`]) and of a JSON body ([`Document`]).

pub mod openapi;
pub mod response;

use axum::Router;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::auth::{ACCOUNT_HEADER, APP_HEADER, Caller, EXTERNAL_CLIENT_ID_HEADER};
use hookline_domain::model::ApiKey;
use http::request::Parts;
use serde_json::Value;

pub use response::{MAX_DOCUMENT_BYTES, error_response, json_response, read_json};

/// The one rejection of every route: an [`Error`], answered as its JSON:API error document.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(&self.0).into_response()
    }
}

/// What a handler answers.
pub type Answer = Result<http::Response<String>, ApiError>;

/// A header's value, if present and text.
pub fn header<'r>(headers: &'r http::HeaderMap, name: &str) -> Option<&'r str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The caller of an account's route: an account key, a portal session, or an operator key
/// acting for the account `hookline-account` names (see `hookline_core::authenticate`).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl<S> FromRequestParts<S> for Authenticated
where
    Context: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = Context::from_ref(state);
        Ok(Self(hookline_core::authenticate(&context.store, &credentials(parts), chrono::Utc::now()).await?))
    }
}

/// [`Authenticated`] through the container's cache ([`hookline_core::routing`]): keys and
/// account uids read at most once a minute. Ingest's extractor; the management API reads
/// every key afresh.
#[derive(Debug, Clone)]
pub struct Publisher(pub Caller);

impl<S> FromRequestParts<S> for Publisher
where
    Context: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = Context::from_ref(state);
        let cached = hookline_core::routing::Cached { store: &context.store, cache: &context.routing };
        Ok(Self(hookline_core::authenticate(&cached, &credentials(parts), chrono::Utc::now()).await?))
    }
}

/// What a request's headers and method say about its caller.
fn credentials(parts: &Parts) -> hookline_core::Credentials<'_> {
    let headers = &parts.headers;
    hookline_core::Credentials {
        authorization: header(headers, "authorization"),
        external_client_id: header(headers, EXTERNAL_CLIENT_ID_HEADER),
        app: header(headers, APP_HEADER),
        account: header(headers, ACCOUNT_HEADER),
        writes: !matches!(parts.method, http::Method::GET | http::Method::HEAD),
    }
}

/// [`Authenticated`], with the key that made the request.
#[derive(Debug, Clone)]
pub struct AuthenticatedKey {
    /// The caller.
    pub caller: Caller,
    /// Its key: an account key, a portal session, or the operator key acting for it.
    pub key: ApiKey,
}

impl<S> FromRequestParts<S> for AuthenticatedKey
where
    Context: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = Context::from_ref(state);
        let (caller, key) =
            hookline_core::authenticate_with_key(&context.store, &credentials(parts), chrono::Utc::now()).await?;
        Ok(Self { caller, key })
    }
}

/// The operator key of a platform route; any other key gets 404 (see
/// `hookline_core::authenticate_operator`).
#[derive(Debug, Clone)]
pub struct Operator(pub ApiKey);

impl<S> FromRequestParts<S> for Operator
where
    Context: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = Context::from_ref(state);
        let authorization = header(&parts.headers, "authorization");
        Ok(Self(hookline_core::authenticate_operator(&context.store, authorization, chrono::Utc::now()).await?))
    }
}

/// A JSON request body of at most `LIMIT` bytes, of a JSON:API or JSON content type (415,
/// 413 or 400 otherwise). An empty body reads as `{}` where `EMPTY_IS_OBJECT` (actions whose
/// body is optional).
#[derive(Debug, Clone)]
pub struct Document<const LIMIT: usize = MAX_DOCUMENT_BYTES, const EMPTY_IS_OBJECT: bool = false>(pub Value);

/// A body that may be left out: empty reads as `{}`.
pub type OptionalDocument = Document<MAX_DOCUMENT_BYTES, true>;

impl<S, const LIMIT: usize, const EMPTY_IS_OBJECT: bool> FromRequest<S> for Document<LIMIT, EMPTY_IS_OBJECT>
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = header(request.headers(), "content-type").map(str::to_string);
        // One byte over the limit is enough to know that the body is too large.
        let bytes = axum::body::to_bytes(request.into_body(), LIMIT.saturating_add(1)).await.map_err(|_| {
            Error::PayloadTooLarge(format!("the body has more than {LIMIT} bytes; at most {LIMIT} are accepted"))
        })?;
        if EMPTY_IS_OBJECT && bytes.is_empty() {
            return Ok(Self(Value::Object(Default::default())));
        }
        Ok(Self(read_json(content_type.as_deref(), &bytes, LIMIT)?))
    }
}

/// The webhook id of a `/webhooks/{id}…` path. Anything but a positive integer names no
/// webhook: 404, as for another account's id, never a 400 that would tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookId(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for WebhookId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let not_found = || ApiError(Error::not_found("webhook"));
        let axum::extract::Path(segment) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        segment.parse().ok().filter(|id| *id > 0).map(Self).ok_or_else(not_found)
    }
}

/// `routes` answering a path no route serves with a JSON:API 404, and a method a served path
/// does not take with a 405.
pub fn with_fallbacks<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes
        .fallback(|| async { ApiError(Error::not_found("route")) })
        .method_not_allowed_fallback(|| async { ApiError(Error::MethodNotAllowed) })
}

/// `router` serving `/a/b/` as `/a/b`: the path is trimmed before routing (a layer on a
/// router would run after it).
pub fn trimming_trailing_slash(router: Router) -> Router {
    Router::new().fallback_service(tower::util::MapRequest::new(router, |mut request: Request| {
        let path = request.uri().path();
        if path.len() > 1 && path.ends_with('/') {
            let trimmed = path.trim_end_matches('/');
            let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
            let path_and_query = match request.uri().query() {
                Some(query) => format!("{trimmed}?{query}"),
                None => trimmed.to_string(),
            };
            let mut parts = request.uri().clone().into_parts();
            if let Ok(value) = path_and_query.parse() {
                parts.path_and_query = Some(value);
                if let Ok(uri) = http::Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                }
            }
        }
        request
    }))
}
