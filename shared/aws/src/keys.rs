//! The single-table key layout: how each record's partition and sort keys are spelled.
//! `docs/data-model.md` lists the access pattern each one serves.

use hookline_domain::model::{AccountId, WebhookId};

/// The partition of everything an account owns directly.
pub fn account_pk(account: AccountId) -> String {
    format!("ACCOUNT#{account}")
}

/// The sort key of the account record.
pub const ACCOUNT_SK: &str = "ACCOUNT";

/// The global account-id counter.
pub const ACCOUNT_COUNTER_PK: &str = "COUNTER";
/// The global account-id counter's sort key.
pub const ACCOUNT_COUNTER_SK: &str = "ACCOUNT";

/// An API key, found by its hash.
pub fn api_key_pk(key_hash: &str) -> String {
    format!("APIKEY#{key_hash}")
}
/// The sort key of an API key.
pub const API_KEY_SK: &str = "APIKEY";
/// The index partition listing an account's keys.
pub fn api_keys_gsi1pk(account: AccountId) -> String {
    format!("ACCOUNT#{account}#APIKEYS")
}

/// The per-account webhook-id counter's sort key.
pub const WEBHOOK_COUNTER_SK: &str = "COUNTER#WEBHOOK";
/// Sort-key prefix of webhooks.
pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";
/// A webhook's sort key, zero-padded so that they sort by id.
pub fn webhook_sk(id: WebhookId) -> String {
    format!("{WEBHOOK_PREFIX}{id:020}")
}

/// Sort-key prefix of event types.
pub const EVENT_TYPE_PREFIX: &str = "EVENTTYPE#";
/// An event type's sort key.
pub fn event_type_sk(name: &str) -> String {
    format!("{EVENT_TYPE_PREFIX}{name}")
}

/// The partition of a message, its deliveries and its attempts.
pub fn message_pk(message_id: &str) -> String {
    format!("MESSAGE#{message_id}")
}
/// The sort key of the message record.
pub const MESSAGE_SK: &str = "MESSAGE";
/// The index partition listing an account's messages (sorted by id, hence by time).
pub fn messages_gsi1pk(account: AccountId) -> String {
    format!("ACCOUNT#{account}#MESSAGES")
}
/// Sort-key prefix of deliveries.
pub const DELIVERY_PREFIX: &str = "DELIVERY#";
/// A delivery's sort key.
pub fn delivery_sk(webhook: WebhookId) -> String {
    format!("{DELIVERY_PREFIX}{webhook:020}")
}
/// Sort-key prefix of attempts.
pub const ATTEMPT_PREFIX: &str = "ATTEMPT#";
/// An attempt's sort key.
pub fn attempt_sk(webhook: WebhookId, number: u32) -> String {
    format!("{ATTEMPT_PREFIX}{webhook:020}#{number:04}")
}
/// The index partition listing a webhook's attempts (sorted by time).
pub fn webhook_attempts_gsi1pk(account: AccountId, webhook: WebhookId) -> String {
    format!("ACCOUNT#{account}#WEBHOOK#{webhook}#ATTEMPTS")
}

/// An idempotency record's sort key.
pub fn idempotency_sk(key: &str) -> String {
    format!("IDEMPOTENCY#{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_webhook_ids_padded_should_sort_numerically() {
        assert!(webhook_sk(9) < webhook_sk(10));
        assert!(attempt_sk(2, 9) < attempt_sk(2, 10));
        assert!(attempt_sk(2, 9999) < attempt_sk(3, 1));
    }
}
