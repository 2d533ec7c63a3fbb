//! The guarded sender over real HTTP on 127.0.0.1: what a receiver gets and how its answers (2xx, 5xx,
//! redirects, huge bodies, none at all) and unreachable or forbidden targets are classified.

use hookline_core::ports::OutgoingRequest;
use hookline_domain::model::AttemptOutcome;
use hookline_outbound::guard::{Allowlist, Refusal};
use hookline_outbound::sender::{Sender, SenderConfig};
use hookline_tests::receiver::{Answer, Receiver};
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn sender(allowlist: &str) -> Sender {
    Sender::new(SenderConfig {
        allowlist: Allowlist::parse(allowlist).expect("allowlist"),
        user_agent: "Hookline/test".to_owned(),
        ..SenderConfig::default()
    })
    .expect("sender")
}

fn post(url: impl Into<String>) -> OutgoingRequest {
    OutgoingRequest {
        url: url.into(),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: br#"{"type":"user.created"}"#.to_vec(),
        timeout: Duration::from_secs(5),
    }
}

/// A port on 127.0.0.1 nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn when_receiver_answers_2xx_should_succeed_and_receive_body_and_headers() {
    let answer = Answer::status(200).header("content-type", "text/plain").header("x-internal", "secret").body("ok");
    let receiver = Receiver::start(vec![answer]).await;
    let mut request = post(receiver.at("/hooks/in?x=1"));
    request.headers.push(("webhook-id".to_owned(), "msg_1".to_owned()));
    request.headers.push(("webhook-signature".to_owned(), "v1,abc v1,def".to_owned()));

    let outcome = sender("127.0.0.0/8").send(&request).await;

    assert_eq!(outcome.outcome, AttemptOutcome::Success, "{outcome:?}");
    assert_eq!(outcome.status_code, Some(200));
    assert_eq!(outcome.response_body, "ok");
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.response_headers.get("content-type").map(String::as_str), Some("text/plain"));
    assert_eq!(outcome.response_headers.get("content-length").map(String::as_str), Some("2"));
    assert!(!outcome.response_headers.contains_key("x-internal"));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let received = &requests[0];
    assert_eq!(received.request_line, "POST /hooks/in?x=1 HTTP/1.1");
    assert_eq!(received.body, request.body);
    assert_eq!(received.headers.get("content-type").map(String::as_str), Some("application/json"));
    assert_eq!(received.headers.get("webhook-id").map(String::as_str), Some("msg_1"));
    assert_eq!(received.headers.get("webhook-signature").map(String::as_str), Some("v1,abc v1,def"));
    assert_eq!(received.headers.get("user-agent").map(String::as_str), Some("Hookline/test"));
}

#[tokio::test]
async fn when_caller_sets_user_agent_should_keep_it() {
    let receiver = Receiver::start(vec![Answer::status(204).body("")]).await;
    let mut request = post(receiver.at("/"));
    request.headers.push(("User-Agent".to_owned(), "Custom/1".to_owned()));

    let outcome = sender("127.0.0.0/8").send(&request).await;

    assert_eq!(outcome.outcome, AttemptOutcome::Success);
    assert_eq!(outcome.status_code, Some(204));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let received = &requests[0];
    assert_eq!(received.all_headers.iter().filter(|(name, _)| name == "user-agent").count(), 1);
    assert_eq!(received.headers.get("user-agent").map(String::as_str), Some("Custom/1"));
}

#[tokio::test]
async fn when_receiver_answers_500_should_be_http_error_with_status_and_body() {
    let answer = Answer::status(500).header("retry-after", "30").body("internal boom, details follow");
    let receiver = Receiver::start(vec![answer]).await;

    let outcome = sender("127.0.0.0/8").send(&post(receiver.at("/"))).await;

    assert_eq!(outcome.outcome, AttemptOutcome::HttpError);
    assert_eq!(outcome.status_code, Some(500));
    assert!(outcome.response_body.starts_with("internal boom"), "{outcome:?}");
    assert_eq!(outcome.response_headers.get("retry-after").map(String::as_str), Some("30"));
    assert_eq!(
        hookline_domain::retry::retry_after(&outcome.response_headers, chrono::Utc::now()),
        Some(Duration::from_secs(30))
    );
}

#[tokio::test]
async fn when_receiver_redirects_should_be_http_error_and_not_follow() {
    let target = Receiver::start(vec![Answer::status(200).body("ok")]).await;
    let receiver =
        Receiver::start(vec![Answer::status(302).header("location", &target.at("/elsewhere")).body("")]).await;

    let outcome = sender("127.0.0.0/8").send(&post(receiver.at("/"))).await;

    assert_eq!(outcome.outcome, AttemptOutcome::HttpError);
    assert_eq!(outcome.status_code, Some(302));
    assert_eq!(outcome.response_headers.get("location"), Some(&target.at("/elsewhere")));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(target.connections(), 0);
}

#[tokio::test]
async fn when_body_is_huge_should_keep_only_the_first_4096_bytes() {
    let receiver = Receiver::start(vec![Answer::status(200).body("a".repeat(1024 * 1024))]).await;

    let outcome = sender("127.0.0.0/8").send(&post(receiver.at("/"))).await;

    assert_eq!(outcome.outcome, AttemptOutcome::Success);
    assert_eq!(outcome.response_body.len(), 4096);
    assert!(outcome.response_body.bytes().all(|byte| byte == b'a'));
}

#[tokio::test]
async fn when_receiver_never_answers_should_time_out() {
    let receiver = Receiver::start(vec![Answer::status(200).after(Duration::from_secs(30))]).await;
    let mut request = post(receiver.at("/"));
    request.timeout = Duration::from_millis(300);
    let started = Instant::now();

    let outcome = sender("127.0.0.0/8").send(&request).await;

    assert_eq!(outcome.outcome, AttemptOutcome::Timeout, "{outcome:?}");
    assert_eq!(outcome.status_code, None);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(outcome.latency_ms >= 250, "{outcome:?}");
    assert!(outcome.error.is_some());
}

#[tokio::test]
async fn when_port_is_closed_should_be_connection_error_without_the_query() {
    let port = closed_port().await;

    let outcome = sender("127.0.0.0/8").send(&post(format!("http://127.0.0.1:{port}/in?token=s3cr3t"))).await;

    assert_eq!(outcome.outcome, AttemptOutcome::ConnectionError, "{outcome:?}");
    assert_eq!(outcome.status_code, None);
    let error = outcome.error.expect("error");
    assert!(!error.is_empty());
    assert!(!error.contains("s3cr3t"), "{error}");
}

#[tokio::test]
async fn when_loopback_literal_not_allowlisted_should_refuse_without_connecting() {
    let receiver = Receiver::start(vec![Answer::status(200).body("ok")]).await;

    let outcome = sender("").send(&post(receiver.at("/"))).await;

    assert_eq!(outcome.outcome, AttemptOutcome::Refused, "{outcome:?}");
    assert_eq!(outcome.error, Some(Refusal::Address(IpAddr::from([127, 0, 0, 1])).to_string()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.connections(), 0);
}

#[tokio::test]
async fn when_name_resolves_to_loopback_not_allowlisted_should_refuse_without_connecting() {
    let receiver = Receiver::start(vec![Answer::status(200).body("ok")]).await;

    let outcome = sender("").send(&post(format!("http://localhost:{}/", receiver.port()))).await;

    assert_eq!(outcome.outcome, AttemptOutcome::Refused, "{outcome:?}");
    assert!(outcome.error.as_deref().is_some_and(|error| error.contains("localhost")), "{outcome:?}");
    assert_eq!(receiver.connections(), 0);
}

#[tokio::test]
async fn when_name_resolves_to_allowlisted_loopback_should_deliver() {
    let receiver = Receiver::start(vec![Answer::status(200).body("ok")]).await;

    let outcome = sender("127.0.0.0/8").send(&post(format!("http://localhost:{}/", receiver.port()))).await;

    assert_eq!(outcome.outcome, AttemptOutcome::Success, "{outcome:?}");
}

#[tokio::test]
async fn when_target_is_a_forbidden_literal_should_refuse() {
    let sender = sender("");
    for url in [
        "http://[::1]:9/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "https://192.168.1.1/",
        "http://0x7f.1/",
    ] {
        let outcome = sender.send(&post(url)).await;
        assert_eq!(outcome.outcome, AttemptOutcome::Refused, "{url}: {outcome:?}");
    }
}

#[tokio::test]
async fn when_scheme_is_not_http_or_url_invalid_should_refuse() {
    let sender = sender("127.0.0.0/8");
    for url in ["ftp://x", "file:///etc/passwd", "not a url", "http://"] {
        let outcome = sender.send(&post(url)).await;
        assert_eq!(outcome.outcome, AttemptOutcome::Refused, "{url}: {outcome:?}");
    }
}
