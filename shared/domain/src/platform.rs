//! The platform's rules: what makes a valid account, key or portal session request, and how
//! each renders. Every refusal points at its field.

use crate::documents::{
    AccountAttributes, AccountInputAttributes, AccountInputDocument, AccountResource, BrandingDocument, KeyAttributes,
    KeyInputDocument, KeyResource, PortalSessionRequest, SelfLink, SessionAccount, SessionAttributes, SessionDocument,
    SessionResource, read,
};
use crate::error::{Error, Problem};
use crate::model::{Account, ApiKey, Branding, Environment, KeyKind, Theme, valid_uid};
use crate::webhooks::timestamp;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// The longest account name.
pub const MAX_NAME: usize = 256;
/// The most metadata keys.
pub const MAX_METADATA_KEYS: usize = 50;
/// The longest metadata key or value.
pub const MAX_METADATA_TEXT: usize = 512;
/// The longest key label.
pub const MAX_LABEL: usize = 128;
/// A portal session's default lifetime, in seconds.
pub const SESSION_DEFAULT_SECONDS: i64 = 3600;
/// A portal session's shortest and longest lifetimes, in seconds.
pub const SESSION_SECONDS: std::ops::RangeInclusive<i64> = 60..=86_400;

fn shape(pointer: &str) -> Problem {
    // The attribute a pointer is in: after `attributes`, else (a plain request) its first
    // segment; `/data/type` is the type.
    let mut segments = pointer.split('/').skip(1);
    let field = if pointer == "/data/type" {
        "type"
    } else if pointer.starts_with("/data/attributes/") {
        segments.nth(2).unwrap_or_default()
    } else {
        segments.next().unwrap_or_default()
    };
    let code = match field {
        "uid" => "invalid_uid",
        "name" => "invalid_name",
        "metadata" => "invalid_metadata",
        "environment" => "invalid_environment",
        "label" => "invalid_label",
        "expires_at" => "invalid_expires_at",
        "expires_in" => "invalid_expires_in",
        "read_only" => "invalid_read_only",
        "branding" => "invalid_branding",
        "type" => "invalid_type",
        _ => "invalid_document",
    };
    Problem::at(if pointer.is_empty() { "/" } else { pointer }, code, "")
}

fn check_type(kind: &str, expected: &str) -> Result<(), Error> {
    if kind != expected {
        return Err(Error::invalid("/data/type", "invalid_type", format!("the type is `{expected}`")));
    }
    Ok(())
}

/// What a new account asks for; the uid is the id when absent.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Its uid, if the platform chose one.
    pub uid: Option<String>,
    /// Its name.
    pub name: String,
    /// Its metadata.
    pub metadata: BTreeMap<String, String>,
}

fn check_account(attributes: &AccountInputAttributes) -> Result<(), Error> {
    let mut problems = Vec::new();
    if let Some(uid) = &attributes.uid
        && !valid_uid(uid)
    {
        problems.push(Problem::at(
            "/data/attributes/uid",
            "invalid_uid",
            "1 to 128 characters of letters, digits, `.`, `_`, `:` and `-`",
        ));
    }
    if let Some(name) = &attributes.name
        && (name.trim().is_empty() || name.chars().count() > MAX_NAME)
    {
        problems.push(Problem::at("/data/attributes/name", "invalid_name", format!("1 to {MAX_NAME} characters")));
    }
    if let Some(metadata) = &attributes.metadata {
        if metadata.len() > MAX_METADATA_KEYS {
            problems.push(Problem::at(
                "/data/attributes/metadata",
                "invalid_metadata",
                format!("at most {MAX_METADATA_KEYS} keys"),
            ));
        }
        for (key, value) in metadata {
            if key.is_empty() || key.len() > MAX_METADATA_TEXT || value.len() > MAX_METADATA_TEXT {
                problems.push(Problem::at(
                    format!("/data/attributes/metadata/{}", crate::documents::escape(key)),
                    "invalid_metadata",
                    format!("keys of 1 to {MAX_METADATA_TEXT} bytes, values of at most {MAX_METADATA_TEXT}"),
                ));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(Error::Invalid(problems)) }
}

/// Reads a create-account document.
pub fn parse_account_create(document: &Value) -> Result<NewAccount, Error> {
    let input: AccountInputDocument = read(document, shape)?;
    check_type(&input.data.kind, "accounts")?;
    let attributes = input.data.attributes;
    check_account(&attributes)?;
    let name =
        attributes.name.ok_or_else(|| Error::invalid("/data/attributes/name", "required", "an account has a name"))?;
    Ok(NewAccount { uid: attributes.uid, name, metadata: attributes.metadata.unwrap_or_default() })
}

/// Applies a patch document to `account`: name and metadata change; the uid cannot.
pub fn parse_account_patch(document: &Value, account: &Account, now: DateTime<Utc>) -> Result<Account, Error> {
    let input: AccountInputDocument = read(document, shape)?;
    check_type(&input.data.kind, "accounts")?;
    let attributes = input.data.attributes;
    check_account(&attributes)?;
    if attributes.uid.as_ref().is_some_and(|uid| *uid != account.uid()) {
        return Err(Error::invalid("/data/attributes/uid", "immutable", "an account's uid cannot change"));
    }
    let mut changed = account.clone();
    if let Some(name) = attributes.name {
        changed.name = name;
    }
    if let Some(metadata) = attributes.metadata {
        changed.metadata = metadata;
    }
    changed.updated_at = Some(now);
    Ok(changed)
}

/// An account as a resource.
pub fn account_resource(account: &Account) -> AccountResource {
    let uid = account.uid();
    AccountResource {
        kind: "accounts".into(),
        links: SelfLink { self_: format!("/api/v3/accounts/{uid}") },
        attributes: AccountAttributes {
            uid: uid.clone(),
            account_id: account.id,
            name: account.name.clone(),
            metadata: account.metadata.clone(),
            created_at: timestamp(account.created_at),
            updated_at: account.updated_at.map(timestamp),
        },
        id: uid,
    }
}

/// What a new key asks for.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    /// Its environment.
    pub environment: Environment,
    /// Its label.
    pub label: String,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

fn environment(value: Option<&str>, pointer: &str) -> Result<Environment, Error> {
    match value {
        None => Ok(Environment::Production),
        Some(text) => Environment::parse(text)
            .ok_or_else(|| Error::invalid(pointer, "invalid_environment", "production or sandbox")),
    }
}

/// Reads a create-key document of resource type `kind` (`api_keys`, `operator_keys`).
pub fn parse_key_create(document: &Value, kind: &str, now: DateTime<Utc>) -> Result<KeyRequest, Error> {
    let input: KeyInputDocument = read(document, shape)?;
    check_type(&input.data.kind, kind)?;
    let attributes = input.data.attributes;
    let environment = environment(attributes.environment.as_deref(), "/data/attributes/environment")?;
    let label = attributes.label.unwrap_or_default();
    if label.chars().count() > MAX_LABEL {
        return Err(Error::invalid(
            "/data/attributes/label",
            "invalid_label",
            format!("at most {MAX_LABEL} characters"),
        ));
    }
    let expires_at = match attributes.expires_at {
        None => None,
        Some(text) => {
            let at = DateTime::parse_from_rfc3339(&text)
                .map_err(|_| Error::invalid("/data/attributes/expires_at", "invalid_expires_at", "an RFC 3339 time"))?
                .with_timezone(&Utc);
            if at <= now {
                return Err(Error::invalid("/data/attributes/expires_at", "in_the_past", "a time in the future"));
            }
            Some(at)
        }
    };
    Ok(KeyRequest { environment, label, expires_at })
}

/// A key as a resource of type `kind`, under `path` (its collection); with the key in full
/// only when just created.
pub fn key_resource(key: &ApiKey, kind: &str, path: &str, plaintext: Option<&str>) -> KeyResource {
    KeyResource {
        kind: kind.into(),
        id: key.id.clone(),
        links: SelfLink { self_: format!("{path}/{}", key.id) },
        attributes: KeyAttributes {
            prefix: key.prefix.clone(),
            label: key.label.clone(),
            environment: key.environment.as_str().into(),
            created_at: timestamp(key.created_at),
            expires_at: key.expires_at.map(timestamp),
            key: plaintext.map(str::to_string),
        },
    }
}

/// What a new portal session asks for.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    /// Its environment.
    pub environment: Environment,
    /// Whether it may only read.
    pub read_only: bool,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// How the portal looks for it.
    pub branding: Option<Branding>,
}

/// The longest logo URL of a portal session.
pub const MAX_LOGO_URL: usize = 2048;

/// Reads a portal session's branding: a `#rrggbb` colour, an https logo URL, a theme.
fn branding(document: Option<BrandingDocument>) -> Result<Option<Branding>, Error> {
    let Some(document) = document else { return Ok(None) };
    let color = document.color.filter(|color| !color.is_empty());
    if let Some(color) = &color {
        let hex = color.strip_prefix('#').unwrap_or_default();
        if hex.len() != 6 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(Error::invalid("/branding/color", "invalid_branding", "a colour as #rrggbb"));
        }
    }
    let logo_url = document.logo_url.filter(|url| !url.is_empty());
    if let Some(logo) = &logo_url {
        let https = url::Url::parse(logo).is_ok_and(|url| url.scheme() == "https" && url.host().is_some());
        if !https || logo.len() > MAX_LOGO_URL {
            let detail = format!("an https URL of at most {MAX_LOGO_URL} characters");
            return Err(Error::invalid("/branding/logo_url", "invalid_branding", detail));
        }
    }
    let theme = match document.theme.as_deref() {
        None => None,
        Some("light") => Some(Theme::Light),
        Some("dark") => Some(Theme::Dark),
        Some(_) => return Err(Error::invalid("/branding/theme", "invalid_branding", "light or dark")),
    };
    Ok(Some(Branding { color, logo_url, theme }))
}

/// A key's branding as the API shows it: every member, null when not set.
pub fn branding_document(branding: Option<&Branding>) -> BrandingDocument {
    let branding = branding.cloned().unwrap_or_default();
    BrandingDocument {
        color: branding.color,
        logo_url: branding.logo_url,
        theme: branding.theme.map(|theme| theme.as_str().to_string()),
    }
}

/// The caller's own key as the portal shows it, with the account it acts for.
pub fn session_document(key: &ApiKey, account: &Account) -> SessionDocument {
    let kind = match key.kind {
        KeyKind::Account => "account_key",
        KeyKind::PortalSession => "portal_session",
        KeyKind::Operator => "operator",
    };
    SessionDocument {
        data: SessionResource {
            kind: "sessions".into(),
            id: key.id.clone(),
            attributes: SessionAttributes {
                kind: kind.into(),
                account: SessionAccount { uid: account.uid(), name: account.name.clone() },
                environment: key.environment.as_str().into(),
                read_only: key.read_only,
                expires_at: key.expires_at.map(timestamp),
                branding: branding_document(key.branding.as_ref()),
            },
        },
    }
}

/// Reads a portal session request.
pub fn parse_portal_session(document: &Value, now: DateTime<Utc>) -> Result<SessionRequest, Error> {
    let request: PortalSessionRequest = read(document, |pointer| {
        let mut problem = shape(pointer);
        problem.source = Some(crate::error::Source::Pointer(pointer.to_string()));
        problem
    })?;
    let seconds = request.expires_in.unwrap_or(SESSION_DEFAULT_SECONDS);
    if !SESSION_SECONDS.contains(&seconds) {
        return Err(Error::invalid(
            "/expires_in",
            "invalid_expires_in",
            format!("{} to {} seconds", SESSION_SECONDS.start(), SESSION_SECONDS.end()),
        ));
    }
    Ok(SessionRequest {
        environment: environment(request.environment.as_deref(), "/environment")?,
        read_only: request.read_only.unwrap_or(false),
        expires_at: now + Duration::seconds(seconds),
        branding: branding(request.branding)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointer(error: Error) -> (String, &'static str) {
        match error {
            Error::Invalid(problems) => match &problems[0].source {
                Some(crate::error::Source::Pointer(pointer)) => (pointer.clone(), problems[0].code),
                other => panic!("a pointer: {other:?}"),
            },
            other => panic!("a 422: {other:?}"),
        }
    }

    fn account(attributes: Value) -> Value {
        json!({ "data": { "type": "accounts", "attributes": attributes } })
    }

    #[test]
    fn when_account_document_is_valid_should_read_it() {
        let new = parse_account_create(&account(json!({"uid": "cus_1", "name": "Acme", "metadata": {"plan": "pro"}})))
            .expect("valid");
        assert_eq!(
            (new.uid.as_deref(), new.name.as_str(), new.metadata["plan"].as_str()),
            (Some("cus_1"), "Acme", "pro")
        );
    }

    #[test]
    fn when_account_document_is_bad_should_point_at_the_field() {
        let cases = [
            (account(json!({"uid": "has space", "name": "x"})), "/data/attributes/uid", "invalid_uid"),
            (account(json!({"uid": "x".repeat(129), "name": "x"})), "/data/attributes/uid", "invalid_uid"),
            (account(json!({"uid": "ok"})), "/data/attributes/name", "required"),
            (account(json!({"name": ""})), "/data/attributes/name", "invalid_name"),
            (account(json!({"name": "x", "metadata": {"n": 1}})), "/data/attributes/metadata/n", "invalid_metadata"),
            (account(json!({"name": 5})), "/data/attributes/name", "invalid_name"),
            (json!({"data": {"type": "webhooks", "attributes": {"name": "x"}}}), "/data/type", "invalid_type"),
        ];
        for (document, expected_pointer, expected_code) in cases {
            let error = parse_account_create(&document).expect_err("refused");
            assert_eq!(pointer(error), (expected_pointer.to_string(), expected_code), "{document}");
        }
        let unknown =
            parse_account_create(&account(json!({"name": "x", "colour": "red"}))).expect_err("unknown member");
        assert_eq!(unknown.status(), 422);
    }

    #[test]
    fn when_patch_changes_the_uid_should_refuse() {
        let existing = Account {
            id: 3,
            uid: "cus_3".into(),
            name: "A".into(),
            metadata: BTreeMap::new(),
            created_at: Utc::now(),
            updated_at: None,
        };
        let error = parse_account_patch(&account(json!({"uid": "other"})), &existing, Utc::now()).expect_err("refused");
        assert_eq!(pointer(error).1, "immutable");
        let renamed = parse_account_patch(&account(json!({"uid": "cus_3", "name": "B"})), &existing, Utc::now())
            .expect("same uid");
        assert_eq!((renamed.name.as_str(), renamed.uid.as_str()), ("B", "cus_3"));
    }

    #[test]
    fn when_key_expiry_is_past_or_garbage_should_refuse() {
        let now = Utc::now();
        let key = |attributes: Value| json!({"data": {"type": "api_keys", "attributes": attributes}});
        let past = parse_key_create(&key(json!({"expires_at": "2001-01-01T00:00:00Z"})), "api_keys", now);
        assert_eq!(pointer(past.expect_err("past")).1, "in_the_past");
        let garbage = parse_key_create(&key(json!({"expires_at": "soon"})), "api_keys", now);
        assert_eq!(pointer(garbage.expect_err("garbage")).1, "invalid_expires_at");
        let environment = parse_key_create(&key(json!({"environment": "staging"})), "api_keys", now);
        assert_eq!(pointer(environment.expect_err("environment")).0, "/data/attributes/environment");
        let fine =
            parse_key_create(&key(json!({"environment": "sandbox", "label": "ci"})), "api_keys", now).expect("ok");
        assert_eq!((fine.environment, fine.label.as_str(), fine.expires_at), (Environment::Sandbox, "ci", None));
    }

    #[test]
    fn when_session_lifetime_is_out_of_range_should_refuse() {
        let now = Utc::now();
        for seconds in [0, 59, 86_401, -5] {
            let error = parse_portal_session(&json!({"expires_in": seconds}), now).expect_err("out of range");
            assert_eq!(pointer(error), ("/expires_in".to_string(), "invalid_expires_in"), "{seconds}");
        }
        let default = parse_portal_session(&json!({}), now).expect("defaults");
        assert_eq!(default.branding, None);
        assert_eq!((default.expires_at - now).num_seconds(), 3600);
        assert!(!default.read_only);
    }

    #[test]
    fn when_session_branding_is_malformed_should_point_at_the_member() {
        let now = Utc::now();
        for (branding, member) in [
            (json!({"color": "blue"}), "/branding/color"),
            (json!({"color": "#12345g"}), "/branding/color"),
            (json!({"logo_url": "http://example.com/logo.png"}), "/branding/logo_url"),
            (json!({"logo_url": "javascript:alert(1)"}), "/branding/logo_url"),
            (json!({"theme": "sepia"}), "/branding/theme"),
        ] {
            let error = parse_portal_session(&json!({"branding": branding}), now).expect_err("malformed");
            assert_eq!(pointer(error), (member.to_string(), "invalid_branding"), "{branding}");
        }
        let error = parse_portal_session(&json!({"branding": {"font": "x"}}), now).expect_err("unknown member");
        assert_eq!(pointer(error).1, "invalid_branding");
    }

    #[test]
    fn when_session_branding_is_given_should_keep_it() {
        let request =
            json!({"branding": {"color": "#0B5FFF", "logo_url": "https://cdn.example.com/l.svg", "theme": "dark"}});
        let session = parse_portal_session(&request, Utc::now()).expect("branded");
        let expected = Branding {
            color: Some("#0B5FFF".into()),
            logo_url: Some("https://cdn.example.com/l.svg".into()),
            theme: Some(Theme::Dark),
        };
        assert_eq!(session.branding, Some(expected));
    }
}
