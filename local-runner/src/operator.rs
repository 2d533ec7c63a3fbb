//! The operator's tools: the platform's bootstrap (its own account and a first operator
//! key), accounts and their API keys, and the migrations: accounts made before uids, and the
//! accounts' event types into the platform's one catalog.

use hookline_aws::Store;
use hookline_domain::event_types::is_built_in;
use hookline_domain::model::{Account, AccountId, Environment, EventType, KeyKind, KeySpec, NewApiKey, PLATFORM_UID};
use hookline_domain::{Error, Result};

/// Creates an account with its first key of `environment`; returns both (the key in clear,
/// to show once).
pub async fn create_account(
    store: &Store,
    name: &str,
    environment: Environment,
    label: &str,
) -> Result<(Account, NewApiKey)> {
    let account_id = store.next_account_id().await?;
    let key = NewApiKey::generate(account_id, environment, label, chrono::Utc::now());
    let account = store.create_account(name, &key).await?;
    Ok((account, key))
}

/// The dev account's production key: `chosen` if it exists already or is new (it is
/// created), else a fresh one.
pub async fn dev_api_key(store: &Store, chosen: Option<String>) -> Result<String> {
    if let Some(key) = &chosen
        && store.find_api_key(key).await?.is_some()
    {
        return Ok(key.clone());
    }
    let account_id = store.next_account_id().await?;
    let now = chrono::Utc::now();
    let key = match chosen {
        Some(plaintext) => NewApiKey::from_plaintext(plaintext, account_id, Environment::Production, "dev", now),
        None => NewApiKey::generate(account_id, Environment::Production, "dev", now),
    };
    store.create_account("dev", &key).await?;
    Ok(key.plaintext)
}

/// A sandbox key for the account of `production_key`.
pub async fn add_sandbox_key(store: &Store, production_key: &str) -> Result<String> {
    let owner =
        store.find_api_key(production_key).await?.ok_or_else(|| hookline_domain::Error::not_found("api key"))?;
    let key = NewApiKey::generate(owner.account_id, Environment::Sandbox, "dev", chrono::Utc::now());
    store.put_api_key(&key.record).await?;
    Ok(key.plaintext)
}

/// A day's portal session of the account of `account_key`: its token.
pub async fn open_portal_session(store: &Store, account_key: &str) -> Result<String> {
    let owner = store.find_api_key(account_key).await?.ok_or_else(|| hookline_domain::Error::not_found("api key"))?;
    let now = chrono::Utc::now();
    let spec = KeySpec {
        kind: KeyKind::PortalSession,
        expires_at: Some(now + chrono::Duration::seconds(*hookline_domain::platform::SESSION_SECONDS.end())),
        ..KeySpec::account(owner.account_id, owner.environment, "portal")
    };
    let session = NewApiKey::of(spec, now);
    store.put_api_key(&session.record).await?;
    Ok(session.plaintext)
}

/// The platform's own account (uid `platform`), made if missing.
pub async fn platform_account(store: &Store) -> Result<Account> {
    if let Some(account) = store.find_account_by_uid(PLATFORM_UID).await? {
        return Ok(account);
    }
    let id = store.next_account_id().await?;
    let account = Account {
        id,
        uid: PLATFORM_UID.into(),
        name: "The platform".into(),
        metadata: Default::default(),
        created_at: chrono::Utc::now(),
        updated_at: None,
    };
    match store.insert_account(&account).await {
        Ok(()) => Ok(account),
        // Another bootstrap made it first: use theirs.
        Err(Error::Conflict(_)) => store
            .find_account_by_uid(PLATFORM_UID)
            .await?
            .ok_or_else(|| Error::internal("the platform account vanished")),
        Err(error) => Err(error),
    }
}

/// A new operator key of `environment` (the platform's account made first if missing);
/// `chosen` is its plaintext if given (e.g. `DEV_OPERATOR_KEY`) and new.
pub async fn create_operator_key(
    store: &Store,
    environment: Environment,
    label: &str,
    chosen: Option<String>,
) -> Result<String> {
    if let Some(key) = &chosen
        && store.find_api_key(key).await?.is_some_and(|found| found.kind == KeyKind::Operator)
    {
        return Ok(key.clone());
    }
    let platform = platform_account(store).await?;
    let spec = KeySpec { kind: KeyKind::Operator, ..KeySpec::account(platform.id, environment, label) };
    let now = chrono::Utc::now();
    let key = match chosen {
        Some(plaintext) => NewApiKey::with_plaintext(plaintext, spec, now),
        None => NewApiKey::of(spec, now),
    };
    store.put_api_key(&key.record).await?;
    Ok(key.plaintext)
}

/// Gives every account made before uids its uid (its id) and its place in the account list;
/// returns how many were migrated. Idempotent: run it as often as you like.
pub async fn migrate_accounts(store: &Store) -> Result<usize> {
    let mut migrated = 0;
    // Ids come from one counter: every account has an id up to its value.
    for id in 1..=store.last_account_id().await? {
        if let Some(account) = store.get_account(id).await?
            && store.migrate_account(&account).await?
        {
            migrated += 1;
        }
    }
    Ok(migrated)
}

/// What the catalog's migration did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogMigration {
    /// Event types copied into the platform's catalog.
    pub copied: usize,
    /// Event types left out: `(account, name, why)`; the catalog keeps the definition it has.
    pub conflicts: Vec<(AccountId, String, String)>,
}

/// Whether two definitions of a name say the same (an account's type against the catalog's).
fn same_definition(catalog: &EventType, account: &EventType) -> bool {
    catalog.created_at == account.created_at
        || (catalog.description == account.description && catalog.schema == account.schema)
}

/// Copies every event type an account registered (before the platform's catalog) into the
/// catalog, accounts in id order: the first definition of a name wins; another account's
/// different definition of it, and a name that is built in now, are reported as conflicts and
/// left out. The accounts' own records are left as they were (nothing reads them any more).
/// Idempotent: run it as often as you like.
pub async fn migrate_event_types(store: &Store) -> Result<CatalogMigration> {
    let mut report = CatalogMigration::default();
    for account in 1..=store.last_account_id().await? {
        for kind in store.list_account_event_types(account).await? {
            if is_built_in(&kind.name) {
                report.conflicts.push((account, kind.name, "built in now".into()));
                continue;
            }
            let existing = match store.get_event_type(&kind.name).await? {
                Some(existing) => existing,
                None => match store.create_event_type(&kind).await {
                    Ok(()) => {
                        report.copied += 1;
                        continue;
                    }
                    // Registered meanwhile (by the platform, or another migration): compare.
                    Err(Error::Conflict(_)) => store
                        .get_event_type(&kind.name)
                        .await?
                        .ok_or_else(|| Error::Conflict(format!("{} keeps changing; run again", kind.name)))?,
                    Err(error) => return Err(error),
                },
            };
            if !same_definition(&existing, &kind) {
                let why = "the catalog defines it otherwise (an earlier account's definition, or the platform's)";
                report.conflicts.push((account, kind.name, why.into()));
            }
        }
    }
    Ok(report)
}
