//! Who may call what, on the in-memory ports: each kind of key (account, operator with and
//! without `hookline-account`, portal session read-only or not) and each way a key stops
//! working (unknown, revoked, expired), on an account's routes and on the platform's.

use chrono::{Duration, Utc};
use hookline_core::memory::MemoryStore;
use hookline_core::{Credentials, authenticate, authenticate_operator};
use hookline_domain::model::{Account, Environment, KeyKind, KeySpec, NewApiKey};
use hookline_domain::{Error, Source};

const PLATFORM: u64 = 1;
const CUSTOMER: u64 = 7;

fn account(id: u64, uid: &str) -> Account {
    Account {
        id,
        uid: uid.into(),
        name: uid.into(),
        metadata: Default::default(),
        created_at: Utc::now(),
        updated_at: None,
    }
}

struct Keys {
    store: MemoryStore,
    account: String,
    operator: String,
    session: String,
    read_only: String,
    expired: String,
    revoked: String,
}

fn key(store: &MemoryStore, spec: KeySpec) -> NewApiKey {
    let key = NewApiKey::of(spec, Utc::now());
    store.add_key(key.record.clone());
    key
}

fn keys() -> Keys {
    let store = MemoryStore::default();
    store.add_account(account(PLATFORM, "platform"));
    store.add_account(account(CUSTOMER, "cus_7"));
    let spec = |kind, account_id| KeySpec { kind, ..KeySpec::account(account_id, Environment::Sandbox, "tests") };
    let account = key(&store, spec(KeyKind::Account, CUSTOMER)).plaintext;
    let operator = key(&store, spec(KeyKind::Operator, PLATFORM)).plaintext;
    let in_an_hour = Some(Utc::now() + Duration::hours(1));
    let session = key(&store, KeySpec { expires_at: in_an_hour, ..spec(KeyKind::PortalSession, CUSTOMER) }).plaintext;
    let read_only =
        key(&store, KeySpec { expires_at: in_an_hour, read_only: true, ..spec(KeyKind::PortalSession, CUSTOMER) })
            .plaintext;
    let an_hour_ago = Some(Utc::now() - Duration::hours(1));
    let expired = key(&store, KeySpec { expires_at: an_hour_ago, ..spec(KeyKind::Account, CUSTOMER) }).plaintext;
    let revoked = key(&store, spec(KeyKind::Account, CUSTOMER));
    store.revoke_key(&revoked.record.key_hash);
    Keys { store, account, operator, session, read_only, expired, revoked: revoked.plaintext }
}

/// The status an account's route answers `token` with, `account` in `hookline-account`,
/// for a write or a read; 200 when the caller is let in.
async fn account_route(keys: &Keys, token: &str, account: Option<&str>, writes: bool) -> u16 {
    let authorization = format!("Bearer {token}");
    let credentials = Credentials { authorization: Some(&authorization), account, writes, ..Credentials::default() };
    match authenticate(&keys.store, &credentials, Utc::now()).await {
        Ok(caller) => {
            assert_eq!(caller.account_id, CUSTOMER, "every caller here acts for the customer");
            200
        }
        Err(error) => error.status(),
    }
}

#[tokio::test]
async fn when_each_kind_of_key_calls_an_account_route_should_get_its_status() {
    let keys = keys();
    let cases: [(&str, &str, Option<&str>, bool, u16); 14] = [
        ("account key", &keys.account, None, true, 200),
        ("account key naming an account", &keys.account, Some("cus_7"), false, 400),
        ("operator key for the customer", &keys.operator, Some("cus_7"), true, 200),
        ("operator key without the header", &keys.operator, None, false, 400),
        ("operator key with an empty header", &keys.operator, Some(" "), false, 400),
        ("operator key naming no account", &keys.operator, Some("nobody"), false, 404),
        ("session writing", &keys.session, None, true, 200),
        ("read-only session reading", &keys.read_only, None, false, 200),
        ("read-only session writing", &keys.read_only, None, true, 403),
        ("expired key", &keys.expired, None, false, 401),
        ("revoked key", &keys.revoked, None, false, 401),
        ("unknown key", "hl_sbx_unknown", None, false, 401),
        ("an empty token", "", None, false, 401),
        ("an account key cannot pass for an operator's", &keys.account, Some("platform"), false, 400),
    ];
    for (case, token, account, writes, expected) in cases {
        assert_eq!(account_route(&keys, token, account, writes).await, expected, "{case}");
    }
}

#[tokio::test]
async fn when_operator_acts_for_an_account_should_stamp_the_platform_in_the_audit() {
    let keys = keys();
    let authorization = format!("Bearer {}", keys.operator);
    let mut credentials =
        Credentials { authorization: Some(&authorization), account: Some("cus_7"), ..Default::default() };
    let caller = authenticate(&keys.store, &credentials, Utc::now()).await.expect("acting");
    assert_eq!((caller.environment, caller.audit.app.as_deref()), (Environment::Sandbox, Some("platform")));
    credentials.app = Some("billing");
    let caller = authenticate(&keys.store, &credentials, Utc::now()).await.expect("acting");
    assert_eq!(caller.audit.app.as_deref(), Some("billing"));
}

#[tokio::test]
async fn when_operator_key_lacks_the_account_header_should_point_at_it() {
    let keys = keys();
    let authorization = format!("Bearer {}", keys.operator);
    let credentials = Credentials { authorization: Some(&authorization), ..Default::default() };
    let Err(Error::BadRequest(problem)) = authenticate(&keys.store, &credentials, Utc::now()).await else {
        panic!("a 400");
    };
    assert_eq!(problem.source, Some(Source::Header("hookline-account".into())));
}

#[tokio::test]
async fn when_keys_call_a_platform_route_should_let_only_operators_in() {
    let keys = keys();
    let status = |token: String| {
        let store = &keys.store;
        async move {
            let authorization = format!("Bearer {token}");
            match authenticate_operator(store, Some(&authorization), Utc::now()).await {
                Ok(key) => {
                    assert_eq!(key.kind, KeyKind::Operator);
                    200
                }
                Err(error) => error.status(),
            }
        }
    };
    assert_eq!(status(keys.operator.clone()).await, 200);
    for token in [&keys.account, &keys.session, &keys.read_only] {
        assert_eq!(status(token.clone()).await, 404, "an account's key learns nothing of the route");
    }
    for token in [&keys.expired, &keys.revoked] {
        assert_eq!(status(token.clone()).await, 401);
    }
    let no_key = authenticate_operator(&keys.store, None, Utc::now()).await.expect_err("no key");
    assert_eq!(no_key.status(), 401);
}
