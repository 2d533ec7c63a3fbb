//! Every sample in `events/` is fed to its handler, so the samples stay valid.

use aws_lambda_events::event::sqs::SqsEvent;
use hookline_domain::model::Task;
use hookline_tests::Stack;
use lambda_http::Body;
use std::path::PathBuf;
use tower::ServiceExt;

fn samples() -> Vec<(String, String)> {
    let dir = hookline_tests::root().join("events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("events/ exists")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "events/ holds samples");
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("readable"))
        })
        .collect()
}

fn body_json(body: &Body) -> serde_json::Value {
    let text = match body {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8(bytes.clone()).expect("utf-8"),
        _ => String::new(),
    };
    serde_json::from_str(&text).expect("the body is JSON")
}

#[tokio::test]
async fn when_each_sample_is_invoked_should_reach_its_handler_and_answer() {
    let stack = Stack::new().await;
    let mut handled = 0;
    for (name, text) in samples() {
        let function = name.split('-').next().expect("prefix");
        match function {
            "api" | "ingest" => {
                let request = lambda_http::request::from_str(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
                // What `lambda_http::run` does with the function's router.
                let router = if function == "api" {
                    hookline_api::router(stack.context.clone()).expect("router")
                } else {
                    hookline_ingest::router(stack.context.clone())
                };
                let response = router.oneshot(request).await.unwrap_or_else(|never| match never {});
                let status = response.status().as_u16();
                assert_ne!(status, 500, "{name}");
                if name == "api-portal.json" {
                    // The portal's page, brotli-compressed for the browser that accepts it.
                    let headers = response.headers();
                    assert_eq!(
                        (status, &headers["content-type"], &headers["content-encoding"]),
                        (200, &"text/html; charset=utf-8".parse().expect("value"), &"br".parse().expect("value"))
                    );
                    handled += 1;
                    continue;
                }
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
                let document = body_json(&Body::Binary(bytes.to_vec()));
                if status >= 400 {
                    assert!(document["errors"][0]["status"].is_string(), "{name}: a JSON:API errors document");
                }
                if name == "api-health.json" {
                    assert_eq!(status, 200);
                }
                if function == "ingest" {
                    assert!(
                        hookline_ingest::serves(lambda_http::request::from_str(&text).expect("parses").uri().path()),
                        "{name}: API Gateway routes it to ingest"
                    );
                }
            }
            "deliver" => {
                let event: SqsEvent = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
                let ids: Vec<String> = event.records.iter().filter_map(|record| record.message_id.clone()).collect();
                assert!(!ids.is_empty(), "{name}: has records");
                if !name.contains("poison") {
                    for record in &event.records {
                        let body = record.body.as_deref().unwrap_or_default();
                        assert!(Task::from_body(body).is_ok(), "{name}: a task of this release: {body}");
                    }
                }
                let response = hookline_deliver::handle(&stack.deliverer(), event).await;
                for failure in &response.batch_item_failures {
                    assert!(ids.contains(&failure.item_identifier), "{name}: failures name records of the batch");
                }
                if name.contains("poison") {
                    assert_eq!(
                        response.batch_item_failures.len(),
                        ids.len(),
                        "{name}: undecodable tasks are never acknowledged"
                    );
                }
            }
            other => panic!("{name}: no function named {other}"),
        }
        handled += 1;
    }
    assert!(handled >= 3);
}
