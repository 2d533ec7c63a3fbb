//! The platform plane over HTTP on the local emulators: accounts, keys, operator keys,
//! portal sessions, acting for an account, the migration of accounts made before uids, and
//! the matrix of every documented route × every kind of caller.

use hookline_domain::model::{Environment, KeyKind, KeySpec, NewApiKey};
use hookline_tests::{Client, Reply, Stack};
use serde_json::{Value, json};

const ACCOUNTS: &str = "/api/v3/accounts";
const SESSION: &str = "/api/v3/notification/session";

fn account_document(attributes: Value) -> Value {
    json!({"data": {"type": "accounts", "attributes": attributes}})
}

async fn onboard(operator: &Client, uid: &str) -> Reply {
    operator.send("POST", ACCOUNTS, Some(account_document(json!({"uid": uid, "name": uid})))).await
}

/// A new key of the account `uid`, in full.
async fn account_key(operator: &Client, uid: &str, attributes: Value) -> (String, String) {
    let reply = operator
        .send(
            "POST",
            &format!("{ACCOUNTS}/{uid}/api_keys"),
            Some(json!({"data": {"type": "api_keys", "attributes": attributes}})),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let data = &reply.body["data"];
    (data["id"].as_str().expect("id").to_string(), data["attributes"]["key"].as_str().expect("key").to_string())
}

#[tokio::test]
async fn when_platform_onboards_a_customer_should_create_find_rename_and_delete_it() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;

    let created = onboard(&operator, "cus_1").await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.headers["location"], "/api/v3/accounts/cus_1");
    assert_eq!(created.body["data"]["id"], "cus_1");
    assert!(created.body["data"]["attributes"]["account_id"].is_u64());
    assert_eq!(onboard(&operator, "cus_1").await.status, 409, "a uid names one account");
    let without_uid = operator.send("POST", ACCOUNTS, Some(account_document(json!({"name": "No uid"})))).await;
    let id = without_uid.body["data"]["attributes"]["account_id"].as_u64().expect("id");
    assert_eq!(without_uid.body["data"]["id"], id.to_string(), "the uid defaults to the id");

    let found = operator.send("GET", &format!("{ACCOUNTS}?filter[uid]=cus_1"), None).await;
    assert_eq!(found.body["data"].as_array().map(Vec::len), Some(1), "{:?}", found.body);
    let all = operator.send("GET", &format!("{ACCOUNTS}?page[size]=1"), None).await;
    assert_eq!(all.body["data"].as_array().map(Vec::len), Some(1));
    assert!(all.body["links"]["next"].is_string(), "a cursor to the next page: {:?}", all.body);
    let named = operator.send("GET", &format!("{ACCOUNTS}?filter[name]=No%20uid"), None).await;
    assert_eq!(named.body["data"][0]["id"], id.to_string());

    let patch = account_document(json!({"name": "Acme", "metadata": {"plan": "pro"}}));
    let renamed = operator.send("PATCH", &format!("{ACCOUNTS}/cus_1"), Some(patch)).await;
    assert_eq!((renamed.status, renamed.body["data"]["attributes"]["name"].as_str()), (200, Some("Acme")));
    let shown = operator.send("GET", &format!("{ACCOUNTS}/cus_1"), None).await;
    assert_eq!(shown.body["data"]["attributes"]["metadata"]["plan"], "pro");

    let bad = operator.send("POST", ACCOUNTS, Some(account_document(json!({"uid": "a b", "name": "x"})))).await;
    assert_eq!((bad.status, bad.errors()), (422, vec![("invalid_uid".into(), "/data/attributes/uid".into())]));

    assert_eq!(operator.send("DELETE", &format!("{ACCOUNTS}/cus_1"), None).await.status, 204);
    assert_eq!(operator.send("GET", &format!("{ACCOUNTS}/cus_1"), None).await.status, 404);
    assert_eq!(onboard(&operator, "cus_1").await.status, 201, "a deleted account frees its uid");
}

#[tokio::test]
async fn when_account_is_deleted_should_refuse_its_keys_and_disable_its_webhooks() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    onboard(&operator, "leaving").await;
    let (_, key) = account_key(&operator, "leaving", json!({})).await;
    let customer = operator.with_key(&key);
    customer.register_event_type("loan.created").await;
    let webhook = customer.create_webhook(json!({"url": "https://example.com/h", "events": ["loan.created"]})).await;
    let account_id = stack.context.store.find_account_by_uid("leaving").await.expect("read").expect("account").id;

    assert_eq!(operator.send("DELETE", &format!("{ACCOUNTS}/leaving"), None).await.status, 204);

    assert_eq!(customer.send("GET", "/api/v3/notification/webhooks", None).await.status, 401);
    let stored = stack.context.store.get_webhook(account_id, webhook).await.expect("read").expect("kept");
    assert_eq!(stored.status, hookline_domain::model::WebhookStatus::Disabled);
    assert_eq!(stored.disabled_reason, Some(hookline_domain::model::DisabledReason::AccountDeleted));
    assert_eq!(operator.acting_for("leaving").send("GET", "/api/v3/notification/webhooks", None).await.status, 404);
}

#[tokio::test]
async fn when_keys_are_made_listed_and_revoked_should_work_until_revoked() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    onboard(&operator, "cus_k").await;
    onboard(&operator, "cus_other").await;
    let (key_id, key) = account_key(&operator, "cus_k", json!({"environment": "sandbox", "label": "ci"})).await;
    assert!(key.starts_with("hl_sbx_"), "{key}");
    let customer = operator.with_key(&key);
    assert_eq!(customer.send("GET", "/api/v3/notification/webhooks", None).await.status, 200);

    let listed = operator.send("GET", &format!("{ACCOUNTS}/cus_k/api_keys"), None).await;
    let keys = listed.body["data"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["attributes"]["label"], "ci");
    assert!(keys[0]["attributes"].get("key").is_none(), "never the key again: {:?}", keys[0]);
    assert!(key.starts_with(keys[0]["attributes"]["prefix"].as_str().expect("prefix")));
    assert!(!listed.body.to_string().contains(&key));

    let elsewhere = operator.send("DELETE", &format!("{ACCOUNTS}/cus_other/api_keys/{key_id}"), None).await;
    assert_eq!(elsewhere.status, 404, "a key id of another account");
    assert_eq!(operator.send("DELETE", &format!("{ACCOUNTS}/cus_k/api_keys/{key_id}"), None).await.status, 204);
    assert_eq!(customer.send("GET", "/api/v3/notification/webhooks", None).await.status, 401, "revoked at once");

    let past = json!({"expires_at": "2020-01-01T00:00:00Z"});
    let refused = operator
        .send(
            "POST",
            &format!("{ACCOUNTS}/cus_k/api_keys"),
            Some(json!({"data": {"type": "api_keys", "attributes": past}})),
        )
        .await;
    assert_eq!(refused.errors(), vec![("in_the_past".into(), "/data/attributes/expires_at".into())]);

    let made = operator
        .send(
            "POST",
            "/api/v3/operator_keys",
            Some(json!({"data": {"type": "operator_keys", "attributes": {"label": "second"}}})),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let second = operator.with_key(made.body["data"]["attributes"]["key"].as_str().expect("key"));
    assert!(second.key.starts_with("hlop_prod_"));
    let second_id = made.body["data"]["id"].as_str().expect("id").to_string();
    let operators = second.send("GET", "/api/v3/operator_keys", None).await;
    assert_eq!(operators.body["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(operator.send("DELETE", &format!("/api/v3/operator_keys/{second_id}"), None).await.status, 204);
    assert_eq!(second.send("GET", ACCOUNTS, None).await.status, 401);
}

#[tokio::test]
async fn when_operator_acts_for_an_account_should_manage_and_publish_as_that_account() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    onboard(&operator, "cus_a").await;
    onboard(&operator, "cus_b").await;
    let for_a = operator.acting_for("cus_a");
    for_a.register_event_type("loan.created").await;
    let webhook = for_a.create_webhook(json!({"url": "https://example.com/a", "events": ["loan.created"]})).await;
    let shown = for_a.send("GET", &format!("/api/v3/notification/webhooks/{webhook}"), None).await;
    assert_eq!(shown.body["data"]["attributes"]["created_by"]["app"], "platform");
    let (_, key) = account_key(&operator, "cus_a", json!({})).await;
    let own = operator.with_key(&key).send("GET", &format!("/api/v3/notification/webhooks/{webhook}"), None).await;
    assert_eq!(own.status, 200, "the account sees what the platform made for it");
    let for_b = operator.acting_for("cus_b");
    assert_eq!(for_b.send("GET", &format!("/api/v3/notification/webhooks/{webhook}"), None).await.status, 404);

    let event = json!({"event_type": "loan.created", "payload": {"loan": 1}});
    let published = for_a.publish(event.clone(), Some("same-key")).await;
    assert_eq!((published.status, published.body["data"]["attributes"]["matched"].as_u64()), (202, Some(1)));
    for_b.register_event_type("loan.created").await;
    let other = for_b.publish(event, Some("same-key")).await;
    assert_eq!(other.status, 202, "{:?}", other.body);
    assert!(other.headers.get("idempotent-replayed").is_none(), "idempotency keys are per account");

    let headless = operator.send("GET", "/api/v3/notification/webhooks", None).await;
    assert_eq!(
        (headless.status, headless.errors()),
        (400, vec![("account_required".into(), "hookline-account".into())])
    );
    assert_eq!(operator.acting_for("nobody").send("GET", "/api/v3/notification/webhooks", None).await.status, 404);
}

#[tokio::test]
async fn when_portal_session_is_opened_should_act_as_the_account_until_it_ends() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    onboard(&operator, "cus_p").await;
    let sessions = format!("{ACCOUNTS}/cus_p/portal_sessions");
    let open = |body: Value| operator.send("POST", &sessions, Some(body));
    let session = open(json!({"read_only": true, "expires_in": 600})).await;
    assert_eq!(session.status, 201, "{:?}", session.body);
    let token = session.body["token"].as_str().expect("token");
    assert!(token.starts_with("hlps_"));
    assert!(session.body["url"].as_str().expect("url").ends_with(&format!("/portal/#token={token}")));
    let portal = operator.with_key(token);
    assert_eq!(portal.send("GET", "/api/v3/notification/webhooks", None).await.status, 200);
    let own = portal.send("GET", SESSION, None).await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    let attributes = &own.body["data"]["attributes"];
    assert_eq!(attributes["kind"], "portal_session");
    assert_eq!((attributes["account"]["uid"].as_str(), attributes["read_only"].as_bool()), (Some("cus_p"), Some(true)));
    assert_eq!(attributes["expires_at"], session.body["expires_at"]);
    assert_eq!(attributes["branding"], json!({"color": null, "logo_url": null, "theme": null}));
    let write = portal.send("POST", "/api/v3/notification/webhooks", Some(json!({"data": {}}))).await;
    assert_eq!(write.status, 403, "a read-only session never writes");
    assert_eq!(portal.send("GET", ACCOUNTS, None).await.status, 404);

    assert_eq!(
        open(json!({"expires_in": 86_401})).await.errors(),
        vec![("invalid_expires_in".into(), "/expires_in".into())]
    );
    let id = session.body["id"].as_str().expect("id");
    assert_eq!(operator.send("DELETE", &format!("{ACCOUNTS}/cus_p/portal_sessions/{id}"), None).await.status, 204);
    assert_eq!(portal.send("GET", "/api/v3/notification/webhooks", None).await.status, 401);
}

#[tokio::test]
async fn when_session_is_branded_should_show_its_brand_and_refuse_a_malformed_one() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    onboard(&operator, "cus_b").await;
    let sessions = format!("{ACCOUNTS}/cus_b/portal_sessions");
    let branding = json!({"color": "#0b5fff", "logo_url": "https://cdn.example.com/logo.svg", "theme": "dark"});
    let session = operator.send("POST", &sessions, Some(json!({"branding": branding}))).await;
    assert_eq!((session.status, &session.body["branding"]), (201, &branding), "{:?}", session.body);
    let token = session.body["token"].as_str().expect("token");
    let own = operator.with_key(token).send("GET", SESSION, None).await;
    assert_eq!(own.body["data"]["attributes"]["branding"], branding);
    assert_eq!(own.body["data"]["attributes"]["read_only"], false);

    let script = json!({"branding": {"logo_url": "javascript:alert(1)"}});
    let refused = operator.send("POST", &sessions, Some(script)).await;
    assert_eq!(refused.errors(), vec![("invalid_branding".into(), "/branding/logo_url".into())]);

    // Every kind of key reads its own: an account key, and an operator acting for the account.
    let (_, key) = account_key(&operator, "cus_b", json!({})).await;
    let own = operator.with_key(&key).send("GET", SESSION, None).await;
    assert_eq!(
        (own.body["data"]["attributes"]["kind"].as_str(), &own.body["data"]["attributes"]["expires_at"]),
        (Some("account_key"), &Value::Null)
    );
    let acting = operator.acting_for("cus_b").send("GET", SESSION, None).await;
    assert_eq!(acting.body["data"]["attributes"]["kind"], "operator");
    assert_eq!(acting.body["data"]["attributes"]["account"]["uid"], "cus_b");
    assert_eq!(operator.with_key("hlps_nothing").send("GET", SESSION, None).await.status, 401);
}

#[tokio::test]
async fn when_accounts_predate_uids_should_migrate_to_their_id_and_keep_their_keys() {
    let stack = Stack::new().await;
    let store = &stack.context.store;
    let id = store.next_account_id().await.expect("id");
    let key = NewApiKey::generate(id, Environment::Production, "old", chrono::Utc::now());
    // An account as it was stored before uids: no uid, not in the account list.
    aws_sdk_dynamodb::Client::new(&stack.sdk)
        .put_item()
        .table_name(store.table())
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ACCOUNT#{id}")))
        .item("sk", aws_sdk_dynamodb::types::AttributeValue::S("ACCOUNT".into()))
        .item("id", aws_sdk_dynamodb::types::AttributeValue::N(id.to_string()))
        .item("name", aws_sdk_dynamodb::types::AttributeValue::S("old".into()))
        .item("created_at", aws_sdk_dynamodb::types::AttributeValue::S("2026-01-01T00:00:00Z".into()))
        .send()
        .await
        .expect("old record");
    store.put_api_key(&key.record).await.expect("old key");
    assert!(store.find_account_by_uid(&id.to_string()).await.expect("read").is_none());

    let migrated = hookline_local_runner::operator::migrate_accounts(store).await.expect("migrated");
    let again = hookline_local_runner::operator::migrate_accounts(store).await.expect("idempotent");

    assert_eq!((migrated, again), (1, 0));
    let account = store.find_account_by_uid(&id.to_string()).await.expect("read").expect("found by its id");
    assert_eq!((account.uid.as_str(), account.name.as_str()), (id.to_string().as_str(), "old"));
    let base = stack.serve().await;
    let listed = stack.operator(&base).await.send("GET", ACCOUNTS, None).await;
    let uid = id.to_string();
    assert!(listed.body["data"].as_array().expect("list").iter().any(|account| account["id"].as_str() == Some(&uid)));
    let old = Client::new(&base, key.plaintext);
    assert_eq!(old.send("GET", "/api/v3/notification/webhooks", None).await.status, 200);
}

/// Who calls, in the matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Nobody,
    Account,
    OtherAccount,
    OperatorAlone,
    OperatorForAccount,
    Revoked,
    Expired,
    ReadOnlySession,
}

/// What a route answers a caller.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    /// The caller gets past authentication.
    Admitted,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404 as if the route did not exist.
    Hidden,
    /// 400 naming `hookline-account`.
    NeedsAccount,
}

fn verdict(who: Who, path: &str, method: &str) -> Verdict {
    let public = path == "/health" || path.ends_with("openapi.json");
    let platform = ["/api/v3/accounts", "/api/v3/operator_keys", "/api/v3/event_types"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    match (who, public, platform) {
        (_, true, _) => Verdict::Admitted,
        (Who::Nobody | Who::Revoked | Who::Expired, _, _) => Verdict::Unauthorized,
        (Who::OperatorAlone | Who::OperatorForAccount, _, true) => Verdict::Admitted,
        (_, _, true) => Verdict::Hidden,
        (Who::OperatorAlone, _, false) => Verdict::NeedsAccount,
        (Who::ReadOnlySession, _, false) if method != "GET" => Verdict::Forbidden,
        _ => Verdict::Admitted,
    }
}

fn judged(reply: &Reply) -> Verdict {
    let detail = reply.body["errors"][0]["detail"].as_str().unwrap_or_default();
    match reply.status {
        401 => Verdict::Unauthorized,
        403 => Verdict::Forbidden,
        404 if detail == "route not found" => Verdict::Hidden,
        400 if reply.errors().iter().any(|(_, source)| source == "hookline-account") => Verdict::NeedsAccount,
        _ => Verdict::Admitted,
    }
}

#[tokio::test]
async fn when_every_kind_of_caller_calls_every_route_should_get_what_its_key_allows() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    onboard(&operator, "matrix").await;
    onboard(&operator, "stranger").await;
    let (_, account) = account_key(&operator, "matrix", json!({})).await;
    let (_, other) = account_key(&operator, "stranger", json!({})).await;
    let (revoked_id, revoked) = account_key(&operator, "matrix", json!({})).await;
    operator.send("DELETE", &format!("{ACCOUNTS}/matrix/api_keys/{revoked_id}"), None).await;
    let store = &stack.context.store;
    let matrix = store.find_account_by_uid("matrix").await.expect("read").expect("account");
    let expired_spec = KeySpec {
        expires_at: Some(chrono::Utc::now() + chrono::Duration::milliseconds(1)),
        ..KeySpec::account(matrix.id, Environment::Production, "x")
    };
    let expired = NewApiKey::of(expired_spec, chrono::Utc::now());
    store.put_api_key(&expired.record).await.expect("key");
    let session_spec = KeySpec {
        kind: KeyKind::PortalSession,
        read_only: true,
        expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..KeySpec::account(matrix.id, Environment::Production, "portal")
    };
    let session = NewApiKey::of(session_spec, chrono::Utc::now());
    store.put_api_key(&session.record).await.expect("session");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let callers: Vec<(Who, Client)> = vec![
        (Who::Nobody, Client::new(&base, String::new())),
        (Who::Account, operator.with_key(&account)),
        (Who::OtherAccount, operator.with_key(&other)),
        (Who::OperatorAlone, operator.with_key(&operator.key)),
        (Who::OperatorForAccount, operator.acting_for("matrix")),
        (Who::Revoked, operator.with_key(&revoked)),
        (Who::Expired, operator.with_key(&expired.plaintext)),
        (Who::ReadOnlySession, operator.with_key(&session.plaintext)),
    ];
    let document = serde_json::to_value(hookline_api::document()).expect("the document");
    let mut cells = 0;
    for (template, operations) in document["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys().map(|method| method.to_uppercase()) {
            // Names that exist nowhere, so that no cell changes what another sees.
            let path = template
                .replace("messages/{id}", "messages/msg_0")
                .replace("{id}", "999")
                .replace("{name}", "no.such.type")
                .replace("{uid}", "no_such_account")
                .replace("{key_id}", "key_none");
            for (who, client) in &callers {
                let mut request = client.raw(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), &path);
                if *who == Who::Nobody {
                    request = reqwest::Client::new().request(
                        reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                        format!("{base}{path}"),
                    );
                }
                if method != "GET" && method != "DELETE" {
                    request = request.header("content-type", "application/vnd.api+json").body("{}");
                }
                let reply = Client::reply(request.send().await.expect("request")).await;
                assert_eq!(
                    judged(&reply),
                    verdict(*who, template, &method),
                    "{method} {path} as {who:?}: {} {:?}",
                    reply.status,
                    reply.body
                );
                cells += 1;
            }
        }
    }
    assert!(cells >= 8 * 40, "every route × every caller: {cells} cells");
}
