//! The webhook resource of the management API: its vocabulary and limits, the changes a
//! request may make, and a webhook's lifecycle (create, patch, key fit, rotation). Reading
//! and validating documents is in `validate`, rendering in `render`.

mod render;
mod rotation;
mod subscriptions;
pub(crate) mod validate;

pub use render::{attributes, render, resource, self_link};
pub use rotation::{Rotation, parse_rotation, rotation_key};
pub use subscriptions::is_event_type_name;
pub use validate::{is_reserved_header, parse_create, parse_patch};

use crate::error::Error;
use crate::model::{
    Audit, DisabledReason, Environment, EventSubscription, Ordering, SignatureAlgo, Webhook, WebhookStatus,
};
use crate::patch::Patch;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// The JSON:API type of webhooks.
pub const TYPE: &str = "webhooks";
/// The event type a match-all subscription names.
pub const WILDCARD: &str = "*";

/// Limits that protect the service; documented in the OpenAPI description.
pub mod limits {
    /// Characters of a name.
    pub const NAME: usize = 255;
    /// Characters of a URL.
    pub const URL: usize = 2048;
    /// Subscriptions of one webhook.
    pub const EVENTS: usize = 100;
    /// Filters of one subscription.
    pub const FILTERS: usize = 20;
    /// Values of one filter.
    pub const FILTER_VALUES: usize = 50;
    /// Scopes of one webhook.
    pub const SCOPES: usize = 20;
    /// Custom headers of one webhook.
    pub const HEADERS: usize = 20;
    /// Characters of a scope value or key, of a header value.
    pub const VALUE: usize = 1024;
    /// The longest delivery timeout a webhook may ask for, in seconds.
    pub const TIMEOUT_SECONDS: u64 = 30;
    /// The highest rate limit a webhook may ask for, deliveries a second.
    pub const RATE_LIMIT: u32 = 1000;
    /// Bytes of a secret, once base64-decoded.
    pub const SECRET_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
}

/// Every attribute a webhook renders, in order; the sparse-fieldset and sort vocabulary.
pub const ATTRIBUTES: &[&str] = &[
    "id",
    "account_id",
    "name",
    "url",
    "secret",
    "events",
    "scopes",
    "headers",
    "signature_algo",
    "public_key",
    "retry_schedule",
    "timeout_seconds",
    "rate_limit",
    "transformation",
    "ordering",
    "environment",
    "status",
    "disabled_reason",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
];

/// What a request may change, already validated. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new URL.
    pub url: Option<String>,
    /// A new secret.
    pub secret: Option<String>,
    /// New subscriptions.
    pub events: Option<Vec<EventSubscription>>,
    /// New scopes.
    pub scopes: Option<BTreeMap<String, String>>,
    /// New custom headers.
    pub headers: Option<BTreeMap<String, String>>,
    /// A new signing scheme.
    pub signature_algo: Option<SignatureAlgo>,
    /// Enabled or disabled.
    pub status: Option<WebhookStatus>,
    /// A new retry schedule (null resets it to the default).
    pub retry_schedule: Patch<Vec<u32>>,
    /// A new delivery timeout (null resets it to the default).
    pub timeout_seconds: Patch<u32>,
    /// A new rate limit (null removes it).
    pub rate_limit: Patch<u32>,
    /// A new transformation (null removes it); parsed by the caller, which has the sandbox.
    pub transformation: Patch<String>,
    /// A new delivery order.
    pub ordering: Option<Ordering>,
}

/// What validation needs to know beyond the document.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    /// The environment of the caller's key; a webhook lives there.
    pub environment: Environment,
    /// Whether a production webhook may use plain http (operator setting).
    pub allow_http: bool,
    /// The event types the account may subscribe to (registered and built-in).
    pub catalog: &'a BTreeSet<String>,
}

/// Checks that the webhook's key fits its `signature_algo` (whsec_ for hmac and jwt, whsk_
/// for ed25519). A key the request did not give is replaced by a fresh one (the old one
/// could not sign with the new algorithm); a given key that does not fit is refused.
pub fn fit_key(webhook: &mut Webhook, key_given: bool) -> Result<(), Error> {
    if crate::signing::is_valid_key(webhook.signature_algo, &webhook.secret) {
        return Ok(());
    }
    if key_given {
        return Err(Error::invalid(
            "/data/attributes/secret",
            "secret_does_not_fit",
            "hmac and jwt webhooks take a whsec_ secret, ed25519 webhooks a whsk_ key",
        ));
    }
    webhook.secret = crate::signing::generate_key(webhook.signature_algo);
    webhook.previous_secrets.clear();
    Ok(())
}

/// The longest a `fifo` webhook's retry schedule may wait in all: its deliveries wait in the
/// ordered queue, which keeps a message 14 days from when it was sent.
pub const MAX_FIFO_SCHEDULE_SECONDS: u64 = 13 * 86_400;

/// Refuses a `fifo` webhook whose own retry schedule waits longer in all than its queue keeps
/// a delivery (checked on the webhook as it would be after a change: either field may change).
pub fn check_ordering(webhook: &Webhook) -> Result<(), Error> {
    let total: u64 = webhook.retry_schedule.iter().flatten().map(|step| u64::from(*step)).sum();
    if webhook.ordering == Ordering::Fifo && total > MAX_FIFO_SCHEDULE_SECONDS {
        return Err(Error::invalid(
            "/data/attributes/retry_schedule",
            "schedule_too_long_for_fifo",
            format!(
                "a fifo webhook's retries wait {MAX_FIFO_SCHEDULE_SECONDS} seconds (13 days) in all at most: its deliveries wait in a queue that keeps them 14 days"
            ),
        ));
    }
    Ok(())
}

/// A new webhook from validated create changes.
pub fn new_webhook(
    id: u64,
    account_id: u64,
    changes: WebhookChanges,
    environment: Environment,
    audit: Audit,
    now: DateTime<Utc>,
) -> Webhook {
    let status = changes.status.unwrap_or_default();
    Webhook {
        id,
        account_id,
        name: changes.name.unwrap_or_default(),
        url: changes.url.unwrap_or_default(),
        secret: changes
            .secret
            .unwrap_or_else(|| crate::signing::generate_key(changes.signature_algo.unwrap_or_default())),
        events: changes.events.unwrap_or_default(),
        scopes: changes.scopes.unwrap_or_default(),
        headers: changes.headers.unwrap_or_default(),
        signature_algo: changes.signature_algo.unwrap_or_default(),
        environment,
        status,
        disabled_reason: (status == WebhookStatus::Disabled).then_some(DisabledReason::Manual),
        previous_secrets: Vec::new(),
        retry_schedule: changes.retry_schedule.apply(None),
        timeout_seconds: changes.timeout_seconds.apply(None),
        rate_limit: changes.rate_limit.apply(None),
        transformation: changes.transformation.clone().apply(None),
        ordering: changes.ordering.unwrap_or_default(),
        failing_since: None,
        created_by: audit.clone(),
        updated_by: audit,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Applies validated patch changes, stamping the audit and the next version.
pub fn apply_changes(webhook: &Webhook, changes: &WebhookChanges, audit: Audit, now: DateTime<Utc>) -> Webhook {
    let mut next = webhook.clone();
    if let Some(name) = &changes.name {
        next.name = name.clone();
    }
    if let Some(url) = &changes.url {
        next.url = url.clone();
    }
    if let Some(secret) = &changes.secret {
        next.secret = secret.clone();
    }
    if let Some(events) = &changes.events {
        next.events = events.clone();
    }
    if let Some(scopes) = &changes.scopes {
        next.scopes = scopes.clone();
    }
    if let Some(headers) = &changes.headers {
        next.headers = headers.clone();
    }
    if let Some(algo) = changes.signature_algo {
        next.signature_algo = algo;
    }
    next.retry_schedule = changes.retry_schedule.apply(next.retry_schedule.take());
    next.timeout_seconds = changes.timeout_seconds.apply(next.timeout_seconds);
    next.rate_limit = changes.rate_limit.apply(next.rate_limit);
    next.transformation = changes.transformation.clone().apply(next.transformation.take());
    if let Some(ordering) = changes.ordering {
        next.ordering = ordering;
    }
    if let Some(status) = changes.status
        && status != webhook.status
    {
        next.status = status;
        next.disabled_reason = (status == WebhookStatus::Disabled).then_some(DisabledReason::Manual);
    }
    next.updated_by = audit;
    next.updated_at = now;
    next.version = webhook.version + 1;
    next
}

/// The default overlap of a rotated-out secret: it keeps signing for 24 hours.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);
/// The longest overlap a rotation may ask for: 7 days.
pub const MAX_ROTATION_OVERLAP_SECONDS: i64 = 7 * 86_400;
/// Rotated-out secrets kept at most (the newest).
const MAX_RETIRED: usize = 5;

/// Rotates a webhook's secret to `new_secret`: the current one keeps signing until
/// `now + overlap` (not at all with a zero overlap); expired retired secrets are dropped.
pub fn rotate(
    webhook: &Webhook,
    new_secret: String,
    overlap: chrono::Duration,
    audit: Audit,
    now: DateTime<Utc>,
) -> Webhook {
    let mut next = webhook.clone();
    next.previous_secrets.retain(|retired| retired.until > now);
    if overlap > chrono::Duration::zero() {
        next.previous_secrets
            .insert(0, crate::model::RetiredSecret { secret: webhook.secret.clone(), until: now + overlap });
    }
    next.previous_secrets.truncate(MAX_RETIRED);
    next.secret = new_secret;
    next.updated_by = audit;
    next.updated_at = now;
    next.version = webhook.version + 1;
    next
}

/// A timestamp as the API writes it: RFC 3339, UTC, milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The secret as shown outside of create and the explicit reveal: its own prefix (`whsec_`,
/// `whsk_`) and last 4.
pub fn mask_secret(secret: &str) -> String {
    let prefix = secret.find('_').map_or("", |end| &secret[..=end]);
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{prefix}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::{Value, json};

    fn catalog() -> BTreeSet<String> {
        ["loan.created", "invoice.paid", "INVOICE_CREATED", "webhook.test"].into_iter().map(String::from).collect()
    }

    fn rules(catalog: &BTreeSet<String>) -> Rules<'_> {
        Rules { environment: Environment::Production, allow_http: false, catalog }
    }

    fn document(attributes: Value) -> Value {
        json!({ "data": { "type": "webhooks", "attributes": attributes } })
    }

    fn problems(error: Error) -> Vec<(String, &'static str)> {
        match error {
            Error::Invalid(problems) => problems
                .into_iter()
                .map(|problem| match problem.source {
                    Some(crate::Source::Pointer(pointer)) => (pointer, problem.code),
                    other => (format!("{other:?}"), problem.code),
                })
                .collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn when_create_has_every_seed_field_should_accept_it() {
        let catalog = catalog();
        let changes = parse_create(
            &document(json!({
                "name": "Loan created webhook",
                "url": "https://api.example.com/webhooks",
                "events": [{"event_type": "loan.created", "filters": {"status": ["canceled", "open"]}}, "INVOICE_CREATED"],
                "headers": {"Authorization": "key-12345", "X-Paigo-Security": "1234567890"},
                "scopes": {"offering_id": "539b7f74-3832-474e-a955-6d69c5df12d0"},
                "signature_algo": "jwt",
                "environment": "production",
                "id": 5, "account_id": 9, "created_at": "2022-04-29T08:59:51Z"
            })),
            &rules(&catalog),
        )
        .expect("valid");
        assert_eq!(changes.events.as_ref().map(Vec::len), Some(2));
        assert_eq!(changes.signature_algo, Some(SignatureAlgo::Jwt));
        assert_eq!(changes.headers.as_ref().map(BTreeMap::len), Some(2));
    }

    #[test]
    fn when_create_misses_url_and_events_should_point_at_both() {
        let catalog = catalog();
        let found = problems(parse_create(&document(json!({"name": "x"})), &rules(&catalog)).expect_err("invalid"));
        assert!(found.contains(&("/data/attributes/url".into(), "required")));
        assert!(found.contains(&("/data/attributes/events".into(), "required")));
    }

    #[test]
    fn when_attributes_are_wrong_should_point_at_each_field() {
        let catalog = catalog();
        let error = parse_create(
            &document(json!({
                "url": "ftp://example.com",
                "events": ["nope.never", {"event_type": "loan.created", "filters": {"status": "open"}}],
                "headers": {"Content-Type": "text/plain", "webhook-id": "x", "bad name": "v", "X-Ok": "line\nbreak"},
                "signature_algo": "md5",
                "status": "paused",
                "secret": "plain",
                "colour": "blue"
            })),
            &rules(&catalog),
        )
        .expect_err("invalid");
        let found = problems(error);
        for expected in [
            ("/data/attributes/url", "invalid_scheme"),
            ("/data/attributes/events/0", "unknown_event_type"),
            ("/data/attributes/events/1/filters/status", "invalid_filter_values"),
            ("/data/attributes/headers/Content-Type", "reserved_header"),
            ("/data/attributes/headers/webhook-id", "reserved_header"),
            ("/data/attributes/headers/bad name", "invalid_header_name"),
            ("/data/attributes/headers/X-Ok", "invalid_header_value"),
            ("/data/attributes/signature_algo", "invalid_value"),
            ("/data/attributes/status", "invalid_value"),
            ("/data/attributes/secret", "invalid_secret"),
            ("/data/attributes/colour", "unknown_attribute"),
        ] {
            assert!(found.contains(&(expected.0.to_string(), expected.1)), "{expected:?} not in {found:?}");
        }
    }

    #[test]
    fn when_production_url_is_http_should_require_https_unless_allowed() {
        let catalog = catalog();
        let doc = document(json!({"url": "http://example.com/h", "events": ["loan.created"]}));
        let found = problems(parse_create(&doc, &rules(&catalog)).expect_err("https"));
        assert_eq!(found, vec![("/data/attributes/url".to_string(), "https_required")]);
        let allowed = Rules { allow_http: true, ..rules(&catalog) };
        assert!(parse_create(&doc, &allowed).is_ok());
        let sandbox = Rules { environment: Environment::Sandbox, ..rules(&catalog) };
        assert!(parse_create(&doc, &sandbox).is_ok());
    }

    #[test]
    fn when_environment_differs_from_the_key_should_refuse() {
        let catalog = catalog();
        let doc = document(json!({"url": "https://e.com", "events": ["*"], "environment": "sandbox"}));
        let found = problems(parse_create(&doc, &rules(&catalog)).expect_err("mismatch"));
        assert_eq!(found, vec![("/data/attributes/environment".to_string(), "environment_mismatch")]);
    }

    #[test]
    fn when_type_is_wrong_should_be_a_409_at_data_type() {
        let catalog = catalog();
        let error =
            parse_create(&json!({"data": {"type": "users", "attributes": {}}}), &rules(&catalog)).expect_err("type");
        assert_eq!(error.status(), 409);
        let error =
            parse_patch(&json!({"data": {"type": "webhooks", "id": "8"}}), 7, &rules(&catalog)).expect_err("id");
        assert_eq!(error.status(), 409);
        assert!(parse_patch(&json!({"data": {"type": "webhooks", "id": "7"}}), 7, &rules(&catalog)).is_ok());
    }

    #[test]
    fn when_secret_given_should_check_prefix_and_length() {
        let catalog = catalog();
        let good = format!("whsec_{}", STANDARD.encode([7u8; 32]));
        let short = format!("whsec_{}", STANDARD.encode([7u8; 8]));
        let with = |secret: &str| {
            parse_create(
                &document(json!({"url": "https://e.com", "events": ["*"], "secret": secret})),
                &rules(&catalog),
            )
        };
        assert_eq!(with(&good).expect("valid").secret, Some(good.clone()));
        assert!(with(&short).is_err());
        assert!(with("whsec_***").is_err());
    }

    #[test]
    fn when_schedule_and_timeout_given_should_validate_and_reset_with_null() {
        let catalog = catalog();
        let base = json!({"url": "https://e.com", "events": ["*"]});
        let with = |extra: Value| {
            let mut attributes = base.clone();
            for (key, value) in extra.as_object().expect("object") {
                attributes[key] = value.clone();
            }
            parse_create(&document(attributes), &rules(&catalog))
        };
        let changes = with(json!({"retry_schedule": [1, 2, 3], "timeout_seconds": 30})).expect("valid");
        assert_eq!(changes.retry_schedule, Patch::Value(vec![1, 2, 3]));
        assert_eq!(changes.timeout_seconds, Patch::Value(30));
        assert_eq!(with(json!({"retry_schedule": null})).expect("reset").retry_schedule, Patch::Null);
        for bad in [json!({"retry_schedule": [0]}), json!({"retry_schedule": "fast"}), json!({"retry_schedule": [-1]})]
        {
            assert_eq!(problems(with(bad.clone()).expect_err("invalid"))[0].1, "invalid_retry_schedule", "{bad}");
        }
        for bad in [json!({"timeout_seconds": 31}), json!({"timeout_seconds": 0}), json!({"timeout_seconds": 1.5})] {
            assert_eq!(problems(with(bad.clone()).expect_err("invalid"))[0].1, "invalid_timeout", "{bad}");
        }
    }

    #[test]
    fn when_ordering_given_should_take_none_or_fifo_and_fifo_should_bound_the_schedule() {
        let with = |ordering: Value| {
            parse_create(
                &document(json!({"url": "https://e.com", "events": ["*"], "ordering": ordering})),
                &rules(&catalog()),
            )
        };
        assert_eq!(with(json!("fifo")).expect("valid").ordering, Some(Ordering::Fifo));
        assert_eq!(with(json!("none")).expect("valid").ordering, Some(Ordering::None));
        for wrong in [json!("lifo"), json!(1), Value::Null] {
            let Err(Error::Invalid(problems)) = with(wrong.clone()) else { panic!("{wrong} is refused") };
            assert_eq!(problems[0].source, Some(crate::Source::Pointer("/data/attributes/ordering".into())), "{wrong}");
        }
        let mut webhook =
            new_webhook(1, 1, WebhookChanges::default(), Environment::Production, Audit::default(), Utc::now());
        webhook.ordering = Ordering::Fifo;
        webhook.retry_schedule = Some(vec![86_400; 13]);
        assert!(check_ordering(&webhook).is_ok(), "13 days in all");
        webhook.retry_schedule = Some(vec![86_400; 14]);
        assert!(check_ordering(&webhook).is_err(), "14 days is the queue's whole retention");
        webhook.ordering = Ordering::None;
        assert!(check_ordering(&webhook).is_ok(), "an unordered webhook's retries wait in the other queue");
    }

    #[test]
    fn when_rate_limit_given_should_take_whole_deliveries_a_second_and_reset_with_null() {
        let catalog = catalog();
        let with = |rate: Value| {
            parse_create(
                &document(json!({"url": "https://e.com", "events": ["*"], "rate_limit": rate})),
                &rules(&catalog),
            )
        };
        assert_eq!(with(json!(20)).expect("valid").rate_limit, Patch::Value(20));
        assert_eq!(with(json!(limits::RATE_LIMIT)).expect("valid").rate_limit, Patch::Value(limits::RATE_LIMIT));
        assert_eq!(with(Value::Null).expect("reset").rate_limit, Patch::Null);
        for bad in [json!(0), json!(limits::RATE_LIMIT + 1), json!(2.5), json!("fast"), json!(-1)] {
            let found = problems(with(bad.clone()).expect_err("invalid"));
            assert_eq!(
                (found[0].0.as_str(), found[0].1),
                ("/data/attributes/rate_limit", "invalid_rate_limit"),
                "{bad}"
            );
        }
        let webhook =
            new_webhook(1, 2, with(json!(20)).expect("valid"), Environment::Production, Audit::default(), Utc::now());
        assert_eq!(webhook.rate_limit, Some(20));
        let removed = WebhookChanges { rate_limit: Patch::Null, ..WebhookChanges::default() };
        assert_eq!(apply_changes(&webhook, &removed, Audit::default(), Utc::now()).rate_limit, None);
    }

    #[test]
    fn when_event_listed_twice_should_refuse_the_second() {
        let catalog = catalog();
        let doc = document(json!({"url": "https://e.com", "events": ["loan.created", {"event_type": "loan.created"}]}));
        let found = problems(parse_create(&doc, &rules(&catalog)).expect_err("dup"));
        assert_eq!(found, vec![("/data/attributes/events/1/event_type".to_string(), "duplicate_event_type")]);
    }

    #[test]
    fn when_patched_should_change_only_given_fields_and_stamp_the_audit() {
        let catalog = catalog();
        let creator = Audit { client_id: "key_a".into(), external_client_id: None, app: Some("backoffice".into()) };
        let created = new_webhook(
            3,
            9,
            parse_create(&document(json!({"url": "https://e.com", "events": ["loan.created"]})), &rules(&catalog))
                .expect("ok"),
            Environment::Production,
            creator.clone(),
            Utc::now(),
        );
        assert!(created.secret.starts_with("whsec_"));
        let changes =
            parse_patch(&document(json!({"name": "renamed", "status": "disabled"})), 3, &rules(&catalog)).expect("ok");
        let editor = Audit { client_id: "key_b".into(), external_client_id: Some("ext".into()), app: None };
        let patched = apply_changes(&created, &changes, editor.clone(), Utc::now());
        assert_eq!(patched.name, "renamed");
        assert_eq!(patched.url, created.url);
        assert_eq!(patched.status, WebhookStatus::Disabled);
        assert_eq!(patched.disabled_reason, Some(DisabledReason::Manual));
        assert_eq!(patched.created_by, creator);
        assert_eq!(patched.updated_by, editor);
        assert_eq!(patched.version, created.version + 1);
    }

    #[test]
    fn when_rotated_should_keep_the_old_secret_signing_for_the_overlap_only() {
        let catalog = catalog();
        let now = Utc::now();
        let hook = new_webhook(
            1,
            2,
            parse_create(&document(json!({"url": "https://e.com", "events": ["*"]})), &rules(&catalog)).expect("ok"),
            Environment::Production,
            Audit::default(),
            now,
        );
        let rotated = rotate(&hook, "whsec_new".into(), ROTATION_OVERLAP, Audit::default(), now);
        assert_eq!(rotated.signing_keys(now), vec!["whsec_new", hook.secret.as_str()]);
        assert_eq!(rotated.signing_keys(now + chrono::Duration::hours(25)), vec!["whsec_new"]);
        let immediate = rotate(&rotated, "whsec_third".into(), chrono::Duration::zero(), Audit::default(), now);
        assert_eq!(
            immediate.signing_keys(now),
            vec!["whsec_third", hook.secret.as_str()],
            "the earlier overlap still runs"
        );
        assert_eq!(immediate.version, hook.version + 2);
    }

    #[test]
    fn when_algorithm_changes_should_fit_the_key_or_refuse_a_given_one() {
        let catalog = catalog();
        let created = parse_create(
            &document(json!({"url": "https://e.com", "events": ["*"], "signature_algo": "ed25519"})),
            &rules(&catalog),
        )
        .expect("ok");
        let mut hook = new_webhook(1, 2, created, Environment::Production, Audit::default(), Utc::now());
        assert!(hook.secret.starts_with("whsk_"), "an ed25519 webhook gets a key pair");
        assert!(fit_key(&mut hook, false).is_ok());
        assert!(attributes(&hook, false)["public_key"].as_str().expect("whpk").starts_with("whpk_"));
        hook.signature_algo = SignatureAlgo::Hmac;
        fit_key(&mut hook, false).expect("regenerated");
        assert!(hook.secret.starts_with("whsec_"));
        assert_eq!(attributes(&hook, false)["public_key"], Value::Null);
        hook.signature_algo = SignatureAlgo::Ed25519;
        assert_eq!(fit_key(&mut hook, true).expect_err("refused").status(), 422);
    }

    #[test]
    fn when_rendered_should_mask_the_secret_unless_revealed() {
        let catalog = catalog();
        let hook = new_webhook(
            1,
            2,
            parse_create(&document(json!({"url": "https://e.com", "events": ["loan.created"]})), &rules(&catalog))
                .expect("ok"),
            Environment::Sandbox,
            Audit::default(),
            Utc::now(),
        );
        let masked = attributes(&hook, false);
        assert_ne!(masked["secret"], json!(hook.secret));
        assert!(masked["secret"].as_str().expect("str").starts_with("whsec_…"));
        assert_eq!(attributes(&hook, true)["secret"], json!(hook.secret));
        assert_eq!(masked["events"], json!(["loan.created"]));
        assert_eq!(masked["environment"], "sandbox");
        assert_eq!(masked.keys().map(String::as_str).collect::<Vec<_>>(), ATTRIBUTES);
    }

    #[test]
    fn when_secret_masked_should_keep_its_own_prefix() {
        assert_eq!(mask_secret("whsec_AQIDBAUGBwgJ"), "whsec_…BwgJ");
        assert_eq!(mask_secret("whsk_AQIDBAUGBwgJ"), "whsk_…BwgJ");
        let ed25519 = crate::signing::generate_key(SignatureAlgo::Ed25519);
        assert!(mask_secret(&ed25519).starts_with("whsk_…"), "{}", mask_secret(&ed25519));
    }
}
