//! The webhook documents: create and patch input, the webhook resource, lists, secrets,
//! rotation and the test send's result.

use super::SelfLink;
use crate::model::{DisabledReason, Environment, Ordering, SignatureAlgo, WebhookStatus};
use crate::patch::Patch;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A create or patch document (`url` and `events` are required on create).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WebhookInputDocument {
    /// The webhook.
    #[serde(default)]
    #[schema(required = true, value_type = WebhookInput)]
    pub data: Option<WebhookInput>,
    /// Other members, ignored; being a map, it also keeps serde from reading an array as this object.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// The `data` of a create or patch document.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WebhookInput {
    /// `webhooks`.
    #[serde(default, rename = "type")]
    #[schema(required = true, value_type = String, pattern = "^webhooks$")]
    pub kind: Option<String>,
    /// On patch, the URL's id when given (a string or a number).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub id: Option<Value>,
    /// The attributes to set; on patch every one is optional.
    #[serde(default)]
    #[schema(value_type = WebhookInputAttributes)]
    pub attributes: Patch<WebhookInputAttributes>,
    /// Other members, ignored; being a map, it also keeps serde from reading an array as this object.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// Writable attributes of a webhook. `id`, `account_id`, `created_at`, `updated_at` are
/// read-only: accepted and ignored.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WebhookInputAttributes {
    /// A display name.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub name: Patch<String>,
    /// https (http for sandbox webhooks, or where the operator allows it).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub url: Patch<String>,
    /// `whsec_` + base64 of 24 to 64 bytes; generated when absent.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub secret: Patch<String>,
    /// The subscriptions.
    #[schema(value_type = Option<Vec<Subscription>>)]
    #[serde(default)]
    pub events: Patch<Vec<SubscriptionInput>>,
    /// Key/values an event must carry to match.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    #[serde(default)]
    pub scopes: Patch<BTreeMap<String, String>>,
    /// Sent on every delivery; `webhook-*`, `content-type`, `content-length`, `host`,
    /// `user-agent` and hop-by-hop headers are refused.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    #[serde(default)]
    pub headers: Patch<BTreeMap<String, String>>,
    /// `hmac`, `jwt` or `ed25519`.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub signature_algo: Patch<String>,
    /// Must be the key's environment when given.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub environment: Patch<String>,
    /// `enabled` or `disabled`.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub status: Patch<String>,
    /// Waits in seconds after each failed try; null resets to the default schedule.
    #[schema(value_type = Option<Vec<u32>>)]
    #[serde(default)]
    pub retry_schedule: Patch<Vec<u32>>,
    /// Seconds a delivery may take (1 to 30); null resets to the default.
    #[schema(value_type = Option<u32>)]
    #[serde(default)]
    pub timeout_seconds: Patch<u32>,
    /// At most this many deliveries a second (1 to 1000), across every worker: the rest wait
    /// their turn, never dropped nor failed; null removes the limit.
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    #[serde(default)]
    pub rate_limit: Patch<u32>,
    /// A jq program mapping the event (`{id, type, timestamp, payload, headers}`) to what this
    /// webhook receives: `{body, headers?}` (at most 16 KiB); null removes it. A program that
    /// does not parse is refused with its line and column.
    #[schema(value_type = Option<String>, max_length = 16384)]
    #[serde(default)]
    pub transformation: Patch<String>,
    /// `none` (default): deliveries go out as soon as each can. `fifo`: one at a time, in the
    /// order the events were accepted; a failing delivery holds the later ones until it
    /// succeeds or fails for good (its own retry schedule must total 13 days at most).
    #[schema(value_type = Option<String>, pattern = "^(none|fifo)$")]
    #[serde(default)]
    pub ordering: Patch<String>,
    /// Every other member: read-only attributes (ignored) and unknown ones (refused).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// A subscription as written: an event type name, or an object with filters.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SubscriptionInput {
    /// Every event of this type.
    Name(String),
    /// An object, checked member by member so that each refusal points at its member.
    Filtered(FilteredSubscriptionInput),
}

/// A subscription object as written.
#[derive(Debug, Clone, Deserialize)]
pub struct FilteredSubscriptionInput {
    /// The event type (a string is required).
    #[serde(default)]
    pub event_type: Option<Value>,
    /// A dotted payload path to the scalar values it may have.
    #[serde(default)]
    pub filters: Option<Value>,
    /// Members that are not a subscription's (refused).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A value a payload filter compares with: filters take scalars only.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
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
        #[schema(value_type = Option<BTreeMap<String, Vec<Option<FilterValue>>>>)]
        filters: crate::model::Filters,
    },
}

/// Who created or last changed a webhook (seed 002).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditView {
    /// The API key's id.
    pub client_id: String,
    /// From the `hookline-external-client-id` header.
    pub external_client_id: Option<String>,
    /// From the `hookline-app` header, else the key's label.
    pub app: Option<String>,
}

/// A webhook's attributes as returned, in this order; with `fields[webhooks]` only those
/// asked for (hence none is required).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookAttributes {
    /// Its id within the account.
    #[schema(required = false)]
    pub id: u64,
    /// Its tenant.
    #[schema(required = false)]
    pub account_id: u64,
    /// A display name.
    #[schema(required = false)]
    pub name: String,
    /// Where deliveries go.
    #[schema(required = false)]
    pub url: String,
    /// In full on create and at `/webhooks/{id}/secret`; masked elsewhere.
    #[schema(required = false)]
    pub secret: String,
    /// The subscriptions.
    #[schema(required = false)]
    pub events: Vec<Subscription>,
    /// Key/values an event must carry to match.
    #[schema(required = false)]
    pub scopes: BTreeMap<String, String>,
    /// Custom headers sent on every delivery.
    #[schema(required = false)]
    pub headers: BTreeMap<String, String>,
    /// How deliveries are signed.
    #[schema(required = false, value_type = String, pattern = "^(hmac|jwt|ed25519)$")]
    pub signature_algo: SignatureAlgo,
    /// The ed25519 public key (`whpk_…`); null for other algorithms.
    #[schema(required = false)]
    pub public_key: Option<String>,
    /// Its own retry schedule; null for the default.
    #[schema(required = false)]
    pub retry_schedule: Option<Vec<u32>>,
    /// Its delivery timeout; null for the default.
    #[schema(required = false)]
    pub timeout_seconds: Option<u32>,
    /// Its rate limit in deliveries a second; null for none.
    #[schema(required = false)]
    pub rate_limit: Option<u32>,
    /// Its jq transformation; null for none.
    #[schema(required = false)]
    pub transformation: Option<String>,
    /// `none` or `fifo`.
    #[schema(required = false, value_type = String, pattern = "^(none|fifo)$")]
    pub ordering: Ordering,
    /// Which events reach it.
    #[schema(required = false, value_type = String, pattern = "^(production|sandbox)$")]
    pub environment: Environment,
    /// Whether it receives deliveries.
    #[schema(required = false, value_type = String, pattern = "^(enabled|disabled)$")]
    pub status: WebhookStatus,
    /// Why it is disabled, when it is.
    #[schema(required = false, value_type = Option<String>)]
    pub disabled_reason: Option<DisabledReason>,
    /// Who created it.
    #[schema(required = false)]
    pub created_by: AuditView,
    /// Who changed it last.
    #[schema(required = false)]
    pub updated_by: AuditView,
    /// When it was created.
    #[schema(required = false)]
    pub created_at: String,
    /// When it was changed last.
    #[schema(required = false)]
    pub updated_at: String,
}

/// A webhook resource object.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookResource {
    /// `webhooks`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The id, as a string.
    pub id: String,
    /// Every attribute, or the sparse fieldset asked for.
    #[schema(value_type = WebhookAttributes)]
    pub attributes: Map<String, Value>,
    /// `self`.
    pub links: SelfLink,
}

/// One webhook.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookDocument {
    /// The webhook.
    pub data: WebhookResource,
}

/// A page of webhooks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookListDocument {
    /// The page.
    pub data: Vec<WebhookResource>,
    /// `self`, `first`, `prev`, `next`, `last`; `prev`/`next` null at the ends.
    #[schema(value_type = BTreeMap<String, Option<String>>)]
    pub links: Value,
    /// With `count=true`: `total` and the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<ListMeta>,
}

/// The `meta` of a counted list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListMeta {
    /// Items matching the filters.
    pub total: usize,
    /// This page.
    pub page: PageMeta,
}

/// Where a page is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageMeta {
    /// Its number, from 1.
    pub number: u32,
    /// Its size.
    pub size: u32,
    /// The number of the last page.
    pub last: u32,
}

/// A revealed secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretDocument {
    /// The secret as a `webhook_secrets` resource.
    pub data: SecretResource<SecretAttributes>,
}

/// A secret after a rotation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotatedSecretDocument {
    /// The new secret as a `webhook_secrets` resource.
    pub data: SecretResource<RotatedSecretAttributes>,
}

/// A webhook's secret as a resource (its id is the webhook's).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretResource<A> {
    /// `webhook_secrets`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The webhook id.
    pub id: String,
    /// The secret.
    pub attributes: A,
}

impl<A> SecretResource<A> {
    /// The secret of webhook `id`.
    pub fn new(id: u64, attributes: A) -> Self {
        Self { kind: "webhook_secrets".into(), id: id.to_string(), attributes }
    }
}

/// The secret in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretAttributes {
    /// The signing secret.
    pub secret: String,
}

/// The new secret in full, with what the rotation left.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotatedSecretAttributes {
    /// The new signing secret.
    pub secret: String,
    /// The ed25519 public key; null for other algorithms.
    pub public_key: Option<String>,
    /// Until when the previous secret keeps signing; null without an overlap.
    pub previous_valid_until: Option<String>,
}

/// A rotation: both fields optional.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RotateRequest {
    /// The new key (generated when absent).
    #[serde(default)]
    pub secret: Option<String>,
    /// How long the old key keeps signing (default 86400, at most 604800; 0 stops it at once).
    #[serde(default)]
    pub overlap_seconds: Option<u32>,
    /// Members that are not a rotation's (refused).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// What the test send got from the endpoint (seed 003).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestResult {
    /// Whether the endpoint answered 2xx.
    pub success: bool,
    /// What it answered, or what went wrong.
    pub message: String,
}
