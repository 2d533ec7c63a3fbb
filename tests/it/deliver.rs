//! The delivery engine against the local stack with real HTTP receivers on 127.0.0.1:
//! signatures checked by independent libraries, retries, timeouts, 410, 429, redirects,
//! refused connections, rotation, a crash mid-batch, the SSRF guard, and the API's actions.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hookline_domain::model::{DeliveryStatus, Environment, WebhookStatus};
use hookline_tests::receiver::{Answer, Receiver};
use hookline_tests::{Client, Stack};
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) const WEBHOOKS: &str = "/api/v3/notification/webhooks";

pub(crate) struct World {
    pub(crate) stack: Stack,
    pub(crate) client: Client,
    pub(crate) account: u64,
}

pub(crate) async fn world() -> World {
    let stack = Stack::new().await;
    let base = stack.serve().await;
    // Sandbox webhooks may use plain http, as the receivers on loopback do.
    let client = stack.client(&base, Environment::Sandbox).await;
    client.register_event_type("invoice.paid").await;
    let account = stack.context.store.find_api_key(&client.key).await.expect("key").expect("exists").account_id;
    World { stack, client, account }
}

impl World {
    pub(crate) async fn webhook(&self, url: &str, extra: Value) -> (u64, Value) {
        let mut attributes = json!({"url": url, "events": ["invoice.paid"]});
        for (key, value) in extra.as_object().expect("object") {
            attributes[key] = value.clone();
        }
        let reply = self
            .client
            .send("POST", WEBHOOKS, Some(json!({"data": {"type": "webhooks", "attributes": attributes}})))
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        let id = reply.body["data"]["id"].as_str().expect("id").parse().expect("integer");
        (id, reply.body["data"]["attributes"].clone())
    }

    pub(crate) async fn publish(&self, payload: Value) -> String {
        let reply = self.client.publish(json!({"event_type": "invoice.paid", "payload": payload}), None).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
        reply.body["data"]["id"].as_str().expect("message id").to_string()
    }

    pub(crate) async fn settle(&self, message: &str, webhook: u64, limit: Duration) -> Option<DeliveryStatus> {
        let deliverer = self.stack.deliverer();
        self.stack
            .drive_until(&deliverer, limit, || async {
                self.stack
                    .delivery_status(self.account, message, webhook)
                    .await
                    .is_some_and(|status| status != DeliveryStatus::Pending)
            })
            .await;
        self.stack.delivery_status(self.account, message, webhook).await
    }

    pub(crate) async fn attempts(&self, path: &str) -> Vec<Value> {
        let reply = self.client.send("GET", path, None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["data"].as_array().expect("attempts").clone()
    }
}

#[tokio::test]
async fn when_endpoint_answers_2xx_should_deliver_once_signed_with_standard_webhooks() {
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let (hook, created) =
        world.webhook(&receiver.at("/hook"), json!({"headers": {"Authorization": "key-12345"}})).await;
    let secret = created["secret"].as_str().expect("secret").to_string();
    let message = world.publish(json!({"invoice": "inv_1", "amount": 42})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, "/hook");
    assert_eq!(
        serde_json::from_slice::<Value>(&request.body).expect("json"),
        json!({"invoice": "inv_1", "amount": 42})
    );
    assert_eq!(request.headers["content-type"], "application/json");
    assert!(request.headers["user-agent"].starts_with("Hookline/"));
    assert_eq!(request.headers["authorization"], "key-12345");
    assert_eq!(request.headers["webhook-id"], message);
    let verifier = standardwebhooks::Webhook::new(&secret).expect("secret");
    verifier.verify(&request.body, &request.header_map()).expect("the official library verifies the signature");
    let tampered = [request.body.as_slice(), b" "].concat();
    assert!(verifier.verify(&tampered, &request.header_map()).is_err());

    let attempts = world.attempts(&format!("{WEBHOOKS}/{hook}/attempts")).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["attributes"]["status"], "success");
    assert_eq!(attempts[0]["attributes"]["status_code"], 200);
    let shown = world.client.send("GET", &format!("/api/v3/notification/messages/{message}"), None).await;
    assert_eq!(shown.body["included"][0]["attributes"]["status"], "succeeded");
}

#[tokio::test]
async fn when_endpoint_fails_once_should_retry_and_succeed_with_the_same_webhook_id() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(500)]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({"retry_schedule": [1, 1]})).await;
    let message = world.publish(json!({"n": 1})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(30)).await, Some(DeliveryStatus::Succeeded));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].headers["webhook-id"], requests[1].headers["webhook-id"], "receivers can deduplicate");
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(800), "the retry waited its step");
    let attempts = world.attempts(&format!("/api/v3/notification/messages/{message}/attempts")).await;
    let statuses: Vec<&str> = attempts.iter().map(|a| a["attributes"]["status"].as_str().expect("status")).collect();
    assert_eq!(statuses, ["http_error", "success"]);
    assert_eq!(attempts[0]["attributes"]["response_body"], "answer 500");
    let failures = world.attempts(&format!("{WEBHOOKS}/{hook}/attempts?filter[status]=http_error")).await;
    assert_eq!(failures.len(), 1);
}

#[tokio::test]
async fn when_every_try_fails_should_end_failed_and_visible() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(503), Answer::status(500), Answer::status(502)]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({"retry_schedule": [1, 1]})).await;
    let message = world.publish(json!({})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(30)).await, Some(DeliveryStatus::Failed));
    assert_eq!(receiver.requests().len(), 3, "the first try and two retries");
    let shown = world.client.send("GET", &format!("/api/v3/notification/messages/{message}"), None).await;
    assert_eq!(shown.body["included"][0]["attributes"]["status"], "failed");
    assert_eq!(shown.body["included"][0]["attributes"]["attempts"], 3);
    let failed = world.client.send("GET", "/api/v3/notification/messages?filter[status]=failed", None).await;
    let ids: Vec<&str> =
        failed.body["data"].as_array().expect("data").iter().map(|m| m["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [message.as_str()]);
    let succeeded = world.client.send("GET", "/api/v3/notification/messages?filter[status]=succeeded", None).await;
    assert_eq!(succeeded.body["data"], json!([]));
    let bad = world.client.send("GET", "/api/v3/notification/messages?filter[status]=lost", None).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn when_endpoint_is_too_slow_should_record_a_timeout() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(200).after(Duration::from_secs(4))]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({"timeout_seconds": 1, "retry_schedule": []})).await;
    let message = world.publish(json!({})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Failed));
    let attempts = world.attempts(&format!("{WEBHOOKS}/{hook}/attempts")).await;
    assert_eq!(attempts[0]["attributes"]["status"], "timeout");
    assert!(attempts[0]["attributes"]["latency_ms"].as_u64().expect("ms") < 3000);
}

#[tokio::test]
async fn when_endpoint_answers_410_should_disable_the_webhook_and_tell_the_account() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(410)]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({})).await;
    let watcher = Receiver::start(vec![]).await;
    let (watch, _) = world.webhook(&watcher.url, json!({"events": ["webhook.disabled"]})).await;
    let message = world.publish(json!({})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Failed));
    let shown = world.client.send("GET", &format!("{WEBHOOKS}/{hook}"), None).await;
    assert_eq!(shown.body["data"]["attributes"]["status"], "disabled");
    assert_eq!(shown.body["data"]["attributes"]["disabled_reason"], "endpoint_gone");
    let deliverer = world.stack.deliverer();
    let told =
        world.stack.drive_until(&deliverer, Duration::from_secs(20), || async { !watcher.requests().is_empty() });
    assert!(told.await, "the watcher was told");
    let log = world.client.send("GET", "/api/v3/notification/messages?filter[event_type]=webhook.disabled", None).await;
    let notice = log.body["data"][0]["id"].as_str().expect("a webhook.disabled message").to_string();
    assert_eq!(watcher.requests()[0].headers["webhook-id"], notice);
    assert_eq!(world.settle(&notice, watch, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));
    let told: Value = serde_json::from_slice(&watcher.requests()[0].body).expect("json");
    assert_eq!(told["webhook_id"], hook);
    assert_eq!(told["reason"], "endpoint_gone");
    let next = world.publish(json!({})).await;
    assert_eq!(
        world.stack.delivery_status(world.account, &next, hook).await,
        None,
        "a disabled webhook matches nothing"
    );
}

#[tokio::test]
async fn when_endpoint_answers_429_with_retry_after_should_wait_that_long() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(429).header("retry-after", "3")]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({"retry_schedule": [1]})).await;
    let message = world.publish(json!({})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(30)).await, Some(DeliveryStatus::Succeeded));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].at - requests[0].at >= Duration::from_millis(2500),
        "waited {:?}",
        requests[1].at - requests[0].at
    );
    let attempts = world.attempts(&format!("{WEBHOOKS}/{hook}/attempts?filter[status]=http_error")).await;
    assert_eq!(attempts[0]["attributes"]["response_headers"]["retry-after"], "3");
}

#[tokio::test]
async fn when_endpoint_redirects_should_not_follow_and_count_a_failure() {
    let world = world().await;
    let target = Receiver::start(vec![]).await;
    let receiver = Receiver::start(vec![Answer::status(302).header("location", &target.url)]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({"retry_schedule": []})).await;
    let message = world.publish(json!({})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Failed));
    assert!(target.requests().is_empty(), "the redirect was not followed");
    let attempts = world.attempts(&format!("{WEBHOOKS}/{hook}/attempts")).await;
    assert_eq!(attempts[0]["attributes"]["status_code"], 302);
}

#[tokio::test]
async fn when_connection_is_refused_should_record_it_and_retry() {
    let world = world().await;
    let port = hookline_local_runner::emulator::free_port();
    let (hook, _) = world.webhook(&format!("http://127.0.0.1:{port}/"), json!({"retry_schedule": [1]})).await;
    let message = world.publish(json!({})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Failed));
    let attempts = world.attempts(&format!("{WEBHOOKS}/{hook}/attempts")).await;
    assert_eq!(attempts.len(), 2, "tried, then retried once");
    assert!(attempts.iter().all(|a| a["attributes"]["status"] == "connection_error"));
}

#[tokio::test]
async fn when_webhook_signs_with_ed25519_should_verify_with_its_public_key() {
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let (hook, created) = world.webhook(&receiver.url, json!({"signature_algo": "ed25519"})).await;
    let public = created["public_key"].as_str().expect("whpk_ key").strip_prefix("whpk_").expect("prefix").to_string();
    let message = world.publish(json!({"k": "v"})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));
    let request = &receiver.requests()[0];
    let key_bytes: [u8; 32] = STANDARD.decode(public).expect("base64").try_into().expect("32 bytes");
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key_bytes).expect("key");
    let signature = request.headers["webhook-signature"].strip_prefix("v1a,").expect("v1a");
    let signature =
        ed25519_dalek::Signature::from_slice(&STANDARD.decode(signature).expect("base64")).expect("signature");
    let signed = format!(
        "{}.{}.{}",
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        String::from_utf8(request.body.clone()).expect("utf-8")
    );
    key.verify_strict(signed.as_bytes(), &signature).expect("verified with the public key");
}

#[tokio::test]
async fn when_webhook_signs_with_jwt_should_verify_with_a_mainstream_jwt_library() {
    #[derive(serde::Deserialize)]
    struct Claims {
        jti: String,
        body_sha256: String,
    }
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let (hook, created) = world.webhook(&receiver.url, json!({"signature_algo": "jwt"})).await;
    let secret = STANDARD
        .decode(created["secret"].as_str().expect("secret").strip_prefix("whsec_").expect("prefix"))
        .expect("b64");
    let message = world.publish(json!({"k": "v"})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));
    let request = &receiver.requests()[0];
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["hookline"]);
    let token = jsonwebtoken::decode::<Claims>(
        &request.headers["webhook-jwt"],
        &jsonwebtoken::DecodingKey::from_secret(&secret),
        &validation,
    )
    .expect("jsonwebtoken verifies it");
    assert_eq!(token.claims.jti, message);
    use sha2::Digest;
    assert_eq!(token.claims.body_sha256, URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&request.body)));
}

#[tokio::test]
async fn when_secret_rotated_should_sign_with_both_during_the_overlap() {
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let (hook, created) = world.webhook(&receiver.url, json!({})).await;
    let old = created["secret"].as_str().expect("secret").to_string();
    let rotated = world.client.send("POST", &format!("{WEBHOOKS}/{hook}/rotate_secret"), None).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new = rotated.body["data"]["attributes"]["secret"].as_str().expect("new secret").to_string();
    assert_ne!(new, old);
    assert!(rotated.body["data"]["attributes"]["previous_valid_until"].is_string());
    let message = world.publish(json!({})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));
    let request = &receiver.requests()[0];
    assert_eq!(request.headers["webhook-signature"].split(' ').count(), 2, "both signatures, space-separated");
    for secret in [&old, &new] {
        standardwebhooks::Webhook::new(secret)
            .expect("secret")
            .verify(&request.body, &request.header_map())
            .expect("verifies");
    }
    let revealed = world.client.send("GET", &format!("{WEBHOOKS}/{hook}/secret"), None).await;
    assert_eq!(revealed.body["data"]["attributes"]["secret"], new.as_str());
}

#[tokio::test]
async fn when_target_is_private_and_not_allowed_should_refuse_without_connecting() {
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({})).await;
    let localhost = world.webhook(&receiver.url.replace("127.0.0.1", "localhost"), json!({})).await.0;
    let message = world.publish(json!({})).await;
    let mut settings = world.stack.context.settings.clone();
    settings.allowed_target_cidrs = String::new();
    let guarded =
        hookline_deliver::deliverer(&hookline_aws::Context::new(settings, &world.stack.sdk)).expect("deliverer");
    world
        .stack
        .drive_until(&guarded, Duration::from_secs(15), || async {
            for webhook in [hook, localhost] {
                let status = world.stack.delivery_status(world.account, &message, webhook).await;
                if !status.is_some_and(|status| status != DeliveryStatus::Pending) {
                    return false;
                }
            }
            true
        })
        .await;
    assert_eq!(world.stack.delivery_status(world.account, &message, hook).await, Some(DeliveryStatus::Refused));
    assert_eq!(
        world.stack.delivery_status(world.account, &message, localhost).await,
        Some(DeliveryStatus::Refused),
        "checked on the resolved address"
    );
    assert!(receiver.requests().is_empty());
    assert!(world.stack.drain_tasks().await.is_empty(), "a refused delivery is not retried");
}

#[tokio::test]
async fn when_handler_crashes_mid_batch_should_lose_nothing() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(200).after(Duration::from_millis(500)); 10]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({})).await;
    let mut published = Vec::new();
    for n in 0..20 {
        published.push(world.publish(json!({"n": n})).await);
    }
    let deliverer = world.stack.deliverer();
    let queue = &world.stack.context.queue;
    let batch = queue.receive(10, Duration::from_secs(1)).await.expect("receive");
    assert!(!batch.is_empty());
    let handles: Vec<String> = batch.iter().map(|m| m.receipt_handle.clone()).collect();
    let crashed = tokio::time::timeout(
        Duration::from_millis(200),
        hookline_local_runner::runner::run_batch(&deliverer, "arn:aws:sqs:us-east-1:123456789012:q", batch),
    )
    .await;
    assert!(crashed.is_err(), "the handler was stopped mid-batch");
    // Its messages were not deleted: after their visibility timeout they come back.
    for handle in &handles {
        queue.change_visibility(handle, Duration::ZERO).await.expect("visibility");
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let settled = world
        .stack
        .drive_until(&deliverer, Duration::from_secs(60), || async {
            for message in &published {
                let status = world.stack.delivery_status(world.account, message, hook).await;
                if !status.is_some_and(|status| status != DeliveryStatus::Pending) {
                    return false;
                }
            }
            true
        })
        .await;
    assert!(settled, "every delivery settled");
    let mut delivered = 0;
    let mut failed = 0;
    for message in &published {
        match world.stack.delivery_status(world.account, message, hook).await {
            Some(DeliveryStatus::Succeeded) => delivered += 1,
            Some(DeliveryStatus::Failed) => failed += 1,
            other => panic!("{message}: {other:?}"),
        }
    }
    assert_eq!(published.len(), delivered + failed, "published = delivered + failed");
    let seen: std::collections::BTreeSet<String> =
        receiver.requests().iter().map(|r| r.headers["webhook-id"].clone()).collect();
    assert_eq!(seen.len(), published.len(), "the receiver saw every message (at least once)");
}

#[tokio::test]
async fn when_failed_delivery_retried_or_recovered_through_the_api_should_send_again() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(500), Answer::status(500)]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({"retry_schedule": []})).await;
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let first = world.publish(json!({"n": 1})).await;
    let second = world.publish(json!({"n": 2})).await;
    assert_eq!(world.settle(&first, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Failed));
    assert_eq!(world.settle(&second, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Failed));

    let retried = world.client.send("POST", &format!("/api/v3/notification/messages/{first}/retry"), None).await;
    assert_eq!(retried.status, 202, "{:?}", retried.body);
    assert_eq!(retried.body["data"]["attributes"]["enqueued"], 1);
    assert_eq!(world.settle(&first, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));

    let recovered = world
        .client
        .send("POST", &format!("{WEBHOOKS}/{hook}/recover"), Some(json!({"since": since.to_rfc3339()})))
        .await;
    assert_eq!(recovered.status, 202, "{:?}", recovered.body);
    assert_eq!(recovered.body["data"]["attributes"]["enqueued"], 1, "only the still-failed delivery");
    assert_eq!(world.settle(&second, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));
    assert_eq!(receiver.requests().len(), 4);

    let nothing = world.client.send("POST", &format!("/api/v3/notification/messages/{first}/retry"), None).await;
    assert_eq!(nothing.body["data"]["attributes"]["enqueued"], 0, "a succeeded delivery is not sent again");
    let bad =
        world.client.send("POST", &format!("{WEBHOOKS}/{hook}/recover"), Some(json!({"since": "last week"}))).await;
    assert_eq!(bad.status, 422);
}

#[tokio::test]
async fn when_test_send_requested_should_send_at_once_and_answer_success_and_message() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(200), Answer::status(500)]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({})).await;
    let ok = world.client.send("POST", &format!("{WEBHOOKS}/test/{hook}"), None).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["success"], true);
    assert!(ok.body["message"].as_str().expect("message").contains("200"));
    let request = &receiver.requests()[0];
    assert_eq!(serde_json::from_slice::<Value>(&request.body).expect("json")["type"], "webhook.test");
    let failed = world.client.send("POST", &format!("{WEBHOOKS}/test/{hook}"), None).await;
    assert_eq!(failed.body["success"], false);
    assert!(failed.body["message"].as_str().expect("message").contains("500"));
    let attempts = world.attempts(&format!("{WEBHOOKS}/{hook}/attempts")).await;
    assert_eq!(attempts.len(), 2, "test sends are in the log too");
}

#[tokio::test]
async fn when_webhook_failed_for_longer_than_the_window_should_be_disabled() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(500)]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({"retry_schedule": []})).await;
    let store = &world.stack.context.store;
    let mut webhook = store.get_webhook(world.account, hook).await.expect("read").expect("exists");
    webhook.failing_since = Some(chrono::Utc::now() - chrono::Duration::days(6));
    webhook.version += 1;
    store.update_webhook(&webhook).await.expect("backdated");
    let message = world.publish(json!({})).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Failed));
    let now = store.get_webhook(world.account, hook).await.expect("read").expect("exists");
    assert_eq!(now.status, WebhookStatus::Disabled);
    assert_eq!(serde_json::to_value(now.disabled_reason).expect("json"), json!("failing_too_long"));
}

#[tokio::test]
async fn when_webhook_deleted_with_deliveries_in_flight_should_cancel_them() {
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({})).await;
    let message = world.publish(json!({})).await;
    assert_eq!(world.client.send("DELETE", &format!("{WEBHOOKS}/{hook}"), None).await.status, 204);
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Cancelled));
    assert!(receiver.requests().is_empty());
}

#[tokio::test]
async fn when_wait_exceeds_sqs_delay_should_wait_again_on_arrival() {
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({})).await;
    let message = world.publish(json!({})).await;
    world.stack.drain_tasks().await;
    let later = chrono::Utc::now() + chrono::Duration::hours(3);
    let task = hookline_domain::model::DeliverTask {
        not_before: Some(later.timestamp()),
        ..hookline_domain::model::DeliverTask::retry(world.account, &message, hook, 2)
    };
    let tasks = [(hookline_domain::model::Task::Deliver(task), 1)];
    let handled = world.stack.deliverer().run_batch(&tasks).await;
    assert!(
        matches!(handled.as_slice(), [Ok(hookline_core::Handled::Skipped(hookline_core::Skip::NotDueYet))]),
        "{handled:?}"
    );
    assert!(receiver.requests().is_empty());
    assert_eq!(
        world.stack.context.queue.depth().await.expect("depth"),
        hookline_aws::Depth { visible: 0, in_flight: 0, delayed: 1 },
        "re-enqueued once, with SQS's delay (hidden until then)"
    );
}

#[tokio::test]
async fn when_payload_is_at_the_size_limit_should_travel_in_its_task_and_be_delivered_and_logged() {
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let (hook, _) = world.webhook(&receiver.url, json!({})).await;
    let limit = hookline_domain::events::MAX_PAYLOAD_BYTES;
    let payload = json!({"blob": "x".repeat(limit - 20)});
    assert!(payload.to_string().len() <= limit);
    let message = world.publish(payload.clone()).await;
    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));
    let received: Value = serde_json::from_slice(&receiver.requests()[0].body).expect("json");
    assert_eq!(received, payload);
    let shown = world.client.send("GET", &format!("/api/v3/notification/messages/{message}"), None).await;
    assert_eq!(shown.body["data"]["attributes"]["payload"], payload, "the log keeps it for replay");
}
