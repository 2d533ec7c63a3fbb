//! The operational event types: what Hookline tells the platform about its accounts, their
//! webhooks and their deliveries (published by `hookline-core`), built into the catalog with
//! the JSON Schema of their payloads.

use serde_json::{Value, json};

/// An account was created.
pub const ACCOUNT_CREATED: &str = "account.created";
/// An account was deleted.
pub const ACCOUNT_DELETED: &str = "account.deleted";
/// A webhook was created.
pub const WEBHOOK_CREATED: &str = "webhook.created";
/// A webhook was changed.
pub const WEBHOOK_UPDATED: &str = "webhook.updated";
/// A webhook was deleted.
pub const WEBHOOK_DELETED: &str = "webhook.deleted";
/// A webhook was disabled, by its owner or by Hookline (with the reason).
pub const WEBHOOK_DISABLED: &str = "webhook.disabled";
/// A disabled webhook was enabled again.
pub const WEBHOOK_ENABLED: &str = "webhook.enabled";
/// A delivery's first attempt failed.
pub const ATTEMPT_FAILING: &str = "message.attempt.failing";
/// A delivery failed for good.
pub const ATTEMPT_EXHAUSTED: &str = "message.attempt.exhausted";
/// A delivery succeeded after failing.
pub const ATTEMPT_RECOVERED: &str = "message.attempt.recovered";

/// Every operational event type, with what it means.
pub const TYPES: &[(&str, &str)] = &[
    (ACCOUNT_CREATED, "An account was created."),
    (ACCOUNT_DELETED, "An account was deleted: its keys revoked, its webhooks disabled."),
    (WEBHOOK_CREATED, "A webhook was created."),
    (WEBHOOK_UPDATED, "A webhook was changed."),
    (WEBHOOK_DELETED, "A webhook was deleted."),
    (WEBHOOK_DISABLED, "A webhook was disabled, by its owner or by Hookline; `reason` says which."),
    (WEBHOOK_ENABLED, "A disabled webhook was enabled again."),
    (ATTEMPT_FAILING, "The first attempt of a delivery failed; it will be retried."),
    (ATTEMPT_EXHAUSTED, "A delivery failed for good: its retries are spent, or its endpoint refused or is gone."),
    (ATTEMPT_RECOVERED, "A delivery succeeded after failing."),
];

/// The JSON Schema of an operational event's payload: the account always, the rest by type.
pub fn schema(event_type: &str) -> Value {
    let mut required = vec!["type", "account_uid", "account_id"];
    match event_type {
        WEBHOOK_CREATED | WEBHOOK_UPDATED | WEBHOOK_DELETED | WEBHOOK_ENABLED => required.push("webhook_id"),
        WEBHOOK_DISABLED => required.extend(["webhook_id", "reason"]),
        ATTEMPT_FAILING | ATTEMPT_EXHAUSTED | ATTEMPT_RECOVERED => {
            required.extend(["webhook_id", "message_id", "event_type", "attempt"]);
        }
        _ => {}
    }
    json!({
        "type": "object",
        "required": required,
        "properties": {
            "type": {"const": event_type},
            "account_uid": {"type": "string"},
            "account_id": {"type": "integer", "minimum": 1},
            "webhook_id": {"type": "integer", "minimum": 1},
            "message_id": {"type": "string"},
            "event_type": {"type": "string"},
            "attempt": {"type": "integer", "minimum": 1},
            "reason": {"type": "string"},
        },
    })
}
