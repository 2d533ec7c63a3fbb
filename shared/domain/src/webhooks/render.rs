//! A webhook as the API shows it: its attributes (secret masked or revealed) and resource.

use super::{TYPE, mask_secret, timestamp};
use crate::documents::{AuditView, SelfLink, Subscription, WebhookAttributes, WebhookResource};
use crate::model::{Audit, EventSubscription, SignatureAlgo, Webhook};
use serde_json::{Map, Value};

fn audit_view(audit: &Audit) -> AuditView {
    AuditView {
        client_id: audit.client_id.clone(),
        external_client_id: audit.external_client_id.clone(),
        app: audit.app.clone(),
    }
}

fn subscription(subscription: &EventSubscription) -> Subscription {
    if subscription.filters.is_empty() {
        Subscription::Name(subscription.event_type.clone())
    } else {
        Subscription::Filtered { event_type: subscription.event_type.clone(), filters: subscription.filters.clone() }
    }
}

/// Every attribute of a webhook, with the secret in full (`reveal`) or masked.
pub fn render(webhook: &Webhook, reveal: bool) -> WebhookAttributes {
    WebhookAttributes {
        id: webhook.id,
        account_id: webhook.account_id,
        name: webhook.name.clone(),
        url: webhook.url.clone(),
        secret: if reveal { webhook.secret.clone() } else { mask_secret(&webhook.secret) },
        events: webhook.events.iter().map(subscription).collect(),
        scopes: webhook.scopes.clone(),
        headers: webhook.headers.clone(),
        signature_algo: webhook.signature_algo,
        public_key: match webhook.signature_algo {
            SignatureAlgo::Ed25519 => crate::signing::public_key(&webhook.secret).ok(),
            _ => None,
        },
        retry_schedule: webhook.retry_schedule.clone(),
        timeout_seconds: webhook.timeout_seconds,
        rate_limit: webhook.rate_limit,
        transformation: webhook.transformation.clone(),
        ordering: webhook.ordering,
        environment: webhook.environment,
        status: webhook.status,
        disabled_reason: webhook.disabled_reason,
        created_by: audit_view(&webhook.created_by),
        updated_by: audit_view(&webhook.updated_by),
        created_at: timestamp(webhook.created_at),
        updated_at: timestamp(webhook.updated_at),
    }
}

/// [`render`] as a map: what lists filter, sort and cut to a sparse fieldset.
pub fn attributes(webhook: &Webhook, reveal: bool) -> Map<String, Value> {
    match serde_json::to_value(render(webhook, reveal)) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The path of a webhook.
pub fn self_link(id: u64) -> String {
    format!("/api/v3/notification/webhooks/{id}")
}

/// A webhook as a JSON:API resource object with the given (possibly sparse) attributes.
pub fn resource(id: u64, attributes: Map<String, Value>) -> WebhookResource {
    WebhookResource { kind: TYPE.into(), id: id.to_string(), attributes, links: SelfLink::to(self_link(id)) }
}
