//! The sandbox process, started from the `hookline-transform` binary: programs compile once and
//! run; errors say where; a run that loops, allocates without end or nests too deeply ends as a
//! failure of that run, and the next run gets a fresh sandbox.

use hookline_domain::transformations::TransformFailure;
use hookline_transform::Sandbox;
use serde_json::json;
use std::time::{Duration, Instant};

fn sandbox() -> Sandbox {
    Sandbox::new(Some(env!("CARGO_BIN_EXE_hookline-transform").into()))
}

fn failed(outcome: Result<serde_json::Value, TransformFailure>) -> String {
    match outcome {
        Err(TransformFailure::Failed(why)) => why,
        other => panic!("expected a failed run, got {other:?}"),
    }
}

#[tokio::test]
async fn when_program_is_valid_should_answer_its_one_output() {
    let sandbox = sandbox();
    let program =
        r#"{body: {text: "Invoice \(.payload.id) paid", cents: (.payload.amount * 100)}, headers: {"X-Kind": .type}}"#;
    let input = json!({"type": "invoice.paid", "payload": {"id": "in_1", "amount": 12.5}});
    let output = sandbox.run(program, input.clone()).await.expect("sandbox").expect("output");
    assert_eq!(
        output,
        json!({"body": {"text": "Invoice in_1 paid", "cents": 1250.0}, "headers": {"X-Kind": "invoice.paid"}})
    );
    // The same program again, from the sandbox's compiled copy.
    assert_eq!(
        sandbox.run(program, input).await.expect("sandbox").expect("output")["body"]["text"],
        "Invoice in_1 paid"
    );
}

#[tokio::test]
async fn when_program_does_not_parse_should_say_where() {
    let sandbox = sandbox();
    let error = sandbox.check("{body:\n  .payload | }").await.expect("sandbox").expect_err("does not parse");
    assert_eq!((error.line, error.column), (2, 14), "{error}");
    let undefined = sandbox.check(".payload | frobnicate(1)").await.expect("sandbox").expect_err("undefined");
    assert!(undefined.message.contains("frobnicate/1"), "{undefined}");
    assert_eq!((undefined.line, undefined.column), (1, 12));
    assert!(sandbox.check("{body: .payload}").await.expect("sandbox").is_ok());
    match sandbox.run("{body: ", json!({})).await.expect("sandbox") {
        Err(TransformFailure::Program(error)) => assert_eq!(error.line, 1),
        other => panic!("expected a program error, got {other:?}"),
    }
}

#[tokio::test]
async fn when_program_fails_or_gives_not_one_output_should_say_why() {
    let sandbox = sandbox();
    assert!(failed(sandbox.run(r#"error("no invoice")"#, json!({})).await.expect("sandbox")).contains("no invoice"));
    assert!(failed(sandbox.run("empty", json!({})).await.expect("sandbox")).contains("no output"));
    assert!(failed(sandbox.run("1, 2", json!({})).await.expect("sandbox")).contains("more than one output"));
}

#[tokio::test]
async fn when_program_reads_the_environment_or_the_clock_should_fail() {
    let sandbox = sandbox();
    for program in ["env", "$ENV", "now", "input", "halt"] {
        let outcome = sandbox.run(program, json!({})).await.expect("sandbox");
        assert!(outcome.is_err(), "{program} answered {outcome:?}");
    }
}

#[tokio::test]
async fn when_program_runs_past_its_deadline_should_be_stopped_and_the_next_run_work() {
    let sandbox = sandbox();
    let started = Instant::now();
    let why = failed(sandbox.run("last(range(1; infinite))", json!({})).await.expect("sandbox"));
    assert!(why.contains("longer than"), "{why}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(sandbox.run("{body: 1}", json!({})).await.expect("sandbox").expect("output"), json!({"body": 1}));
}

#[tokio::test]
async fn when_program_exhausts_memory_or_stack_should_fail_that_run_only() {
    let sandbox = sandbox();
    let why = failed(sandbox.run(r#""x" * 1000000000 | length"#, json!({})).await.expect("sandbox"));
    assert!(why.contains("memory"), "{why}");
    let deep = format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000));
    let error = sandbox.check(&deep).await.expect("sandbox").expect_err("too deep");
    assert!(error.message.contains("could not be parsed"), "{error}");
    assert_eq!(sandbox.run("{body: .}", json!(7)).await.expect("sandbox").expect("output"), json!({"body": 7}));
}

#[tokio::test]
async fn when_sandbox_binary_is_missing_should_be_unavailable_not_a_program_failure() {
    let sandbox = Sandbox::new(Some("/nonexistent/hookline-transform".into()));
    let error = sandbox.run("{body: 1}", json!({})).await.expect_err("no sandbox");
    assert!(matches!(error, hookline_domain::Error::Unavailable(_)), "{error:?}");
}
