//! Contract tests of the management API (seed 003 and the fields of seeds 000-002), over HTTP
//! through the local runner, on the local emulators.

use hookline_domain::model::Environment;
use hookline_tests::{Client, Stack};
use serde_json::{Value, json};

const WEBHOOKS: &str = "/api/v3/notification/webhooks";

async fn setup() -> (Stack, Client) {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    let client = stack.client(&base, Environment::Production).await;
    client.register_event_type("loan.created").await;
    client.register_event_type("INVOICE_CREATED").await;
    (stack, client)
}

fn hook(name: &str) -> Value {
    json!({"name": name, "url": "https://example.com/hooks", "events": ["loan.created"]})
}

#[tokio::test]
async fn when_webhook_created_should_answer_201_with_location_and_full_secret() {
    let (_stack, client) = setup().await;
    let reply = client
        .send(
            "POST",
            WEBHOOKS,
            Some(json!({"data": {"type": "webhooks", "attributes": {
                "name": "Loan created webhook",
                "url": "https://api.example.com/webhooks",
                "events": [{"event_type": "loan.created", "filters": {"status": ["canceled", "open"]}}, "INVOICE_CREATED"],
                "headers": {"Authorization": "key-12345", "X-Paigo-Security": "1234567890"},
                "scopes": {"offering_id": "539b7f74-3832-474e-a955-6d69c5df12d0"},
                "signature_algo": "jwt"
            }}})),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let data = &reply.body["data"];
    let id = data["id"].as_str().expect("string id");
    assert_eq!(reply.headers["location"], format!("{WEBHOOKS}/{id}").as_str());
    assert_eq!(data["type"], "webhooks");
    let attributes = &data["attributes"];
    assert_eq!(attributes["id"].as_u64().map(|n| n.to_string()).as_deref(), Some(id));
    assert!(attributes["account_id"].is_u64());
    let secret = attributes["secret"].as_str().expect("secret");
    assert!(secret.starts_with("whsec_") && secret.len() > 30, "{secret}");
    assert_eq!(attributes["events"][0]["filters"]["status"], json!(["canceled", "open"]));
    assert_eq!(attributes["events"][1], "INVOICE_CREATED");
    assert_eq!(attributes["signature_algo"], "jwt");
    assert_eq!(attributes["environment"], "production");
    assert_eq!(attributes["status"], "enabled");
    assert_eq!(attributes["created_by"]["app"], "tests");
    assert!(attributes["created_by"]["client_id"].as_str().expect("client id").starts_with("key_"));
    assert!(attributes["created_at"].as_str().expect("time").ends_with('Z'));

    let shown = client.send("GET", &format!("{WEBHOOKS}/{id}"), None).await;
    assert_eq!(shown.status, 200);
    let masked = shown.body["data"]["attributes"]["secret"].as_str().expect("masked");
    assert_ne!(masked, secret);
    assert!(masked.ends_with(&secret[secret.len() - 4..]));
    let revealed = client.send("GET", &format!("{WEBHOOKS}/{id}/secret"), None).await;
    assert_eq!(revealed.body["data"]["attributes"]["secret"], secret);
}

#[tokio::test]
async fn when_create_is_invalid_should_point_at_each_field() {
    let (_stack, client) = setup().await;
    let reply = client
        .send(
            "POST",
            WEBHOOKS,
            Some(json!({"data": {"type": "webhooks", "attributes": {
                "url": "http://example.com", "events": ["never.registered"], "headers": {"User-Agent": "x"}, "colour": 1
            }}})),
        )
        .await;
    assert_eq!(reply.status, 422);
    let errors = reply.errors();
    for expected in [
        ("https_required", "/data/attributes/url"),
        ("unknown_event_type", "/data/attributes/events/0"),
        ("reserved_header", "/data/attributes/headers/User-Agent"),
        ("unknown_attribute", "/data/attributes/colour"),
    ] {
        assert!(errors.contains(&(expected.0.into(), expected.1.into())), "{expected:?} not in {errors:?}");
    }
    assert_eq!(reply.body["errors"][0]["status"], "422");
    assert!(reply.body["errors"][0]["title"].is_string() && reply.body["errors"][0]["detail"].is_string());
}

#[tokio::test]
async fn when_document_is_not_acceptable_should_answer_400_409_413_415() {
    let (_stack, client) = setup().await;
    let wrong_type =
        client.send("POST", WEBHOOKS, Some(json!({"data": {"type": "users", "attributes": hook("x")}}))).await;
    assert_eq!(wrong_type.status, 409);
    assert_eq!(wrong_type.errors(), vec![("wrong_type".to_string(), "/data/type".to_string())]);

    let malformed = Client::reply(
        client
            .raw(reqwest::Method::POST, WEBHOOKS)
            .header("content-type", "application/json")
            .body("{\"data\":")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(malformed.status, 400);

    let text = Client::reply(
        client
            .raw(reqwest::Method::POST, WEBHOOKS)
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(text.status, 415);

    let huge = json!({"data": {"type": "webhooks", "attributes": {"name": "x".repeat(300 * 1024)}}});
    let oversize = client.send("POST", WEBHOOKS, Some(huge)).await;
    assert_eq!(oversize.status, 413);

    let no_data = client.send("POST", WEBHOOKS, Some(json!({"type": "webhooks"}))).await;
    assert_eq!(no_data.status, 422);
    assert_eq!(no_data.errors()[0].1, "/data");
}

#[tokio::test]
async fn when_key_missing_or_wrong_should_answer_401_with_a_challenge() {
    let (_stack, client) = setup().await;
    let anonymous = Client::reply(reqwest::get(format!("{}{WEBHOOKS}", client.base)).await.expect("send")).await;
    assert_eq!(anonymous.status, 401);
    assert!(anonymous.headers["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
    let wrong = Client::reply(
        reqwest::Client::new()
            .get(format!("{}{WEBHOOKS}", client.base))
            .bearer_auth("hl_prod_wrong")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["errors"][0]["status"], "401");
}

#[tokio::test]
async fn when_another_account_asks_for_a_webhook_should_answer_404_for_every_verb() {
    let (stack, owner) = setup().await;
    let id = owner.create_webhook(hook("mine")).await;
    let intruder = stack.client(&owner.base, Environment::Production).await;
    let path = format!("{WEBHOOKS}/{id}");
    let patch = json!({"data": {"type": "webhooks", "id": id.to_string(), "attributes": {"name": "stolen"}}});
    for (method, path, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(patch)),
        ("DELETE", path.clone(), None),
        ("GET", format!("{path}/secret"), None),
        ("POST", format!("{WEBHOOKS}/test/{id}"), None),
    ] {
        let reply = intruder.send(method, &path, body).await;
        assert_eq!(reply.status, 404, "{method} {path}: {:?}", reply.body);
    }
    let listed = intruder.send("GET", WEBHOOKS, None).await;
    assert_eq!(listed.body["data"], json!([]));
    let still = owner.send("GET", &path, None).await;
    assert_eq!(still.body["data"]["attributes"]["name"], "mine");
}

#[tokio::test]
async fn when_sandbox_key_creates_should_make_a_sandbox_webhook_and_allow_http() {
    let (stack, production) = setup().await;
    let sandbox = stack.client(&production.base, Environment::Sandbox).await;
    sandbox.register_event_type("loan.created").await;
    let id = sandbox.create_webhook(json!({"url": "http://localhost:9/h", "events": ["loan.created"]})).await;
    let shown = sandbox.send("GET", &format!("{WEBHOOKS}/{id}"), None).await;
    assert_eq!(shown.body["data"]["attributes"]["environment"], "sandbox");
    let mismatch = production
        .send("POST", WEBHOOKS, Some(json!({"data": {"type": "webhooks", "attributes": {"url": "https://e.com", "events": ["*"], "environment": "sandbox"}}})))
        .await;
    assert_eq!(
        mismatch.errors(),
        vec![("environment_mismatch".to_string(), "/data/attributes/environment".to_string())]
    );
}

#[tokio::test]
async fn when_listing_in_id_order_unfiltered_should_page_through_reading_only_up_to_the_page() {
    let (_stack, client) = setup().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(client.create_webhook(hook(&format!("h{n}"))).await);
    }
    let page =
        async |number: u32| client.send("GET", &format!("{WEBHOOKS}?page[size]=2&page[number]={number}"), None).await;
    let ids_of = |reply: &hookline_tests::Reply| -> Vec<u64> {
        reply.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|d| d["attributes"]["id"].as_u64().expect("id"))
            .collect()
    };
    let second = page(2).await;
    assert_eq!(ids_of(&second), ids[2..4]);
    let links = &second.body["links"];
    assert!(links["next"].as_str().expect("a next page").contains("page[number]=3"), "{links}");
    assert!(links["prev"].as_str().expect("a previous page").contains("page[number]=1"));
    assert_eq!(links["last"], Value::Null, "not known without reading the rest");
    let third = page(3).await;
    assert_eq!((ids_of(&third), &third.body["links"]["next"]), (ids[4..].to_vec(), &Value::Null));
    assert!(ids_of(&page(4).await).is_empty(), "beyond the end: an empty page");
    let counted = client.send("GET", &format!("{WEBHOOKS}?page[size]=2&page[number]=2&count=true"), None).await;
    assert_eq!((ids_of(&counted), counted.body["meta"]["total"].as_u64()), (ids[2..4].to_vec(), Some(5)));
    assert!(counted.body["links"]["last"].as_str().expect("last with a count").contains("page[number]=3"));
}

#[tokio::test]
async fn when_listing_should_honour_page_sort_count_filter_and_fields() {
    let (_stack, client) = setup().await;
    for name in ["delta", "alpha", "charlie", "bravo", "echo"] {
        client.create_webhook(hook(name)).await;
    }
    client.create_webhook(json!({"name": "invoices", "url": "https://e.com/i", "events": ["INVOICE_CREATED"]})).await;

    let sorted =
        client.send("GET", &format!("{WEBHOOKS}?sort=-name&page[size]=2&page[number]=2&count=true"), None).await;
    assert_eq!(sorted.status, 200, "{:?}", sorted.body);
    let names: Vec<&str> = sorted.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["attributes"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["delta", "charlie"]);
    assert_eq!(sorted.body["meta"]["total"], 6);
    assert!(
        sorted.body["links"]["next"].as_str().expect("next").contains("page%5Bnumber%5D=3")
            || sorted.body["links"]["next"].as_str().expect("next").contains("page[number]=3")
    );
    assert!(sorted.body["links"]["prev"].is_string());

    let filtered = client.send("GET", &format!("{WEBHOOKS}?filter[events]=INVOICE_CREATED"), None).await;
    assert_eq!(filtered.body["data"].as_array().expect("data").len(), 1);
    assert_eq!(filtered.body["data"][0]["attributes"]["name"], "invoices");

    let sparse = client.send("GET", &format!("{WEBHOOKS}?fields[webhooks]=name,url&filter[name]=alpha"), None).await;
    let attributes = sparse.body["data"][0]["attributes"].as_object().expect("attributes");
    assert_eq!(attributes.keys().collect::<Vec<_>>(), ["name", "url"]);

    let default_page = client.send("GET", WEBHOOKS, None).await;
    assert_eq!(default_page.body["data"].as_array().expect("data").len(), 6);
    assert!(default_page.body.get("meta").is_none(), "count is opt-in");
    let first_id = default_page.body["data"][0]["attributes"]["id"].as_u64().expect("id");
    let last_id = default_page.body["data"][5]["attributes"]["id"].as_u64().expect("id");
    assert!(first_id < last_id, "the default order is by id");

    for (query, parameter) in [
        ("page[size]=1001", "page[size]"),
        ("page[number]=0", "page[number]"),
        ("sort=colour", "sort"),
        ("filter[colour]=red", "filter[colour]"),
        ("fields[users]=name", "fields[users]"),
        ("count=maybe", "count"),
    ] {
        let reply = client.send("GET", &format!("{WEBHOOKS}?{query}"), None).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.errors()[0].1, parameter, "{query}");
    }
}

#[tokio::test]
async fn when_patched_should_change_given_fields_and_stamp_updated_by() {
    let (_stack, client) = setup().await;
    let id = client.create_webhook(hook("before")).await;
    let reply = Client::reply(
        client
            .raw(reqwest::Method::PATCH, &format!("{WEBHOOKS}/{id}"))
            .header("content-type", "application/vnd.api+json")
            .header("hookline-external-client-id", "crm-42")
            .header("hookline-app", "backoffice")
            .body(json!({"data": {"type": "webhooks", "id": id.to_string(), "attributes": {"name": "after", "status": "disabled"}}}).to_string())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let attributes = &reply.body["data"]["attributes"];
    assert_eq!(attributes["name"], "after");
    assert_eq!(attributes["url"], "https://example.com/hooks");
    assert_eq!(attributes["status"], "disabled");
    assert_eq!(attributes["disabled_reason"], "manual");
    assert_eq!(attributes["updated_by"]["external_client_id"], "crm-42");
    assert_eq!(attributes["updated_by"]["app"], "backoffice");
    assert_eq!(attributes["created_by"]["app"], "tests");
    assert!(attributes["updated_at"].as_str() >= attributes["created_at"].as_str());
}

#[tokio::test]
async fn when_two_patches_race_should_keep_both_changes() {
    let (_stack, client) = setup().await;
    let id = client.create_webhook(hook("race")).await;
    let path = format!("{WEBHOOKS}/{id}");
    let rename = json!({"data": {"type": "webhooks", "attributes": {"name": "renamed"}}});
    let rescope = json!({"data": {"type": "webhooks", "attributes": {"scopes": {"offering_id": "o-1"}}}});
    let (a, b) = tokio::join!(client.send("PATCH", &path, Some(rename)), client.send("PATCH", &path, Some(rescope)));
    assert_eq!((a.status, b.status), (200, 200));
    let shown = client.send("GET", &path, None).await;
    assert_eq!(shown.body["data"]["attributes"]["name"], "renamed");
    assert_eq!(shown.body["data"]["attributes"]["scopes"]["offering_id"], "o-1");
}

#[tokio::test]
async fn when_deleted_should_answer_204_then_404() {
    let (_stack, client) = setup().await;
    let id = client.create_webhook(hook("gone")).await;
    let path = format!("{WEBHOOKS}/{id}");
    let deleted = client.send("DELETE", &path, None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(client.send("GET", &path, None).await.status, 404);
    assert_eq!(client.send("DELETE", &path, None).await.status, 404);
}

#[tokio::test]
async fn when_event_types_registered_should_appear_in_the_catalog_which_accounts_only_read() {
    let (stack, client) = setup().await;
    let catalog = client.send("GET", &format!("{WEBHOOKS}/events"), None).await;
    let names: Vec<&str> =
        catalog.body["data"].as_array().expect("data").iter().map(|d| d["id"].as_str().expect("id")).collect();
    for name in ["loan.created", "INVOICE_CREATED", "webhook.test", "webhook.disabled"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let document = json!({"data": {"type": "event_types", "attributes": {"name": "mine.only"}}});
    let create = client.send("POST", "/api/v3/notification/event_types", Some(document)).await;
    assert_eq!(create.status, 405, "accounts no longer register types: {:?}", create.body);
    let delete = client.send("DELETE", "/api/v3/notification/event_types/loan.created", None).await;
    assert_eq!(delete.status, 404, "nor remove them");

    let operator = stack.operator(&client.base).await;
    assert_eq!(operator.send("DELETE", "/api/v3/event_types/loan.created", None).await.status, 204);
    let refused =
        client.send("POST", WEBHOOKS, Some(json!({"data": {"type": "webhooks", "attributes": hook("late")}}))).await;
    assert_eq!(refused.errors(), vec![("unknown_event_type".to_string(), "/data/attributes/events/0".to_string())]);
}

#[tokio::test]
async fn when_path_or_method_is_unknown_should_answer_404_or_405() {
    let (_stack, client) = setup().await;
    assert_eq!(client.send("GET", &format!("{WEBHOOKS}/abc"), None).await.status, 404);
    assert_eq!(client.send("GET", &format!("{WEBHOOKS}/0"), None).await.status, 404);
    assert_eq!(client.send("PUT", WEBHOOKS, None).await.status, 405);
    assert_eq!(client.send("GET", "/api/v3/notification/nothing", None).await.status, 404);
}
