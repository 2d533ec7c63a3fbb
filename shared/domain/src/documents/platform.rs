//! The platform's documents: accounts, keys (of accounts and operators), portal sessions.
//! Inputs refuse unknown members, so a typo is a 422 with its pointer, not a silent drop.

use super::{NextLink, SelfLink};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A new account, or the changes to one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInputAttributes {
    /// The platform's id for the customer: 1-128 of `[A-Za-z0-9._:-]`, unique; the account's
    /// id when left out. Cannot change.
    #[serde(default)]
    pub uid: Option<String>,
    /// A display name, at most 256 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Notes of the platform: string values, at most 50 keys.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// `POST /api/v3/accounts`, `PATCH /api/v3/accounts/{uid}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInputDocument {
    /// The resource.
    pub data: AccountInput,
}

/// The `data` of a AccountInput document.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    /// `accounts`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its attributes.
    #[serde(default)]
    pub attributes: AccountInputAttributes,
}

/// An account as the platform sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountAttributes {
    /// The platform's id for the customer.
    pub uid: String,
    /// Hookline's id (seed 003's `account_id`).
    pub account_id: u64,
    /// A display name.
    pub name: String,
    /// The platform's notes.
    pub metadata: BTreeMap<String, String>,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: Option<String>,
}

/// An account resource (its id is its uid).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountResource {
    /// `accounts`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its uid.
    pub id: String,
    /// Its attributes.
    pub attributes: AccountAttributes,
    /// `self`.
    pub links: SelfLink,
}

/// One account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountDocument {
    /// The account.
    pub data: AccountResource,
}

/// A page of accounts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountListDocument {
    /// Accounts by id.
    pub data: Vec<AccountResource>,
    /// `next`.
    pub links: NextLink,
}

/// A new key.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInputAttributes {
    /// `production` (the default) or `sandbox`.
    #[serde(default)]
    pub environment: Option<String>,
    /// What the key is for, at most 128 characters; the audit's `app` when a request names none.
    #[serde(default)]
    pub label: Option<String>,
    /// When it stops working (RFC 3339, in the future); never when left out.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// `POST /api/v3/accounts/{uid}/api_keys`, `POST /api/v3/operator_keys`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInputDocument {
    /// The resource.
    pub data: KeyInput,
}

/// The `data` of a KeyInput document.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    /// `api_keys` or `operator_keys`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its attributes.
    #[serde(default)]
    pub attributes: KeyInputAttributes,
}

/// A key as listed: never the key itself, which is not stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyAttributes {
    /// The key's first characters.
    pub prefix: String,
    /// Its label.
    pub label: String,
    /// Its environment.
    pub environment: String,
    /// When it was created.
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// The key in full: only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A key resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyResource {
    /// `api_keys` or `operator_keys`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The key's id (`key_…`).
    pub id: String,
    /// Its attributes.
    pub attributes: KeyAttributes,
    /// `self`.
    pub links: SelfLink,
}

/// One key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyDocument {
    /// The key.
    pub data: KeyResource,
}

/// Keys, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyListDocument {
    /// The keys.
    pub data: Vec<KeyResource>,
}

/// `POST /api/v3/accounts/{uid}/portal_sessions`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalSessionRequest {
    /// `production` (the default) or `sandbox`.
    #[serde(default)]
    pub environment: Option<String>,
    /// Whether the session may only read (default false).
    #[serde(default)]
    pub read_only: Option<bool>,
    /// Seconds until it expires: default 3600, 60 to 86400.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// How the portal looks for this session.
    #[serde(default)]
    pub branding: Option<BrandingDocument>,
}

/// A portal session's look: each member null when not set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingDocument {
    /// The brand colour, `#rrggbb`.
    #[serde(default)]
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: Option<String>,
    /// An https URL of the logo, at most 2048 characters.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// `light` or `dark`; the user's preference when null.
    #[serde(default)]
    pub theme: Option<String>,
}

/// A new portal session: its token, shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortalSession {
    /// The session's id, to revoke it.
    pub id: String,
    /// The bearer token (`hlps_…`) of the account's routes.
    pub token: String,
    /// The portal, with the token in the fragment (never sent to a server).
    pub url: String,
    /// When it stops working.
    pub expires_at: String,
    /// Whether it may only read.
    pub read_only: bool,
    /// Its environment.
    pub environment: String,
    /// How the portal looks for it.
    pub branding: BrandingDocument,
}

/// `GET /api/v3/notification/session`: the caller's own key, as the portal shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionDocument {
    /// The session.
    pub data: SessionResource,
}

/// The caller's key: what it is, whose, and what it may do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionResource {
    /// `sessions`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The key's id.
    pub id: String,
    /// Its attributes.
    pub attributes: SessionAttributes,
}

/// What the portal needs to know of its session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionAttributes {
    /// `account_key`, `portal_session` or `operator` (acting for the account).
    pub kind: String,
    /// The account the key acts for.
    pub account: SessionAccount,
    /// The key's environment.
    pub environment: String,
    /// Whether it may only read.
    pub read_only: bool,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// How the portal looks for it.
    pub branding: BrandingDocument,
}

/// The account of a session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionAccount {
    /// The platform's id for it.
    pub uid: String,
    /// Its display name.
    pub name: String,
}
