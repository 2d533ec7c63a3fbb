//! Reading and validating webhook create and patch documents: serde reads the shape (a value
//! of the wrong JSON type is refused at its pointer), then every rule is checked and every
//! problem reported, each at its pointer.

use super::subscriptions::validate_events;
use super::{Rules, TYPE, WebhookChanges, limits};
use crate::documents::{self, WebhookInputAttributes, WebhookInputDocument, escape};
use crate::error::{Error, Problem};
use crate::model::{Environment, Ordering, SignatureAlgo, WebhookStatus};
use crate::patch::Patch;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

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
    "rate_limit",
    "transformation",
    "ordering",
];
/// Attributes the server owns: accepted in a document (seed 003 lists them on create) and ignored.
const READ_ONLY: &[&str] =
    &["id", "account_id", "created_at", "updated_at", "created_by", "updated_by", "disabled_reason", "public_key"];

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

const SIGNATURE_ALGOS: &[(&str, SignatureAlgo)] =
    &[("hmac", SignatureAlgo::Hmac), ("jwt", SignatureAlgo::Jwt), ("ed25519", SignatureAlgo::Ed25519)];
const ORDERINGS: &[(&str, Ordering)] = &[("none", Ordering::None), ("fifo", Ordering::Fifo)];
const STATUSES: &[(&str, WebhookStatus)] =
    &[("enabled", WebhookStatus::Enabled), ("disabled", WebhookStatus::Disabled)];

fn pointer(name: &str) -> String {
    format!("/data/attributes/{name}")
}

fn names<T>(allowed: &[(&str, T)]) -> String {
    allowed.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

/// The problem of a value of the wrong JSON type (or null where a value is needed) at `at`.
fn shape(at: &str) -> Problem {
    let Some(rest) = at.strip_prefix("/data/attributes/") else {
        return match at {
            "" | "/data" => Problem::at("/data", "missing_data", "the document needs a `data` object"),
            "/data/type" => Problem::at("/data/type", "missing_type", format!("`data.type` must be \"{TYPE}\"")),
            _ => Problem::at("/data/attributes", "missing_attributes", "`data.attributes` must be an object"),
        };
    };
    let (name, member) = rest.split_once('/').map_or((rest, None), |(name, member)| (name, Some(member)));
    let (attribute, item) = (pointer(name), at);
    match (name, member) {
        ("events", None) => Problem::at(attribute, "not_an_array", "must be an array of event types"),
        ("events", Some(_)) => {
            Problem::at(item, "invalid_subscription", "an event type name, or {event_type, filters}")
        }
        ("scopes", None) => {
            Problem::at(attribute, "not_an_object", r#"scopes map a key to a string: {"offering_id": "539b…"}"#)
        }
        ("headers", None) => {
            Problem::at(attribute, "not_an_object", r#"headers map a name to a string: {"Authorization": "key-12345"}"#)
        }
        ("headers", Some(_)) => Problem::at(item, "not_a_string", "a header value is a string"),
        ("signature_algo", _) => {
            Problem::at(attribute, "not_a_string", format!("must be one of {}", names(SIGNATURE_ALGOS)))
        }
        ("status", _) => Problem::at(attribute, "not_a_string", format!("must be one of {}", names(STATUSES))),
        ("ordering", _) => Problem::at(attribute, "not_a_string", format!("must be one of {}", names(ORDERINGS))),
        ("environment", _) => Problem::at(attribute, "not_a_string", "must be one of production, sandbox"),
        ("retry_schedule", _) => schedule_problem(&attribute),
        ("timeout_seconds", _) => timeout_problem(&attribute),
        ("rate_limit", _) => rate_problem(&attribute),
        ("transformation", _) => transformation_problem(&attribute),
        _ => Problem::at(item, "not_a_string", "must be a string"),
    }
}

fn schedule_problem(at: &str) -> Problem {
    Problem::at(
        at,
        "invalid_retry_schedule",
        format!(
            "null, or up to {} waits in seconds (1 to {}) after each failed try",
            crate::retry::MAX_STEPS,
            crate::retry::MAX_STEP_SECONDS
        ),
    )
}

fn rate_problem(at: &str) -> Problem {
    Problem::at(
        at,
        "invalid_rate_limit",
        format!("deliveries a second, a whole number from 1 to {}", limits::RATE_LIMIT),
    )
}

fn transformation_problem(at: &str) -> Problem {
    Problem::at(
        at,
        "invalid_transformation",
        format!("null, or a jq program of 1 to {} bytes", crate::transformations::MAX_PROGRAM_BYTES),
    )
}

fn timeout_problem(at: &str) -> Problem {
    Problem::at(at, "invalid_timeout", format!("whole seconds from 1 to {}", limits::TIMEOUT_SECONDS))
}

/// Reads a create (`id = None`) or patch document for `TYPE`, returning its attributes.
fn attributes_of(document: &Value, id: Option<u64>) -> Result<WebhookInputAttributes, Error> {
    let input: WebhookInputDocument = documents::read(document, shape)?;
    let data = input.data.ok_or_else(|| Error::Invalid(vec![shape("/data")]))?;
    match data.kind {
        Some(kind) if kind == TYPE => {}
        Some(kind) => {
            return Err(Error::DocumentConflict(Problem::at(
                "/data/type",
                "wrong_type",
                format!("this endpoint takes `{TYPE}`, not `{kind}`"),
            )));
        }
        None => return Err(Error::Invalid(vec![shape("/data/type")])),
    }
    if let (Some(expected), Some(given)) = (id, &data.id) {
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
    match data.attributes {
        Patch::Value(attributes) => Ok(attributes),
        Patch::Absent if id.is_some() => Ok(WebhookInputAttributes::default()),
        Patch::Absent | Patch::Null => Err(Error::Invalid(vec![shape("/data/attributes")])),
    }
}

/// Reads and validates a create document: `url` and `events` are required.
pub fn parse_create(document: &Value, rules: &Rules<'_>) -> Result<WebhookChanges, Error> {
    let attributes = attributes_of(document, None)?;
    let changes = validate(attributes, rules)?;
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
    validate(attributes_of(document, Some(id))?, rules)
}

/// Checks one attribute that must not be null when given: `None` when absent.
fn given<T, U>(field: Patch<T>, name: &str, check: impl FnOnce(T, &str) -> Found<U>) -> Found<Option<U>> {
    let at = pointer(name);
    match field {
        Patch::Absent => Ok(None),
        Patch::Null => Err(vec![shape(&at)]),
        Patch::Value(value) => check(value, &at).map(Some),
    }
}

/// Checks one attribute that null resets: `Patch::Null` passes through.
fn resettable<T, U>(field: Patch<T>, name: &str, check: impl FnOnce(T, &str) -> Found<U>) -> Found<Patch<U>> {
    match field {
        Patch::Absent => Ok(Patch::Absent),
        Patch::Null => Ok(Patch::Null),
        Patch::Value(value) => check(value, &pointer(name)).map(Patch::Value),
    }
}

fn validate(attributes: WebhookInputAttributes, rules: &Rules<'_>) -> Result<WebhookChanges, Error> {
    let mut problems = Vec::new();
    let changes = WebhookChanges {
        name: keep(&mut problems, given(attributes.name, "name", |name, at| string(&name, at, limits::NAME, true)))
            .flatten(),
        url: keep(&mut problems, given(attributes.url, "url", |url, at| validate_url(&url, at, rules))).flatten(),
        secret: keep(&mut problems, given(attributes.secret, "secret", |secret, at| validate_secret(&secret, at)))
            .flatten(),
        events: keep(
            &mut problems,
            given(attributes.events, "events", |events, at| validate_events(events, at, rules.catalog)),
        )
        .flatten(),
        scopes: keep(&mut problems, given(attributes.scopes, "scopes", validate_scopes)).flatten(),
        headers: keep(&mut problems, given(attributes.headers, "headers", validate_headers)).flatten(),
        signature_algo: keep(
            &mut problems,
            given(attributes.signature_algo, "signature_algo", |algo, at| enumeration(&algo, at, SIGNATURE_ALGOS)),
        )
        .flatten(),
        status: keep(
            &mut problems,
            given(attributes.status, "status", |status, at| enumeration(&status, at, STATUSES)),
        )
        .flatten(),
        retry_schedule: keep(&mut problems, resettable(attributes.retry_schedule, "retry_schedule", validate_schedule))
            .unwrap_or_default(),
        timeout_seconds: keep(
            &mut problems,
            resettable(attributes.timeout_seconds, "timeout_seconds", |seconds, at| {
                if (1..=limits::TIMEOUT_SECONDS).contains(&u64::from(seconds)) {
                    Ok(seconds)
                } else {
                    Err(vec![timeout_problem(at)])
                }
            }),
        )
        .unwrap_or_default(),
        rate_limit: keep(
            &mut problems,
            resettable(attributes.rate_limit, "rate_limit", |rate, at| {
                if (1..=limits::RATE_LIMIT).contains(&rate) { Ok(rate) } else { Err(vec![rate_problem(at)]) }
            }),
        )
        .unwrap_or_default(),
        ordering: keep(
            &mut problems,
            given(attributes.ordering, "ordering", |ordering, at| enumeration(&ordering, at, ORDERINGS)),
        )
        .flatten(),
        transformation: keep(
            &mut problems,
            resettable(attributes.transformation, "transformation", |program, at| {
                if program.trim().is_empty() || program.len() > crate::transformations::MAX_PROGRAM_BYTES {
                    Err(vec![transformation_problem(at)])
                } else {
                    Ok(program)
                }
            }),
        )
        .unwrap_or_default(),
    };
    keep(
        &mut problems,
        given(attributes.environment, "environment", |environment, at| {
            let environments: Vec<(&str, Environment)> =
                Environment::ALL.iter().map(|environment| (environment.as_str(), *environment)).collect();
            let environment = enumeration(&environment, at, &environments)?;
            if environment == rules.environment {
                Ok(())
            } else {
                Err(one(
                    at,
                    "environment_mismatch",
                    format!(
                        "this API key acts in {}; use a {} key to manage {} webhooks",
                        rules.environment.as_str(),
                        environment.as_str(),
                        environment.as_str()
                    ),
                ))
            }
        }),
    );
    for other in attributes.other.keys().filter(|other| !READ_ONLY.contains(&other.as_str())) {
        problems.push(Problem::at(
            pointer(other),
            "unknown_attribute",
            format!("`{other}` is not an attribute of webhooks; writable: {}", WRITABLE.join(", ")),
        ));
    }
    if problems.is_empty() { Ok(changes) } else { Err(Error::Invalid(problems)) }
}

pub(super) type Found<T> = Result<T, Vec<Problem>>;

/// The value of `found`, or `None` with its problems added to `problems`.
fn keep<T>(problems: &mut Vec<Problem>, found: Found<T>) -> Option<T> {
    found.map_err(|found| problems.extend(found)).ok()
}

pub(super) fn one(at: &str, code: &'static str, detail: impl Into<String>) -> Vec<Problem> {
    vec![Problem::at(at, code, detail)]
}

fn string(text: &str, at: &str, max: usize, empty_ok: bool) -> Found<String> {
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
    Ok(text.to_string())
}

fn enumeration<T: Copy>(text: &str, at: &str, allowed: &[(&str, T)]) -> Found<T> {
    allowed
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, item)| *item)
        .ok_or_else(|| one(at, "invalid_value", format!("`{text}` is not one of {}", names(allowed))))
}

fn validate_url(value: &str, at: &str, rules: &Rules<'_>) -> Found<String> {
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

fn validate_schedule(steps: Vec<u32>, at: &str) -> Found<Vec<u32>> {
    crate::retry::validate_schedule(&steps).map_err(|_| vec![schedule_problem(at)])?;
    Ok(steps)
}

fn validate_secret(value: &str, at: &str) -> Found<String> {
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

fn validate_scopes(scopes: BTreeMap<String, String>, at: &str) -> Found<BTreeMap<String, String>> {
    if scopes.len() > limits::SCOPES {
        return Err(one(at, "too_many", format!("at most {} scopes", limits::SCOPES)));
    }
    let mut problems = Vec::new();
    for (key, value) in &scopes {
        let key_at = format!("{at}/{}", escape(key));
        if key.is_empty() || key.len() > 64 {
            problems.push(Problem::at(&key_at, "invalid_scope_key", "a scope key has 1 to 64 characters"));
        } else if let Err(found) = string(value, &key_at, limits::VALUE, true) {
            problems.extend(found);
        }
    }
    if problems.is_empty() { Ok(scopes) } else { Err(problems) }
}

/// Whether Hookline refuses `name` as a custom header (it sets it itself, or it is hop-by-hop).
pub fn is_reserved_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("webhook-") || RESERVED_HEADERS.contains(&lower.as_str())
}

pub(crate) fn validate_headers(headers: BTreeMap<String, String>, at: &str) -> Found<BTreeMap<String, String>> {
    if headers.len() > limits::HEADERS {
        return Err(one(at, "too_many", format!("at most {} headers", limits::HEADERS)));
    }
    let mut problems = Vec::new();
    let mut lower_names = BTreeSet::new();
    for (name, text) in &headers {
        let name_at = format!("{at}/{}", escape(name));
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            problems.push(Problem::at(&name_at, "invalid_header_name", "not a valid HTTP header name"));
        } else if is_reserved_header(name) {
            problems.push(Problem::at(
                &name_at,
                "reserved_header",
                "Hookline sets this header itself (webhook-*, content-type, content-length, host, user-agent) or it is hop-by-hop",
            ));
        } else if !lower_names.insert(name.to_ascii_lowercase()) {
            problems.push(Problem::at(
                &name_at,
                "duplicate_header",
                "header names are case-insensitive; this one is listed twice",
            ));
        } else if text.len() > limits::VALUE || http::HeaderValue::from_str(text).is_err() {
            problems.push(Problem::at(
                &name_at,
                "invalid_header_value",
                format!("a header value is visible ASCII, at most {} bytes", limits::VALUE),
            ));
        }
    }
    if problems.is_empty() { Ok(headers) } else { Err(problems) }
}
