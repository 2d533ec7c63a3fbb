//! Transformations through the API and the delivery engine: programs checked where they are
//! written, the test route, and deliveries whose body is the program's output, signed.

use crate::deliver::{WEBHOOKS, World, world};
use hookline_domain::model::DeliveryStatus;
use hookline_tests::receiver::Receiver;
use serde_json::{Value, json};
use std::time::Duration;

fn problem(reply: &hookline_tests::Reply) -> (String, String, String) {
    let error = &reply.body["errors"][0];
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    (text(&error["source"]["pointer"]), text(&error["code"]), text(&error["detail"]))
}

impl World {
    async fn test_transformation(&self, webhook: u64, attributes: Value) -> hookline_tests::Reply {
        let document = json!({"data": {"type": "transformation_tests", "attributes": attributes}});
        self.client.send("POST", &format!("{WEBHOOKS}/{webhook}/transformation/test"), Some(document)).await
    }
}

#[tokio::test]
async fn when_a_program_is_written_should_refuse_one_that_does_not_parse_with_its_position() {
    let world = world().await;
    let create = |program: &str| json!({"data": {"type": "webhooks", "attributes": {"url": "http://127.0.0.1:9/h", "events": ["invoice.paid"], "transformation": program}}});
    let refused = world.client.send("POST", WEBHOOKS, Some(create("{body:\n  .payload | }"))).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    let (pointer, code, detail) = problem(&refused);
    assert_eq!((pointer.as_str(), code.as_str()), ("/data/attributes/transformation", "invalid_transformation"));
    assert!(detail.starts_with("line 2, column 14: expected term"), "{detail}");
    let nested = format!("{}1{}", "[".repeat(20_000), "]".repeat(20_000));
    let deep = world.client.send("POST", WEBHOOKS, Some(create(&nested))).await;
    assert_eq!((deep.status, problem(&deep).1.as_str()), (422, "invalid_transformation"), "{:?}", deep.body);
    let undefined = world.client.send("POST", WEBHOOKS, Some(create("{body: env}"))).await;
    assert_eq!(undefined.status, 201, "env is defined, and fails when run: {:?}", undefined.body);

    let (id, created) = world.webhook("http://127.0.0.1:9/h", json!({"transformation": "{body: .payload}"})).await;
    assert_eq!(created["transformation"], "{body: .payload}");
    let path = format!("{WEBHOOKS}/{id}");
    let patch = |program: Value| json!({"data": {"type": "webhooks", "id": id.to_string(), "attributes": {"transformation": program}}});
    let bad = world.client.send("PATCH", &path, Some(patch(json!("{body: .payload")))).await;
    assert_eq!((bad.status, problem(&bad).0.as_str()), (422, "/data/attributes/transformation"));
    let empty = world.client.send("PATCH", &path, Some(patch(json!("  ")))).await;
    assert_eq!((empty.status, problem(&empty).1.as_str()), (422, "invalid_transformation"));
    let unchanged = world.client.send("GET", &path, None).await;
    assert_eq!(unchanged.body["data"]["attributes"]["transformation"], "{body: .payload}");
    let removed = world.client.send("PATCH", &path, Some(patch(Value::Null))).await;
    assert_eq!(removed.status, 200);
    assert_eq!(removed.body["data"]["attributes"]["transformation"], Value::Null);
}

#[tokio::test]
async fn when_a_transformation_is_tested_should_answer_its_output_or_its_error() {
    let world = world().await;
    let platform = world.client.platform.clone().expect("the platform's key");
    let operator = world.client.with_key(&platform.key().await);
    let example = json!({"id": "in_9", "amount": 12});
    let registered = operator
        .send(
            "POST",
            "/api/v3/event_types",
            Some(json!({"data": {"type": "event_types", "attributes": {"name": "invoice.sent", "description": "sent", "example": example}}})),
        )
        .await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let program = r#"{body: {text: "Invoice \(.payload.id): \(.payload.amount)"}, headers: {"X-Event": .type}}"#;
    let (id, _) = world
        .webhook(
            "http://127.0.0.1:9/h",
            json!({"events": ["invoice.sent", "invoice.paid"], "transformation": program, "headers": {"X-Team": "billing"}}),
        )
        .await;

    // The webhook's own program on its first type's example.
    let saved = world.test_transformation(id, json!({})).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let attributes = &saved.body["data"]["attributes"];
    assert_eq!(attributes["status"], "ok");
    assert_eq!(attributes["body"], json!({"text": "Invoice in_9: 12"}));
    assert_eq!(attributes["headers"], json!({"X-Event": "invoice.sent"}));
    assert_eq!(attributes["input"]["payload"], example);
    assert_eq!(attributes["input"]["headers"], json!({"X-Team": "billing"}));

    // A program and a payload given.
    let given = world
        .test_transformation(
            id,
            json!({"transformation": "{body: [.payload.n, .type]}", "event_type": "invoice.paid", "payload": {"n": 3}}),
        )
        .await;
    assert_eq!(given.body["data"]["attributes"]["body"], json!([3, "invoice.paid"]), "{:?}", given.body);

    // Failing at run time: an answer, not a refusal.
    for failing in [r#"error("no amount")"#, ".payload", "{body: now}"] {
        let failed = world.test_transformation(id, json!({"transformation": failing})).await;
        assert_eq!(failed.status, 200, "{failing}: {:?}", failed.body);
        assert_eq!(failed.body["data"]["attributes"]["status"], "transformation_error", "{failing}");
        assert!(failed.body["data"]["attributes"]["error"].as_str().is_some_and(|error| !error.is_empty()));
        assert!(failed.body["data"]["attributes"].get("body").is_none());
    }
    let looping = world.test_transformation(id, json!({"transformation": "last(range(1; infinite))"})).await;
    assert!(looping.body["data"]["attributes"]["error"].as_str().unwrap_or_default().contains("longer than"));

    // Refusals, each at its member.
    for (attributes, pointer) in [
        (json!({"transformation": "{body: "}), "/data/attributes/transformation"),
        (json!({"payload": [1, 2]}), "/data/attributes/payload"),
        (json!({"event_type": "no.such.type"}), "/data/attributes/event_type"),
        (json!({"sample": {}}), "/data/attributes/sample"),
    ] {
        let refused = world.test_transformation(id, attributes.clone()).await;
        assert_eq!((refused.status, problem(&refused).0.as_str()), (422, pointer), "{attributes}: {:?}", refused.body);
    }
    let (plain, _) = world.webhook("http://127.0.0.1:9/p", json!({})).await;
    let none = world.test_transformation(plain, json!({})).await;
    assert_eq!((none.status, problem(&none).1.as_str()), (422, "missing_transformation"));
    let stranger = world.stack.client(&world.client.base, hookline_domain::model::Environment::Sandbox).await;
    let hidden = stranger.send("POST", &format!("{WEBHOOKS}/{id}/transformation/test"), Some(json!({}))).await;
    assert_eq!(hidden.status, 404, "another account's webhook: {:?}", hidden.body);
}

#[tokio::test]
async fn when_a_webhook_has_a_transformation_should_receive_its_output_signed_and_failures_in_its_log() {
    let world = world().await;
    let receiver = Receiver::start(vec![]).await;
    let program = r#"{body: {text: "Paid \(.payload.invoice)", id: .id}, headers: {"X-Kind": "slack"}}"#;
    let (hook, created) = world.webhook(&receiver.at("/slack"), json!({"transformation": program})).await;
    let secret = created["secret"].as_str().expect("secret").to_string();
    let (broken, _) = world
        .webhook(
            &receiver.at("/broken"),
            json!({"transformation": r#"if .payload.amount > 10 then error("too much") else {body: .} end"#}),
        )
        .await;
    let message = world.publish(json!({"invoice": "inv_1", "amount": 42})).await;

    assert_eq!(world.settle(&message, hook, Duration::from_secs(20)).await, Some(DeliveryStatus::Succeeded));
    assert_eq!(world.settle(&message, broken, Duration::from_secs(20)).await, Some(DeliveryStatus::Failed));
    let requests = receiver.requests();
    assert!(requests.iter().all(|request| request.path == "/slack"), "nothing sent to the broken one");
    let [request] = requests.as_slice() else { panic!("one delivery: {}", requests.len()) };
    assert_eq!(
        serde_json::from_slice::<Value>(&request.body).expect("json"),
        json!({"text": "Paid inv_1", "id": message})
    );
    assert_eq!(request.headers["x-kind"], "slack");
    let verifier = standardwebhooks::Webhook::new(&secret).expect("secret");
    verifier.verify(&request.body, &request.header_map()).expect("the signature covers the transformed body");

    let attempts = world.attempts(&format!("{WEBHOOKS}/{broken}/attempts")).await;
    assert_eq!(attempts.len(), 1, "not retried: {attempts:?}");
    assert_eq!(attempts[0]["attributes"]["status"], "transformation_error");
    assert!(
        attempts[0]["attributes"]["response_body"].as_str().unwrap_or_default().contains("too much"),
        "{attempts:?}"
    );
    let filtered = world.attempts(&format!("{WEBHOOKS}/{broken}/attempts?filter[status]=transformation_error")).await;
    assert_eq!(filtered.len(), 1);
}
