//! Webhooks (seed 003, with the fields of seeds 000, 001 and 002) and event types.

use super::account::{AccountId, Environment};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A webhook's id: an integer per account, as seed 003's.
pub type WebhookId = u64;

/// Payload filters (seed 002): a dotted path to the values it may have.
pub type Filters = BTreeMap<String, Vec<Value>>;

/// A subscription to one event type, with optional payload filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSubscription {
    /// The event type's name, or `*` for every type.
    pub event_type: String,
    /// Deliver only when every filtered path has one of its values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: Filters,
}

/// How deliveries are signed (seed 001, plus Standard Webhooks' asymmetric scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignatureAlgo {
    /// Standard Webhooks `v1`: HMAC-SHA256.
    #[default]
    Hmac,
    /// A JWT in a header.
    Jwt,
    /// Standard Webhooks `v1a`: Ed25519.
    Ed25519,
}

/// In which order a webhook's deliveries go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// As soon as each can: concurrently, a failing one retried while later ones go on.
    #[default]
    None,
    /// One at a time, in the order the events were accepted: a failing delivery holds the
    /// later ones until it succeeds or fails for good (through an SQS FIFO queue, the webhook
    /// being the message group).
    Fifo,
}

/// Whether a webhook receives deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Receives deliveries.
    #[default]
    Enabled,
    /// Receives nothing; see the reason.
    Disabled,
}

/// Why a webhook was disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// By its owner, through the API.
    Manual,
    /// The endpoint answered 410 Gone.
    EndpointGone,
    /// Every delivery failed for longer than the configured window.
    FailingTooLong,
    /// Its account was deleted.
    AccountDeleted,
}

/// A secret rotated out, still used to sign until `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredSecret {
    /// The old key.
    pub secret: String,
    /// When it stops signing.
    pub until: DateTime<Utc>,
}

impl Webhook {
    /// The keys that sign a delivery at `now`: the current secret, then those in their overlap.
    pub fn signing_keys(&self, now: DateTime<Utc>) -> Vec<&str> {
        std::iter::once(self.secret.as_str())
            .chain(
                self.previous_secrets
                    .iter()
                    .filter(|retired| retired.until > now)
                    .map(|retired| retired.secret.as_str()),
            )
            .collect()
    }
}

fn is_unordered(ordering: &Ordering) -> bool {
    *ordering == Ordering::None
}

/// Who created or last changed a record (seed 002's `createdBy` / `updatedBy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Audit {
    /// The API key's id.
    pub client_id: String,
    /// The caller's own client id, from a request header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_client_id: Option<String>,
    /// The application, from a request header or the key's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// A registered webhook: where to deliver which events, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// Its id within the account.
    pub id: WebhookId,
    /// Its tenant.
    pub account_id: AccountId,
    /// A display name (seed 002).
    pub name: String,
    /// Where deliveries go.
    pub url: String,
    /// The signing secret (`whsec_…`; a `whsk_…` key for ed25519).
    pub secret: String,
    /// The event types it receives, each with filters.
    pub events: Vec<EventSubscription>,
    /// Key/values an event must carry to match (seed 003 `scopes`, seed 000 `offeringId`).
    #[serde(default)]
    pub scopes: BTreeMap<String, String>,
    /// Custom headers sent on every delivery (seed 002, seed 000's security key).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How deliveries are signed.
    #[serde(default)]
    pub signature_algo: SignatureAlgo,
    /// Which events reach it.
    #[serde(default)]
    pub environment: Environment,
    /// Enabled or disabled.
    #[serde(default)]
    pub status: WebhookStatus,
    /// Why it is disabled, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<DisabledReason>,
    /// Secrets rotated out, still signing until their time (the rotation overlap).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_secrets: Vec<RetiredSecret>,
    /// The webhook's own retry schedule (seconds after each failed try), else the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_schedule: Option<Vec<u32>>,
    /// The total timeout of one delivery in seconds (default 15, at most 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// At most this many deliveries a second, across every worker; more wait their turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    /// A jq program that maps each event into the body (and extra headers) this webhook receives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation: Option<String>,
    /// In which order its deliveries go out.
    #[serde(default, skip_serializing_if = "is_unordered")]
    pub ordering: Ordering,
    /// Since when every delivery failed; cleared by a success. Drives the auto-disable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: Audit,
    /// Who changed it last.
    pub updated_by: Audit,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was changed last.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, incremented by every update.
    pub version: u64,
}

/// A type of event of the platform's catalog: every account may publish and subscribe to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventType {
    /// Its name (also its id), e.g. `invoice.created`.
    pub name: String,
    /// What it means.
    #[serde(default)]
    pub description: String,
    /// A label to group types by in a UI (empty: none).
    #[serde(default)]
    pub group: String,
    /// The JSON Schema its payloads must validate against, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// A payload that validates against `schema`, to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
    /// Still published, but no webhook may newly subscribe to it.
    #[serde(default)]
    pub deprecated: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, incremented by every update.
    #[serde(default)]
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_subscription_has_no_filters_should_serialize_without_them() {
        let subscription = EventSubscription { event_type: "a.b".into(), filters: Filters::new() };
        assert_eq!(serde_json::to_value(&subscription).expect("json"), serde_json::json!({"event_type": "a.b"}));
    }
}
