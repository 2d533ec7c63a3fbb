//! The webhook resource of the management API: reading and validating create and patch
//! documents (seed 003, with the fields of seeds 000–002), and rendering attributes.

use crate::error::{Error, Problem};
use crate::model::{
    Audit, DisabledReason, Environment, EventSubscription, Filters, SignatureAlgo, Webhook, WebhookStatus,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
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
    /// Bytes of a secret, once base64-decoded.
    pub const SECRET_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
}

/// Attributes a client may write.
const WRITABLE: &[&str] = &[
    "name",
    "url",
    "secret",
    "events",
    "scopes",
    "headers",
    "signature_algo",
    "environment",
    "status",
    "retry_schedule",
    "timeout_seconds",
];
/// Attributes the server owns: accepted in a document (seed 003 lists them on create) and ignored.
const READ_ONLY: &[&str] =
    &["id", "account_id", "created_at", "updated_at", "created_by", "updated_by", "disabled_reason", "public_key"];

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
    "environment",
    "status",
    "disabled_reason",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
];

/// Headers Hookline sets itself or that belong to the connection: refused as custom headers.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
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
    /// A new retry schedule (`Some(None)` resets it to the default).
    pub retry_schedule: Option<Option<Vec<u32>>>,
    /// A new delivery timeout (`Some(None)` resets it to the default).
    pub timeout_seconds: Option<Option<u32>>,
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

/// Reads a create (`id = None`) or patch document for `TYPE`, returning its attributes.
fn attributes_of(document: &Value, id: Option<u64>) -> Result<Map<String, Value>, Error> {
    let data = document
        .get("data")
        .filter(|data| data.is_object())
        .ok_or_else(|| Error::invalid("/data", "missing_data", "the document needs a `data` object"))?;
    match data.get("type") {
        Some(Value::String(kind)) if kind == TYPE => {}
        Some(Value::String(kind)) => {
            return Err(Error::DocumentConflict(Problem::at(
                "/data/type",
                "wrong_type",
                format!("this endpoint takes `{TYPE}`, not `{kind}`"),
            )));
        }
        _ => return Err(Error::invalid("/data/type", "missing_type", format!("`data.type` must be \"{TYPE}\""))),
    }
    if let (Some(expected), Some(given)) = (id, data.get("id")) {
        let matches = match given {
            Value::String(text) => text == &expected.to_string(),
            Value::Number(number) => number.as_u64() == Some(expected),
            _ => false,
        };
        if !matches {
            return Err(Error::DocumentConflict(Problem::at(
                "/data/id",
                "id_mismatch",
                format!("`data.id` must be the id of the URL, {expected}"),
            )));
        }
    }
    match data.get("attributes") {
        Some(Value::Object(attributes)) => Ok(attributes.clone()),
        None if id.is_some() => Ok(Map::new()),
        _ => Err(Error::invalid("/data/attributes", "missing_attributes", "`data.attributes` must be an object")),
    }
}

/// Reads and validates a create document: `url` and `events` are required.
pub fn parse_create(document: &Value, rules: &Rules<'_>) -> Result<WebhookChanges, Error> {
    let attributes = attributes_of(document, None)?;
    let changes = validate(&attributes, rules)?;
    let mut problems = Vec::new();
    if changes.url.is_none() {
        problems.push(Problem::at("/data/attributes/url", "required", "`url` is required"));
    }
    if changes.events.is_none() {
        problems.push(Problem::at("/data/attributes/events", "required", "`events` is required"));
    }
    if problems.is_empty() { Ok(changes) } else { Err(Error::Invalid(problems)) }
}

/// Reads and validates a patch document of webhook `id`: every attribute is optional.
pub fn parse_patch(document: &Value, id: u64, rules: &Rules<'_>) -> Result<WebhookChanges, Error> {
    validate(&attributes_of(document, Some(id))?, rules)
}

fn pointer(name: &str) -> String {
    format!("/data/attributes/{name}")
}

fn validate(attributes: &Map<String, Value>, rules: &Rules<'_>) -> Result<WebhookChanges, Error> {
    let mut problems = Vec::new();
    let mut changes = WebhookChanges::default();
    for (name, value) in attributes {
        let at = pointer(name);
        let result = match name.as_str() {
            "name" => string(value, &at, limits::NAME, true).map(|name| changes.name = Some(name)),
            "url" => validate_url(value, &at, rules).map(|url| changes.url = Some(url)),
            "secret" => validate_secret(value, &at).map(|secret| changes.secret = Some(secret)),
            "events" => validate_events(value, &at, rules.catalog).map(|events| changes.events = Some(events)),
            "scopes" => validate_scopes(value, &at).map(|scopes| changes.scopes = Some(scopes)),
            "headers" => validate_headers(value, &at).map(|headers| changes.headers = Some(headers)),
            "signature_algo" => enumeration(
                value,
                &at,
                &[("hmac", SignatureAlgo::Hmac), ("jwt", SignatureAlgo::Jwt), ("ed25519", SignatureAlgo::Ed25519)],
            )
            .map(|algo| changes.signature_algo = Some(algo)),
            "status" => {
                enumeration(value, &at, &[("enabled", WebhookStatus::Enabled), ("disabled", WebhookStatus::Disabled)])
                    .map(|status| changes.status = Some(status))
            }
            "retry_schedule" => validate_schedule(value, &at).map(|schedule| changes.retry_schedule = Some(schedule)),
            "timeout_seconds" => match value {
                Value::Null => {
                    changes.timeout_seconds = Some(None);
                    Ok(())
                }
                Value::Number(number)
                    if number.as_u64().is_some_and(|n| (1..=limits::TIMEOUT_SECONDS).contains(&n)) =>
                {
                    changes.timeout_seconds = Some(number.as_u64().map(|n| n as u32));
                    Ok(())
                }
                _ => Err(one(&at, "invalid_timeout", format!("whole seconds from 1 to {}", limits::TIMEOUT_SECONDS))),
            },
            "environment" => {
                let environments: Vec<(&str, Environment)> =
                    Environment::ALL.iter().map(|environment| (environment.as_str(), *environment)).collect();
                enumeration(value, &at, &environments).and_then(|environment| {
                    if environment == rules.environment {
                        Ok(())
                    } else {
                        Err(vec![Problem::at(
                            &at,
                            "environment_mismatch",
                            format!(
                                "this API key acts in {}; use a {} key to manage {} webhooks",
                                rules.environment.as_str(),
                                environment.as_str(),
                                environment.as_str()
                            ),
                        )])
                    }
                })
            }
            other if READ_ONLY.contains(&other) => Ok(()),
            other => Err(vec![Problem::at(
                &at,
                "unknown_attribute",
                format!("`{other}` is not an attribute of webhooks; writable: {}", WRITABLE.join(", ")),
            )]),
        };
        if let Err(found) = result {
            problems.extend(found);
        }
    }
    if problems.is_empty() { Ok(changes) } else { Err(Error::Invalid(problems)) }
}

type Found<T> = Result<T, Vec<Problem>>;

fn one(at: &str, code: &'static str, detail: impl Into<String>) -> Vec<Problem> {
    vec![Problem::at(at, code, detail)]
}

fn string(value: &Value, at: &str, max: usize, empty_ok: bool) -> Found<String> {
    let Value::String(text) = value else { return Err(one(at, "not_a_string", "must be a string")) };
    let length = text.chars().count();
    if length > max {
        return Err(one(at, "too_long", format!("must be at most {max} characters, not {length}")));
    }
    if !empty_ok && text.trim().is_empty() {
        return Err(one(at, "empty", "must not be empty"));
    }
    if text.chars().any(char::is_control) {
        return Err(one(at, "control_characters", "must not contain control characters"));
    }
    Ok(text.clone())
}

fn enumeration<T: Copy>(value: &Value, at: &str, allowed: &[(&str, T)]) -> Found<T> {
    let names: Vec<&str> = allowed.iter().map(|(name, _)| *name).collect();
    let Value::String(text) = value else {
        return Err(one(at, "not_a_string", format!("must be one of {}", names.join(", "))));
    };
    allowed
        .iter()
        .find(|(name, _)| name == text)
        .map(|(_, item)| *item)
        .ok_or_else(|| one(at, "invalid_value", format!("`{text}` is not one of {}", names.join(", "))))
}

fn validate_url(value: &Value, at: &str, rules: &Rules<'_>) -> Found<String> {
    let text = string(value, at, limits::URL, false)?;
    let parsed = url::Url::parse(&text).map_err(|error| one(at, "invalid_url", format!("not a URL: {error}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if rules.allow_http || rules.environment == Environment::Sandbox => {}
        "http" => {
            return Err(one(at, "https_required", "production webhooks need an https URL"));
        }
        other => return Err(one(at, "invalid_scheme", format!("the scheme must be https or http, not {other}"))),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(one(at, "invalid_url", "the URL needs a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(one(at, "credentials_in_url", "put credentials in `headers`, not in the URL"));
    }
    if parsed.fragment().is_some() {
        return Err(one(at, "invalid_url", "the URL must not have a fragment"));
    }
    Ok(text)
}

fn validate_schedule(value: &Value, at: &str) -> Found<Option<Vec<u32>>> {
    let invalid = || {
        one(
            at,
            "invalid_retry_schedule",
            format!(
                "null, or up to {} waits in seconds (1 to {}) after each failed try",
                crate::retry::MAX_STEPS,
                crate::retry::MAX_STEP_SECONDS
            ),
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::Array(items) => {
            let steps: Vec<u32> = items
                .iter()
                .map(|item| item.as_u64().and_then(|n| u32::try_from(n).ok()))
                .collect::<Option<_>>()
                .ok_or_else(invalid)?;
            crate::retry::validate_schedule(&steps).map_err(|_| invalid())?;
            Ok(Some(steps))
        }
        _ => Err(invalid()),
    }
}

fn validate_secret(value: &Value, at: &str) -> Found<String> {
    let text = string(value, at, 200, false)?;
    if text.starts_with("whsk_") {
        return if crate::signing::is_valid_key(SignatureAlgo::Ed25519, &text) {
            Ok(text)
        } else {
            Err(one(at, "invalid_secret", "an ed25519 key is whsk_ + base64 of its 32-byte seed"))
        };
    }
    let encoded =
        text.strip_prefix("whsec_").ok_or_else(|| one(at, "invalid_secret", "a secret starts with `whsec_`"))?;
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| one(at, "invalid_secret", "after `whsec_` a secret is standard base64"))?;
    if !limits::SECRET_BYTES.contains(&bytes.len()) {
        return Err(one(
            at,
            "invalid_secret",
            format!(
                "a secret holds {} to {} bytes, not {}",
                limits::SECRET_BYTES.start(),
                limits::SECRET_BYTES.end(),
                bytes.len()
            ),
        ));
    }
    Ok(text)
}

/// Whether `name` is a valid event type name: letters, digits, `.`, `_`, `-`, at most 128,
/// starting with a letter or digit.
pub fn is_event_type_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.chars().next().is_some_and(|first| first.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_filter_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 256
        && path
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
}

fn validate_events(value: &Value, at: &str, catalog: &BTreeSet<String>) -> Found<Vec<EventSubscription>> {
    let Value::Array(items) = value else { return Err(one(at, "not_an_array", "must be an array of event types")) };
    if items.is_empty() {
        return Err(one(at, "empty", "subscribe to at least one event type"));
    }
    if items.len() > limits::EVENTS {
        return Err(one(at, "too_many", format!("at most {} event types", limits::EVENTS)));
    }
    let mut problems = Vec::new();
    let mut subscriptions = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, item) in items.iter().enumerate() {
        let item_at = format!("{at}/{index}");
        let (event_type, type_at, filters) = match item {
            Value::String(name) => (name.clone(), item_at.clone(), Filters::new()),
            Value::Object(object) => {
                if let Some(unknown) = object.keys().find(|key| !matches!(key.as_str(), "event_type" | "filters")) {
                    problems.push(Problem::at(
                        format!("{item_at}/{unknown}"),
                        "unknown_attribute",
                        "a subscription has `event_type` and `filters`",
                    ));
                    continue;
                }
                let Some(Value::String(name)) = object.get("event_type") else {
                    problems.push(Problem::at(
                        format!("{item_at}/event_type"),
                        "required",
                        "`event_type` is a required string",
                    ));
                    continue;
                };
                let filters = match object.get("filters") {
                    None | Some(Value::Null) => Filters::new(),
                    Some(filters) => match validate_filters(filters, &format!("{item_at}/filters")) {
                        Ok(filters) => filters,
                        Err(found) => {
                            problems.extend(found);
                            continue;
                        }
                    },
                };
                (name.clone(), format!("{item_at}/event_type"), filters)
            }
            _ => {
                problems.push(Problem::at(
                    &item_at,
                    "invalid_subscription",
                    "an event type name, or {event_type, filters}",
                ));
                continue;
            }
        };
        if event_type != WILDCARD && !is_event_type_name(&event_type) {
            problems.push(Problem::at(
                &type_at,
                "invalid_event_type",
                "an event type is 1-128 letters, digits, `.`, `_` or `-`, or `*`",
            ));
        } else if event_type != WILDCARD && !catalog.contains(&event_type) {
            problems.push(Problem::at(
                &type_at,
                "unknown_event_type",
                format!("`{event_type}` is not in the event catalog; register it at /api/v3/notification/event_types"),
            ));
        } else if !seen.insert(event_type.clone()) {
            problems.push(Problem::at(&type_at, "duplicate_event_type", format!("`{event_type}` is listed twice")));
        } else {
            subscriptions.push(EventSubscription { event_type, filters });
        }
    }
    if problems.is_empty() { Ok(subscriptions) } else { Err(problems) }
}

fn validate_filters(value: &Value, at: &str) -> Found<Filters> {
    let Value::Object(object) = value else {
        return Err(one(at, "not_an_object", r#"filters map a payload path to its values: {"status": ["open"]}"#));
    };
    if object.len() > limits::FILTERS {
        return Err(one(at, "too_many", format!("at most {} filters", limits::FILTERS)));
    }
    let mut problems = Vec::new();
    let mut filters = Filters::new();
    for (path, values) in object {
        // JSON pointer escaping of the key (RFC 6901).
        let path_at = format!("{at}/{}", path.replace('~', "~0").replace('/', "~1"));
        if !is_filter_path(path) {
            problems.push(Problem::at(&path_at, "invalid_filter_path", "a dotted path of letters, digits, `_`, `-`"));
            continue;
        }
        match values {
            Value::Array(list) if list.is_empty() => {
                problems.push(Problem::at(&path_at, "empty", "a filter lists at least one value"))
            }
            Value::Array(list) if list.len() > limits::FILTER_VALUES => {
                problems.push(Problem::at(&path_at, "too_many", format!("at most {} values", limits::FILTER_VALUES)))
            }
            Value::Array(list) if list.iter().all(|item| !item.is_array() && !item.is_object()) => {
                filters.insert(path.clone(), list.clone());
            }
            _ => problems.push(Problem::at(
                &path_at,
                "invalid_filter_values",
                "an array of strings, numbers, booleans or null",
            )),
        }
    }
    if problems.is_empty() { Ok(filters) } else { Err(problems) }
}

fn validate_scopes(value: &Value, at: &str) -> Found<BTreeMap<String, String>> {
    let Value::Object(object) = value else {
        return Err(one(at, "not_an_object", r#"scopes map a key to a string: {"offering_id": "539b…"}"#));
    };
    if object.len() > limits::SCOPES {
        return Err(one(at, "too_many", format!("at most {} scopes", limits::SCOPES)));
    }
    let mut problems = Vec::new();
    let mut scopes = BTreeMap::new();
    for (key, value) in object {
        let key_at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
        if key.is_empty() || key.len() > 64 {
            problems.push(Problem::at(&key_at, "invalid_scope_key", "a scope key has 1 to 64 characters"));
            continue;
        }
        match string(value, &key_at, limits::VALUE, true) {
            Ok(text) => {
                scopes.insert(key.clone(), text);
            }
            Err(found) => problems.extend(found),
        }
    }
    if problems.is_empty() { Ok(scopes) } else { Err(problems) }
}

/// Whether Hookline refuses `name` as a custom header (it sets it itself, or it is hop-by-hop).
pub fn is_reserved_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("webhook-") || RESERVED_HEADERS.contains(&lower.as_str())
}

fn validate_headers(value: &Value, at: &str) -> Found<BTreeMap<String, String>> {
    let Value::Object(object) = value else {
        return Err(one(at, "not_an_object", r#"headers map a name to a string: {"Authorization": "key-12345"}"#));
    };
    if object.len() > limits::HEADERS {
        return Err(one(at, "too_many", format!("at most {} headers", limits::HEADERS)));
    }
    let mut problems = Vec::new();
    let mut headers = BTreeMap::new();
    let mut lower_names = BTreeSet::new();
    for (name, value) in object {
        let name_at = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            problems.push(Problem::at(&name_at, "invalid_header_name", "not a valid HTTP header name"));
            continue;
        }
        if is_reserved_header(name) {
            problems.push(Problem::at(
                &name_at,
                "reserved_header",
                "Hookline sets this header itself (webhook-*, content-type, content-length, host, user-agent) or it is hop-by-hop",
            ));
            continue;
        }
        if !lower_names.insert(name.to_ascii_lowercase()) {
            problems.push(Problem::at(
                &name_at,
                "duplicate_header",
                "header names are case-insensitive; this one is listed twice",
            ));
            continue;
        }
        let Value::String(text) = value else {
            problems.push(Problem::at(&name_at, "not_a_string", "a header value is a string"));
            continue;
        };
        if text.len() > limits::VALUE || http::HeaderValue::from_str(text).is_err() {
            problems.push(Problem::at(
                &name_at,
                "invalid_header_value",
                format!("a header value is visible ASCII, at most {} bytes", limits::VALUE),
            ));
            continue;
        }
        headers.insert(name.clone(), text.clone());
    }
    if problems.is_empty() { Ok(headers) } else { Err(problems) }
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
        retry_schedule: changes.retry_schedule.flatten(),
        timeout_seconds: changes.timeout_seconds.flatten(),
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
    if let Some(schedule) = &changes.retry_schedule {
        next.retry_schedule = schedule.clone();
    }
    if let Some(timeout) = changes.timeout_seconds {
        next.timeout_seconds = timeout;
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

fn audit_value(audit: &Audit) -> Value {
    json!({ "client_id": audit.client_id, "external_client_id": audit.external_client_id, "app": audit.app })
}

fn events_value(events: &[EventSubscription]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|subscription| {
                if subscription.filters.is_empty() {
                    Value::String(subscription.event_type.clone())
                } else {
                    json!({ "event_type": subscription.event_type, "filters": subscription.filters })
                }
            })
            .collect(),
    )
}

/// Every attribute of a webhook, with the secret in full (`reveal`) or masked.
pub fn attributes(webhook: &Webhook, reveal: bool) -> Map<String, Value> {
    let secret = if reveal { webhook.secret.clone() } else { mask_secret(&webhook.secret) };
    let value = json!({
        "id": webhook.id,
        "account_id": webhook.account_id,
        "name": webhook.name,
        "url": webhook.url,
        "secret": secret,
        "events": events_value(&webhook.events),
        "scopes": webhook.scopes,
        "headers": webhook.headers,
        "signature_algo": webhook.signature_algo,
        "public_key": match webhook.signature_algo {
            SignatureAlgo::Ed25519 => crate::signing::public_key(&webhook.secret).ok().map_or(Value::Null, Value::String),
            _ => Value::Null,
        },
        "retry_schedule": webhook.retry_schedule,
        "timeout_seconds": webhook.timeout_seconds,
        "environment": webhook.environment,
        "status": webhook.status,
        "disabled_reason": webhook.disabled_reason,
        "created_by": audit_value(&webhook.created_by),
        "updated_by": audit_value(&webhook.updated_by),
        "created_at": timestamp(webhook.created_at),
        "updated_at": timestamp(webhook.updated_at),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The path of a webhook.
pub fn self_link(id: u64) -> String {
    format!("/api/v3/notification/webhooks/{id}")
}

/// A webhook as a JSON:API resource object with the given (possibly sparse) attributes.
pub fn resource(id: u64, attributes: Map<String, Value>) -> Value {
    json!({ "type": TYPE, "id": id.to_string(), "attributes": attributes, "links": { "self": self_link(id) } })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(changes.retry_schedule, Some(Some(vec![1, 2, 3])));
        assert_eq!(changes.timeout_seconds, Some(Some(30)));
        assert_eq!(with(json!({"retry_schedule": null})).expect("reset").retry_schedule, Some(None));
        for bad in [json!({"retry_schedule": [0]}), json!({"retry_schedule": "fast"}), json!({"retry_schedule": [-1]})]
        {
            assert_eq!(problems(with(bad.clone()).expect_err("invalid"))[0].1, "invalid_retry_schedule", "{bad}");
        }
        for bad in [json!({"timeout_seconds": 31}), json!({"timeout_seconds": 0}), json!({"timeout_seconds": 1.5})] {
            assert_eq!(problems(with(bad.clone()).expect_err("invalid"))[0].1, "invalid_timeout", "{bad}");
        }
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
