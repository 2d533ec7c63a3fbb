//! The platform's one event catalog over HTTP on the local emulators: operator keys write it
//! (`/api/v3/event_types`), accounts read it, publishing checks payloads against the types'
//! JSON Schemas, deprecated types, and the migration of the accounts' own catalogs.

use hookline_domain::model::{Environment, EventType};
use hookline_tests::{Client, Reply, Stack};
use serde_json::{Value, json};

const CATALOG: &str = "/api/v3/event_types";

fn event_type(attributes: Value) -> Value {
    json!({"data": {"type": "event_types", "attributes": attributes}})
}

fn invoice_schema() -> Value {
    json!({
        "type": "object",
        "required": ["invoice", "amount"],
        "properties": {
            "invoice": {"type": "string"},
            "amount": {"type": "integer", "minimum": 0},
            "lines": {"type": "array", "items": {"type": "object", "required": ["sku"]}},
        },
    })
}

/// The catalog an account reads at `path`, by name.
async fn listed(client: &Client, path: &str) -> serde_json::Map<String, Value> {
    let reply = client.send("GET", path, None).await;
    assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
    reply.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|resource| (resource["id"].as_str().expect("id").to_string(), resource["attributes"].clone()))
        .collect()
}

fn pointers(errors: &Value) -> Vec<(String, String)> {
    errors
        .as_array()
        .into_iter()
        .flatten()
        .map(|error| {
            (
                error["code"].as_str().unwrap_or_default().to_string(),
                error["source"]["pointer"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn publish_batch(client: &Client, events: Value) -> Reply {
    let request = client
        .raw(reqwest::Method::POST, "/api/v3/notification/events/batch")
        .header("content-type", "application/json")
        .body(json!({"events": events}).to_string());
    Client::reply(request.send().await.expect("batch")).await
}

#[tokio::test]
async fn when_operator_defines_a_type_with_a_schema_should_show_it_to_accounts_and_check_payloads() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    let account = stack.client(&base, Environment::Production).await;

    let attributes = json!({
        "name": "invoice.paid", "description": "An invoice was paid", "group": "billing",
        "schema": invoice_schema(), "example": {"invoice": "inv_1", "amount": 1200},
    });
    let created = operator.send("POST", CATALOG, Some(event_type(attributes))).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.headers["location"], "/api/v3/event_types/invoice.paid");
    let shown = operator.send("GET", &format!("{CATALOG}/invoice.paid"), None).await;
    assert_eq!(shown.body["data"]["attributes"]["schema"], invoice_schema(), "{:?}", shown.body);
    let listed_by_platform = listed(&operator, CATALOG).await;
    assert!(listed_by_platform.contains_key("invoice.paid") && listed_by_platform.contains_key("webhook.test"));

    for path in ["/api/v3/notification/event_types", "/api/v3/notification/webhooks/events"] {
        let catalog = listed(&account, path).await;
        let paid = &catalog["invoice.paid"];
        assert_eq!(paid["schema"], invoice_schema(), "{path}");
        assert_eq!(paid["example"], json!({"invoice": "inv_1", "amount": 1200}), "{path}");
        assert_eq!((paid["group"].as_str(), paid["deprecated"].as_bool()), (Some("billing"), Some(false)), "{path}");
        assert_eq!(paid["built_in"], false);
        assert!(paid["created_at"].is_string() && paid["updated_at"].is_string());
        assert_eq!(catalog["webhook.test"]["built_in"], true, "{path}: built-in types too");
    }

    let good =
        account.publish(json!({"event_type": "invoice.paid", "payload": {"invoice": "i", "amount": 5}}), None).await;
    assert_eq!(good.status, 202, "{:?}", good.body);
    let bad =
        account.publish(json!({"event_type": "invoice.paid", "payload": {"invoice": "i", "amount": "5"}}), None).await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    assert_eq!(bad.errors(), [("invalid_payload".to_string(), "/payload/amount".to_string())]);
    let missing = account.publish(json!({"event_type": "invoice.paid", "payload": {"amount": 5}}), None).await;
    assert_eq!(missing.errors(), [("invalid_payload".to_string(), "/payload/invoice".to_string())]);
    let nested =
        json!({"event_type": "invoice.paid", "payload": {"invoice": "i", "amount": 1, "lines": [{"sku": "a"}, {}]}});
    assert_eq!(
        account.publish(nested, None).await.errors(),
        [("invalid_payload".into(), "/payload/lines/1/sku".into())]
    );

    let batch = publish_batch(
        &account,
        json!([
            {"event_type": "invoice.paid", "payload": {"invoice": "i", "amount": 1}},
            {"event_type": "invoice.paid", "payload": {"invoice": "i", "amount": -1}},
        ]),
    )
    .await;
    assert_eq!(batch.status, 207, "{:?}", batch.body);
    assert_eq!(batch.body["data"][0]["status"], "202");
    assert_eq!(batch.body["data"][1]["status"], "422");
    assert_eq!(
        pointers(&batch.body["data"][1]["errors"]),
        [("invalid_payload".into(), "/events/1/payload/amount".into())]
    );

    let unknown = account.publish(json!({"event_type": "never.registered", "payload": {}}), None).await;
    assert_eq!(unknown.errors(), [("unknown_event_type".to_string(), "/event_type".to_string())]);
}

#[tokio::test]
async fn when_operator_writes_a_bad_type_should_answer_with_the_pointer_and_keep_built_in_types() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    let create = |attributes: Value| operator.send("POST", CATALOG, Some(event_type(attributes)));

    let not_a_schema = create(json!({"name": "a.b", "schema": {"type": "integr"}})).await;
    assert_eq!(
        (not_a_schema.status, not_a_schema.errors()),
        (422, vec![("invalid_schema".into(), "/data/attributes/schema".into())])
    );
    let remote = create(json!({"name": "a.b", "schema": {"$ref": "https://example.com/schema.json"}})).await;
    assert_eq!(
        remote.errors(),
        [("invalid_schema".to_string(), "/data/attributes/schema".to_string())],
        "nothing is fetched"
    );
    let mismatch = create(json!({"name": "a.b", "schema": invoice_schema(), "example": {"invoice": 1}})).await;
    assert_eq!(
        (mismatch.status, mismatch.errors()),
        (422, vec![("example_mismatch".into(), "/data/attributes/example".into())])
    );
    let typo = create(json!({"name": "a.b", "colour": "red"})).await;
    assert_eq!(
        (typo.status, typo.errors()),
        (422, vec![("invalid_document".into(), "/data/attributes/colour".into())])
    );
    let wrong_type = create(json!({"name": "a.b", "deprecated": "yes"})).await;
    assert_eq!(wrong_type.errors(), [("invalid_deprecated".to_string(), "/data/attributes/deprecated".to_string())]);
    let built_in = create(json!({"name": "webhook.test"})).await;
    assert_eq!(built_in.errors(), [("built_in".to_string(), "/data/attributes/name".to_string())]);

    assert_eq!(create(json!({"name": "a.b", "schema": invoice_schema()})).await.status, 201);
    assert_eq!(create(json!({"name": "a.b"})).await.status, 409, "a name is registered once");
    let path = format!("{CATALOG}/a.b");
    let patch = |attributes: Value| operator.send("PATCH", &path, Some(event_type(attributes)));
    let example = patch(json!({"example": {"invoice": "i", "amount": 3}, "group": "billing"})).await;
    assert_eq!(example.status, 200, "{:?}", example.body);
    assert_eq!(example.body["data"]["attributes"]["group"], "billing");
    let narrower = patch(json!({"schema": {"type": "object", "required": ["currency"]}})).await;
    assert_eq!(narrower.errors(), [("example_mismatch".to_string(), "/data/attributes/example".to_string())]);
    let renamed = patch(json!({"name": "c.d"})).await;
    assert_eq!(renamed.errors(), [("immutable".to_string(), "/data/attributes/name".to_string())]);
    let cleared = patch(json!({"schema": null, "example": null})).await;
    assert_eq!((cleared.body["data"]["attributes"]["schema"].clone(), cleared.status), (Value::Null, 200));

    assert_eq!(operator.send("PATCH", &format!("{CATALOG}/no.such"), Some(event_type(json!({})))).await.status, 404);
    assert_eq!(
        operator.send("PATCH", &format!("{CATALOG}/webhook.test"), Some(event_type(json!({})))).await.status,
        409
    );
    assert_eq!(operator.send("DELETE", &format!("{CATALOG}/webhook.test"), None).await.status, 409);
    assert_eq!(operator.send("GET", &format!("{CATALOG}/webhook.test"), None).await.status, 200);
    assert_eq!(operator.send("DELETE", &path, None).await.status, 204);
    assert_eq!(operator.send("DELETE", &path, None).await.status, 404);
    assert_eq!(operator.send("GET", &path, None).await.status, 404);
}

#[tokio::test]
async fn when_a_type_is_deprecated_should_still_publish_but_refuse_new_subscriptions() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    let account = stack.client(&base, Environment::Production).await;
    account.register_event_type("loan.created").await;
    account.register_event_type("loan.closed").await;
    let subscribed = account.create_webhook(json!({"url": "https://example.com/a", "events": ["loan.closed"]})).await;
    let other = account.create_webhook(json!({"url": "https://example.com/b", "events": ["loan.created"]})).await;

    let deprecated =
        operator.send("PATCH", &format!("{CATALOG}/loan.closed"), Some(event_type(json!({"deprecated": true})))).await;
    assert_eq!((deprecated.status, deprecated.body["data"]["attributes"]["deprecated"].as_bool()), (200, Some(true)));
    let catalog = listed(&account, "/api/v3/notification/webhooks/events").await;
    assert_eq!(catalog["loan.closed"]["deprecated"], true);

    let published = account.publish(json!({"event_type": "loan.closed", "payload": {"loan": 1}}), None).await;
    assert_eq!(published.status, 202, "a deprecated type still publishes: {:?}", published.body);
    assert_eq!(published.body["data"]["attributes"]["matched"], 1, "to the webhooks that have it");

    let refused = account
        .send(
            "POST",
            "/api/v3/notification/webhooks",
            Some(json!({"data": {"type": "webhooks", "attributes": {"url": "https://example.com/c", "events": ["loan.created", "loan.closed"]}}})),
        )
        .await;
    assert_eq!(
        (refused.status, refused.errors()),
        (422, vec![("deprecated_event_type".into(), "/data/attributes/events/1".into())])
    );
    let patch = |id: u64, events: Value| {
        let account = &account;
        async move {
            let document = json!({"data": {"type": "webhooks", "attributes": {"events": events}}});
            account.send("PATCH", &format!("/api/v3/notification/webhooks/{id}"), Some(document)).await
        }
    };
    let newly = patch(other, json!(["loan.created", {"event_type": "loan.closed"}])).await;
    assert_eq!(
        (newly.status, newly.errors()),
        (422, vec![("deprecated_event_type".into(), "/data/attributes/events/1".into())])
    );
    let kept = patch(subscribed, json!(["loan.closed", "loan.created"])).await;
    assert_eq!(kept.status, 200, "a subscription it has is kept: {:?}", kept.body);
}

#[tokio::test]
async fn when_any_key_but_an_operator_key_calls_the_platform_catalog_should_answer_404() {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    let account = stack.client(&base, Environment::Sandbox).await;
    account.register_event_type("loan.created").await;
    let body = || Some(event_type(json!({"name": "loan.other"})));
    for (method, path) in [
        ("GET", CATALOG.to_string()),
        ("POST", CATALOG.to_string()),
        ("GET", format!("{CATALOG}/loan.created")),
        ("PATCH", format!("{CATALOG}/loan.created")),
        ("DELETE", format!("{CATALOG}/loan.created")),
    ] {
        let reply = account.send(method, &path, if method == "GET" { None } else { body() }).await;
        assert_eq!(reply.status, 404, "{method} {path}: {:?}", reply.body);
    }
    assert_eq!(operator.send("GET", &format!("{CATALOG}/loan.created"), None).await.status, 200, "not removed");
    assert_eq!(Client::new(&base, String::new()).send("GET", CATALOG, None).await.status, 401);
}

#[tokio::test]
async fn when_accounts_had_their_own_catalogs_should_copy_them_into_the_platforms_first_one_winning() {
    let stack = Stack::new().await;
    let store = &stack.context.store;
    let first = store.next_account_id().await.expect("id");
    let second = store.next_account_id().await.expect("id");
    let now = chrono::Utc::now();
    let old = |name: &str, description: &str, schema: Option<Value>| EventType {
        name: name.into(),
        description: description.into(),
        group: String::new(),
        schema,
        example: None,
        deprecated: false,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let schema = json!({"type": "object", "required": ["loan"]});
    store.put_account_event_type(first, &old("loan.created", "first", Some(schema.clone()))).await.expect("old");
    let later = EventType { created_at: now + chrono::Duration::seconds(1), ..old("loan.created", "second", None) };
    store.put_account_event_type(second, &later).await.expect("old");
    store.put_account_event_type(second, &old("loan.closed", "closed", None)).await.expect("old");

    let migrated = hookline_local_runner::operator::migrate_event_types(store).await.expect("migrated");
    assert_eq!(migrated.copied, 2);
    assert_eq!(migrated.conflicts.len(), 1, "{:?}", migrated.conflicts);
    assert_eq!((migrated.conflicts[0].0, migrated.conflicts[0].1.as_str()), (second, "loan.created"));
    let again = hookline_local_runner::operator::migrate_event_types(store).await.expect("idempotent");
    assert_eq!((again.copied, again.conflicts.len()), (0, 1), "nothing copied twice");
    assert_eq!(store.list_event_types().await.expect("catalog").len(), 2);

    let base = stack.serve().await;
    let account = stack.client(&base, Environment::Production).await;
    let catalog = listed(&account, "/api/v3/notification/event_types").await;
    assert_eq!(catalog["loan.created"]["description"], "first", "the first definition wins");
    assert_eq!(catalog["loan.created"]["schema"], schema);
    assert!(catalog.contains_key("loan.closed"));
    let refused = account.publish(json!({"event_type": "loan.created", "payload": {}}), None).await;
    assert_eq!(refused.errors(), [("invalid_payload".to_string(), "/payload/loan".to_string())], "its schema applies");
}
