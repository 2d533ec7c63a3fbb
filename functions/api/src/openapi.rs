//! The OpenAPI 3.1 document of the API, generated from the handlers' annotations and the
//! schema types below (which describe the JSON:API documents the handlers write).

use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The document's info, security and tags; the paths come from the router (`crate::routes`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookline",
        description = "Webhooks as a service: register webhooks, publish events, Hookline delivers them signed, with retries and a log. JSON:API documents (`application/vnd.api+json`; `application/json` accepted). Authenticate with `Authorization: Bearer <api key>`; audit headers `hookline-external-client-id` and `hookline-app` are recorded in `created_by`/`updated_by`.",
    ),
    modifiers(&BearerKey),
    security(("api_key" = [])),
    tags((name = "webhooks", description = "Seed 003's /api/v3/notification/webhooks"), (name = "event_types", description = "The event catalog"), (name = "messages", description = "The message log"))
)]
pub struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("hl_…").build()),
        );
    }
}

/// Who created or last changed a webhook (seed 002).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Audit {
    /// The API key's id.
    client_id: String,
    /// From the `hookline-external-client-id` header.
    external_client_id: Option<String>,
    /// From the `hookline-app` header, else the key's label.
    app: Option<String>,
}

/// A value a payload filter compares with: filters take scalars only.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum FilterValue {
    /// A string.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Flag(bool),
}

/// A subscription: an event type name (or `*`), or one with payload filters (seed 002).
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum Subscription {
    /// Every event of this type.
    Name(String),
    /// Events of this type whose payload matches every filter.
    Filtered {
        /// The event type.
        event_type: String,
        /// A dotted payload path to the values it may have, e.g. `{"status": ["open"]}`
        /// (null is accepted as a value too).
        filters: Option<BTreeMap<String, Vec<Option<FilterValue>>>>,
    },
}

/// A webhook's attributes as returned; with `fields[webhooks]` only those asked for.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WebhookAttributes {
    id: Option<u64>,
    account_id: Option<u64>,
    name: Option<String>,
    url: Option<String>,
    /// In full on create and at `/webhooks/{id}/secret`; masked elsewhere.
    secret: Option<String>,
    events: Option<Vec<Subscription>>,
    scopes: Option<BTreeMap<String, String>>,
    headers: Option<BTreeMap<String, String>>,
    #[schema(pattern = "^(hmac|jwt|ed25519)$")]
    signature_algo: Option<String>,
    #[schema(pattern = "^(production|sandbox)$")]
    environment: Option<String>,
    #[schema(pattern = "^(enabled|disabled)$")]
    status: Option<String>,
    disabled_reason: Option<String>,
    created_by: Option<Audit>,
    updated_by: Option<Audit>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

/// A webhook resource object.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WebhookResource {
    #[schema(rename = "type")]
    r#type: String,
    id: String,
    attributes: WebhookAttributes,
    links: Option<BTreeMap<String, String>>,
}

/// One webhook.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WebhookDocument {
    data: WebhookResource,
}

/// A page of webhooks.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WebhookListDocument {
    data: Vec<WebhookResource>,
    /// `self`, `first`, `prev`, `next`, `last`; `prev`/`next` null at the ends.
    links: BTreeMap<String, Option<String>>,
    /// With `count=true`: `total` and the page.
    meta: Option<BTreeMap<String, Value>>,
}

/// Writable attributes of a webhook. `id`, `account_id`, `created_at`, `updated_at` are
/// read-only: accepted and ignored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WebhookInputAttributes {
    name: Option<String>,
    /// https (http for sandbox webhooks, or where the operator allows it).
    url: Option<String>,
    /// `whsec_` + base64 of 24 to 64 bytes; generated when absent.
    secret: Option<String>,
    events: Option<Vec<Subscription>>,
    scopes: Option<BTreeMap<String, String>>,
    /// Sent on every delivery; `webhook-*`, `content-type`, `content-length`, `host`,
    /// `user-agent` and hop-by-hop headers are refused.
    headers: Option<BTreeMap<String, String>>,
    signature_algo: Option<String>,
    /// Must be the key's environment when given.
    environment: Option<String>,
    status: Option<String>,
}

/// The `data` of a create or patch document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WebhookInput {
    #[schema(rename = "type", pattern = "^webhooks$")]
    r#type: String,
    /// On patch, the URL's id when given.
    id: Option<String>,
    attributes: WebhookInputAttributes,
}

/// A create or patch document (`url` and `events` are required on create).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WebhookInputDocument {
    data: WebhookInput,
}

/// A revealed secret.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SecretDocument {
    data: Value,
}

/// What the test send got from the endpoint (seed 003).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TestResult {
    success: bool,
    message: String,
}

/// An event type of the catalog.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventTypeAttributes {
    name: String,
    description: String,
    /// A JSON Schema of the payload, if registered with one.
    schema: Option<Value>,
    built_in: bool,
    created_at: Option<String>,
}

/// An event type resource (its id is its name).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventTypeResource {
    #[schema(rename = "type")]
    r#type: String,
    id: String,
    attributes: EventTypeAttributes,
    links: Option<BTreeMap<String, String>>,
}

/// The catalog.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventTypeListDocument {
    data: Vec<EventTypeResource>,
}

/// One event type.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventTypeDocument {
    data: EventTypeResource,
}

/// Attributes of a new event type.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventTypeInputAttributes {
    /// 1-128 letters, digits, `.`, `_`, `-`.
    name: String,
    description: Option<String>,
    schema: Option<Value>,
}

/// The `data` of an event type create document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventTypeInput {
    #[schema(rename = "type", pattern = "^event_types$")]
    r#type: String,
    attributes: EventTypeInputAttributes,
}

/// An event type create document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventTypeInputDocument {
    data: EventTypeInput,
}

/// One JSON:API error.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorObject {
    status: String,
    code: String,
    title: String,
    detail: String,
    /// `pointer` into the body, or `parameter` of the query, or `header`.
    source: Option<BTreeMap<String, String>>,
}

/// Every failure is answered with this document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDocument {
    errors: Vec<ErrorObject>,
}

/// The health check.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Health {
    status: String,
    version: String,
}

/// A message's attributes; `payload` only on the show route.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageAttributes {
    event_type: String,
    environment: String,
    scopes: BTreeMap<String, String>,
    /// How many webhooks it matched when accepted.
    matched: u32,
    idempotency_key: Option<String>,
    occurred_at: String,
    created_at: String,
    payload: Option<BTreeMap<String, Value>>,
}

/// A message resource.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageResource {
    #[schema(rename = "type")]
    r#type: String,
    id: String,
    attributes: MessageAttributes,
    links: Option<BTreeMap<String, String>>,
    relationships: Option<BTreeMap<String, Value>>,
}

/// A page of the message log.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageListDocument {
    data: Vec<MessageResource>,
    /// `self`, and `next` (null on the last page).
    links: BTreeMap<String, Option<String>>,
}

/// A delivery's attributes.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DeliveryAttributes {
    message_id: String,
    webhook_id: u64,
    #[schema(pattern = "^(pending|succeeded|failed|refused|cancelled)$")]
    status: String,
    attempts: u32,
    next_attempt_at: Option<String>,
    updated_at: String,
}

/// A delivery: one message for one webhook.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DeliveryResource {
    #[schema(rename = "type")]
    r#type: String,
    id: String,
    attributes: DeliveryAttributes,
    relationships: Option<BTreeMap<String, Value>>,
}

/// A message with its deliveries.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageDocument {
    data: MessageResource,
    included: Vec<DeliveryResource>,
}

/// One HTTP attempt.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AttemptAttributes {
    message_id: String,
    webhook_id: u64,
    number: u32,
    at: String,
    #[schema(pattern = "^(success|http_error|timeout|connection_error|refused)$")]
    status: String,
    status_code: Option<u16>,
    /// A few response headers.
    response_headers: BTreeMap<String, String>,
    /// The first 4 KB of the response body, or what went wrong.
    response_body: String,
    latency_ms: u64,
}

/// An attempt resource.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AttemptResource {
    #[schema(rename = "type")]
    r#type: String,
    id: String,
    attributes: AttemptAttributes,
}

/// A page of attempts.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AttemptListDocument {
    data: Vec<AttemptResource>,
    /// `next`: null on the last page.
    links: BTreeMap<String, Option<String>>,
}

/// Which delivery of the message to retry; every failed one without it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RetryRequest {
    webhook_id: Option<u64>,
}

/// From when to re-send a webhook's failed deliveries.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RecoverRequest {
    /// RFC 3339.
    since: String,
}

/// A rotation: both fields optional.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RotateRequest {
    /// The new key (generated when absent).
    secret: Option<String>,
    /// How long the old key keeps signing (default 86400, at most 604800; 0 stops it at once).
    overlap_seconds: Option<u32>,
}

/// How many deliveries an action enqueued.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ActionResult {
    data: Value,
}
