//! Erasure through the API, the queue and the worker: nothing of an erased payload stays
//! readable through any route, queued deliveries of erased messages are not sent, and other
//! messages keep theirs.

use crate::deliver::{WEBHOOKS, world};
use hookline_domain::model::DeliveryStatus;
use hookline_tests::receiver::{Answer, Receiver};
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "Ada-Lovelace-1815";
const ECHO: &str = "your invoice, echoed";

#[tokio::test]
async fn when_a_subject_is_erased_should_leave_nothing_of_its_payloads_readable_and_send_none_of_them() {
    let world = world().await;
    let ok = Receiver::start(Vec::new()).await;
    // The failing endpoint answers with a body (which could echo the payload): the log keeps it.
    let failing = Receiver::start(vec![Answer::status(500).body(ECHO); 50]).await;
    let (good, _) = world.webhook(&ok.at("/ok"), json!({})).await;
    let (bad, _) = world.webhook(&failing.at("/bad"), json!({"retry_schedule": [3600]})).await;
    let client = &world.client;
    let publish = |subject: &'static str, payload: Value| async move {
        let event = json!({"event_type": "invoice.paid", "payload": payload, "subject": subject});
        let reply = client.publish(event, None).await;
        assert_eq!(reply.status, 202, "{:?}", reply.body);
        reply.body["data"]["id"].as_str().expect("id").to_string()
    };
    let mut about = Vec::new();
    for n in 0..3 {
        about.push(publish("customer_42", json!({"name": SECRET, "n": n})).await);
    }
    let kept = publish("customer_43", json!({"name": "Grace", "n": 9})).await;
    for message in about.iter().chain([&kept]) {
        assert_eq!(world.settle(message, good, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));
    }
    let delivered = world.stack.deliverer();
    let pending = || async {
        let mut all = true;
        for message in about.iter().chain([&kept]) {
            all &= world.stack.delivery_status(world.account, message, bad).await == Some(DeliveryStatus::Pending);
        }
        all
    };
    assert!(world.stack.drive_until(&delivered, Duration::from_secs(20), pending).await, "first attempts recorded");
    // One more about the subject, still in the queue when the erasure comes.
    let queued = publish("customer_42", json!({"name": SECRET, "n": 3})).await;
    about.push(queued.clone());
    let sent_before = ok.requests().len() + failing.requests().len();

    let operator = world.client.with_key(&world.client.platform.clone().expect("platform").key().await);
    let uid = world.account.to_string();
    let started = operator
        .send(
            "POST",
            &format!("/api/v3/accounts/{uid}/erasures"),
            Some(json!({"data": {"type": "erasures", "attributes": {"subject": "customer_42"}}})),
        )
        .await;
    assert_eq!(started.status, 202, "{:?}", started.body);
    assert_eq!(started.body["data"]["attributes"]["status"], "running");
    assert!(!started.body.to_string().contains("customer_42"), "the subject is not kept");
    let job = started.body["data"]["links"]["self"].as_str().expect("link").to_string();
    let done = || async { operator.send("GET", &job, None).await.body["data"]["attributes"]["status"] == "done" };
    assert!(world.stack.drive_until(&delivered, Duration::from_secs(30), done).await, "the erasure ends");
    let finished = operator.send("GET", &job, None).await;
    assert_eq!(finished.body["data"]["attributes"]["erased"], 4, "{:?}", finished.body);

    // Nothing about the subject was sent after the erasure began.
    let after: Vec<_> = ok.requests().into_iter().chain(failing.requests()).skip(sent_before).collect();
    assert!(after.iter().all(|request| !String::from_utf8_lossy(&request.body).contains(SECRET)), "{after:?}");
    assert!(ok.requests().iter().all(|request| !String::from_utf8_lossy(&request.body).contains("\"n\":3")));
    // Nothing of it is readable through any route.
    let mut routes: Vec<String> = vec![
        "/api/v3/notification/messages".into(),
        format!("{WEBHOOKS}/{good}/attempts"),
        format!("{WEBHOOKS}/{bad}/attempts"),
        format!("{WEBHOOKS}/{bad}/stats"),
        "/api/v3/notification/stats".into(),
    ];
    for message in &about {
        routes.push(format!("/api/v3/notification/messages/{message}"));
        routes.push(format!("/api/v3/notification/messages/{message}/attempts"));
    }
    for route in &routes {
        let reply = world.client.send("GET", route, None).await;
        let text = reply.body.to_string();
        assert!(!text.contains(SECRET) && !text.contains("customer_42"), "{route} shows it: {text}");
    }
    for message in &about {
        let shown = world.client.send("GET", &format!("/api/v3/notification/messages/{message}"), None).await;
        assert_eq!(shown.status, 200, "{message} keeps its metadata: {:?}", shown.body);
        let attributes = &shown.body["data"]["attributes"];
        assert_eq!((attributes["payload"].clone(), attributes["subject"].clone()), (Value::Null, Value::Null));
        assert!(attributes["payload_erased_at"].is_string());
    }
    let attempts = world.attempts(&format!("/api/v3/notification/messages/{}/attempts", about[0])).await;
    assert!(attempts.iter().any(|attempt| attempt["attributes"]["status_code"] == 500), "attempts stay: {attempts:?}");
    assert!(attempts.iter().all(|attempt| attempt["attributes"]["response_body"] == ""), "{attempts:?}");
    let kept_attempts = world.attempts(&format!("/api/v3/notification/messages/{kept}/attempts")).await;
    assert!(kept_attempts.iter().any(|attempt| attempt["attributes"]["response_body"] == ECHO), "{kept_attempts:?}");
    let queued_entries = world.client.send("GET", &format!("/api/v3/notification/messages/{queued}"), None).await;
    let statuses: Vec<&Value> = queued_entries.body["included"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|delivery| &delivery["attributes"]["status"])
        .collect();
    assert!(statuses.iter().all(|status| *status == "cancelled"), "the queued deliveries were cancelled: {statuses:?}");
    // The other subject's message keeps its payload.
    let other = world.client.send("GET", &format!("/api/v3/notification/messages/{kept}"), None).await;
    assert_eq!(other.body["data"]["attributes"]["payload"]["name"], "Grace");
    assert_eq!(other.body["data"]["attributes"]["subject"], "customer_43");
}

#[tokio::test]
async fn when_a_message_payload_is_deleted_should_erase_it_for_its_account_only() {
    let world = world().await;
    let receiver = Receiver::start(vec![Answer::status(500).body(format!("got {SECRET}"))]).await;
    let (hook, _) = world.webhook(&receiver.at("/h"), json!({"retry_schedule": [1]})).await;
    let message = world.publish(json!({"name": SECRET})).await;
    let delivered = world.stack.deliverer();
    let attempted = || async { world.stack.delivery_status(world.account, &message, hook).await.is_some() };
    assert!(world.stack.drive_until(&delivered, Duration::from_secs(20), attempted).await);
    let path = format!("/api/v3/notification/messages/{message}/payload");

    // Another account's erasure names its own messages only: this one keeps its payload.
    let stranger = world.stack.client(&world.client.base, hookline_domain::model::Environment::Sandbox).await;
    stranger.send("DELETE", &path, None).await;
    let untouched = world.client.send("GET", &format!("/api/v3/notification/messages/{message}"), None).await;
    assert_eq!(untouched.body["data"]["attributes"]["payload"]["name"], SECRET);
    assert_eq!(world.client.send("DELETE", "/api/v3/notification/messages/msg_0/payload", None).await.status, 404);
    let old = "msg_00000000000070008000000000000000";
    assert_eq!(
        world.client.send("DELETE", &format!("/api/v3/notification/messages/{old}/payload"), None).await.status,
        404,
        "an id older than the queue keeps anything"
    );
    let deleted = world.client.send("DELETE", &path, None).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);

    // Its retry (due in a second) is not sent: the delivery was cancelled; the sweep runs.
    let before = receiver.requests().len();
    let sweep = || async { false };
    world.stack.drive_until(&delivered, Duration::from_secs(4), sweep).await;
    assert_eq!(receiver.requests().len(), before, "no retry of an erased message");
    for route in [
        format!("/api/v3/notification/messages/{message}"),
        format!("/api/v3/notification/messages/{message}/attempts"),
        format!("{WEBHOOKS}/{hook}/attempts"),
    ] {
        let text = world.client.send("GET", &route, None).await.body.to_string();
        assert!(!text.contains(SECRET), "{route}: {text}");
    }
    let shown = world.client.send("GET", &format!("/api/v3/notification/messages/{message}"), None).await;
    assert_eq!(shown.body["included"][0]["attributes"]["status"], "cancelled");
    assert_eq!(world.client.send("DELETE", &path, None).await.status, 204, "erasing again is harmless");
}
