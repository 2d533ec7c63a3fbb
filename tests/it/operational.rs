//! Operational events over HTTP on the local emulators: what happens to accounts, webhooks and
//! deliveries reaches the platform's own webhook, signed (verified with the official
//! `standardwebhooks` library), through the same pipeline as any event.

use hookline_tests::Stack;
use hookline_tests::receiver::{Answer, Receiver};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test]
async fn when_accounts_webhooks_and_deliveries_change_should_tell_the_platform_signed() {
    let mut stack = Stack::new().await;
    // The receivers are plain http on loopback; the operator key is a production key.
    stack.context.settings.allow_http_webhooks = true;
    let base = stack.serve().await;
    let operator = stack.operator(&base).await;
    let platform_inbox = Receiver::start(vec![]).await;
    let wanted = ["account.created", "webhook.created", "message.attempt.failing", "message.attempt.exhausted"];
    let platform = operator.acting_for("platform");
    let created = platform
        .send(
            "POST",
            "/api/v3/notification/webhooks",
            Some(json!({"data": {"type": "webhooks", "attributes": {"url": platform_inbox.at("/ops"), "events": wanted}}})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let secret = created.body["data"]["attributes"]["secret"].as_str().expect("secret").to_string();

    let onboarded = operator
        .send(
            "POST",
            "/api/v3/accounts",
            Some(json!({"data": {"type": "accounts", "attributes": {"uid": "cus_ops", "name": "Ops"}}})),
        )
        .await;
    assert_eq!(onboarded.status, 201);
    let customer = operator.acting_for("cus_ops");
    customer.register_event_type("invoice.paid").await;
    let failing = Receiver::start((0..5).map(|_| Answer::status(500)).collect()).await;
    let hook = customer
        .create_webhook(json!({"url": failing.at("/in"), "events": ["invoice.paid"], "retry_schedule": [1]}))
        .await;
    let published = customer.publish(json!({"event_type": "invoice.paid", "payload": {"n": 1}}), None).await;
    assert_eq!(published.status, 202);
    let message_id = published.body["data"]["id"].as_str().expect("id").to_string();

    let deliverer = stack.deliverer();
    let all_told = stack
        .drive_until(&deliverer, Duration::from_secs(30), || async { platform_inbox.requests().len() >= wanted.len() })
        .await;
    let requests = platform_inbox.requests();
    assert!(all_told, "the platform heard {} of {} events", requests.len(), wanted.len());

    let verifier = standardwebhooks::Webhook::new(&secret).expect("secret");
    let mut heard = BTreeSet::new();
    let mut types = BTreeSet::new();
    for request in &requests {
        verifier.verify(&request.body, &request.header_map()).expect("the official library verifies it");
        let payload: Value = serde_json::from_slice(&request.body).expect("JSON");
        assert_eq!(payload["account_uid"], "cus_ops", "{payload}");
        types.insert(payload["type"].as_str().expect("type").to_string());
        heard.insert(request.headers.get("webhook-id").cloned().unwrap_or_default());
        if let Some(told_message) = payload["message_id"].as_str() {
            assert_eq!((told_message, payload["webhook_id"].as_u64()), (message_id.as_str(), Some(hook)));
        }
    }
    assert_eq!(heard.len(), requests.len(), "each event once, its own message id");
    assert_eq!(types, wanted.iter().map(|name| name.to_string()).collect(), "{requests:?}");
}
