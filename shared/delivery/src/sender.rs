//! Sending one HTTP delivery: a guarded POST (SSRF guard, no redirects, no proxy) classified into an attempt outcome.

use crate::guard::{Allowlist, GuardedResolver, Refusal, permitted};
use chrono::{DateTime, NaiveDateTime, Utc};
use hookline_domain::model::AttemptOutcome;
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How much of a response body is read and kept.
pub const MAX_RESPONSE_BODY: usize = 4096;

/// The response headers kept on an attempt (lower-case).
pub const KEPT_RESPONSE_HEADERS: [&str; 6] =
    ["content-type", "content-length", "retry-after", "location", "date", "server"];

/// The longest kept response header value, in bytes.
const MAX_HEADER_VALUE: usize = 512;

/// The longest error description, in bytes.
const MAX_ERROR: usize = 300;

/// How the sender is set up.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Forbidden networks the operator allows anyway (e.g. 127.0.0.0/8 in local development).
    pub allowlist: Allowlist,
    /// The longest wait for a TCP (and TLS) connection; 10 s by default.
    pub connect_timeout: Duration,
    /// The user-agent sent when the caller sets none; `Hookline/<version>` by default.
    pub user_agent: String,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            allowlist: Allowlist::default(),
            connect_timeout: Duration::from_secs(10),
            user_agent: format!("Hookline/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// One HTTP POST to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    /// The target, `http` or `https`.
    pub url: String,
    /// The request headers (content-type, signature headers, …), sent as given.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// The total timeout: connecting, sending, and reading the response.
    pub timeout: Duration,
}

/// How one send ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SendOutcome {
    /// Success (2xx only), HttpError (any other status, 3xx included: redirects are not followed), Timeout,
    /// ConnectionError, or Refused (the SSRF guard, or a URL that is not http/https).
    pub outcome: AttemptOutcome,
    /// The response status, if one came.
    pub status_code: Option<u16>,
    /// A few response headers ([`KEPT_RESPONSE_HEADERS`]), lower-case names.
    pub response_headers: BTreeMap<String, String>,
    /// The first 4096 bytes of the response body, lossy UTF-8.
    pub response_body: String,
    /// From the start of the send to the end of the body read, in milliseconds.
    pub latency_ms: u64,
    /// A short description of what went wrong when there is no response (no full URL, no secrets).
    pub error: Option<String>,
}

impl SendOutcome {
    fn without_response(outcome: AttemptOutcome, error: String, started: Instant) -> Self {
        Self {
            outcome,
            status_code: None,
            response_headers: BTreeMap::new(),
            response_body: String::new(),
            latency_ms: elapsed_ms(started),
            error: Some(error),
        }
    }
}

/// The HTTP client of the delivery engine. One per process (built in main, reused across invocations); cloning is
/// cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    allowlist: Arc<Allowlist>,
    user_agent: HeaderValue,
}

impl Sender {
    /// A sender whose connections go only to permitted addresses: names resolve through the [`GuardedResolver`], IP
    /// literals are checked before sending; redirects are not followed and no proxy is used.
    pub fn new(config: SenderConfig) -> Result<Self, hookline_domain::Error> {
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|_| hookline_domain::Error::internal("the user agent is not a valid header value"))?;
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver::new(config.allowlist.clone()))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| hookline_domain::Error::internal(format!("building the HTTP client: {error}")))?;
        Ok(Self { client, allowlist: Arc::new(config.allowlist), user_agent })
    }

    /// POSTs `request.body` with `request.headers` to `request.url` and classifies what happened. Never fails: every
    /// problem is an outcome.
    pub async fn send(&self, request: &OutgoingRequest) -> SendOutcome {
        let started = Instant::now();
        let url = match self.check_url(&request.url) {
            Ok(url) => url,
            Err(refusal) => {
                return SendOutcome::without_response(AttemptOutcome::Refused, refusal.to_string(), started);
            }
        };
        let headers = match self.headers(&request.headers) {
            Ok(headers) => headers,
            Err(reason) => return SendOutcome::without_response(AttemptOutcome::ConnectionError, reason, started),
        };
        let sent =
            self.client.post(url).headers(headers).body(request.body.clone()).timeout(request.timeout).send().await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                let (outcome, description) = classify(error);
                return SendOutcome::without_response(outcome, description, started);
            }
        };
        let status = response.status();
        let response_headers = kept_headers(response.headers());
        let (body, body_error) = read_prefix(&mut response).await;
        drop(response);
        let outcome = if status.is_success() { AttemptOutcome::Success } else { AttemptOutcome::HttpError };
        SendOutcome {
            outcome,
            status_code: Some(status.as_u16()),
            response_headers,
            response_body: String::from_utf8_lossy(&body).into_owned(),
            latency_ms: elapsed_ms(started),
            error: body_error.map(|error| {
                let (_, description) = classify(error);
                format!("reading the response body: {description}")
            }),
        }
    }

    /// The URL if it may be sent to: http/https, and an IP-literal host (which never goes through the resolver)
    /// must be permitted.
    fn check_url(&self, raw: &str) -> Result<Url, Refusal> {
        let url = Url::parse(raw).map_err(|error| Refusal::InvalidUrl(error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme(truncate(url.scheme(), 20).to_owned()));
        }
        let host = url.host_str().ok_or(Refusal::NoHost)?;
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>()
            && !permitted(ip, &self.allowlist)
        {
            return Err(Refusal::Address(ip));
        }
        Ok(url)
    }

    /// The caller's headers, plus the configured user-agent unless the caller set one.
    fn headers(&self, given: &[(String, String)]) -> Result<HeaderMap, String> {
        let mut headers = HeaderMap::with_capacity(given.len() + 1);
        for (name, value) in given {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid request header name {:?}", truncate(name, 64)))?;
            let header_value = HeaderValue::from_str(value)
                .map_err(|_| format!("invalid value of request header {:?}", truncate(name, 64)))?;
            headers.append(header_name, header_value);
        }
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, self.user_agent.clone());
        }
        Ok(headers)
    }
}

/// The outcome of a failed send, and a short description (no URL).
fn classify(error: reqwest::Error) -> (AttemptOutcome, String) {
    let error = error.without_url();
    if error.is_timeout() {
        let what = if error.is_connect() { "connect timed out" } else { "timed out" };
        return (AttemptOutcome::Timeout, what.to_owned());
    }
    if let Some(refusal) = refusal(&error) {
        return (AttemptOutcome::Refused, truncate(&refusal.to_string(), MAX_ERROR).to_owned());
    }
    (AttemptOutcome::ConnectionError, describe(&error))
}

/// The resolver's refusal somewhere in the error's source chain.
fn refusal<'e>(error: &'e (dyn StdError + 'static)) -> Option<&'e Refusal> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(refusal) = error.downcast_ref::<Refusal>() {
            return Some(refusal);
        }
        current = error.source();
    }
    None
}

/// The error and its sources, joined with `: `, each message once.
fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let message = error.to_string();
        if !message.is_empty() && !parts.iter().any(|part| part.contains(&message)) {
            parts.push(message);
        }
        current = error.source();
    }
    truncate(&parts.join(": "), MAX_ERROR).to_owned()
}

/// Reads at most [`MAX_RESPONSE_BODY`] bytes of the body, chunk by chunk, then stops.
async fn read_prefix(response: &mut reqwest::Response) -> (Vec<u8>, Option<reqwest::Error>) {
    let mut body = Vec::new();
    while body.len() < MAX_RESPONSE_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let take = chunk.len().min(MAX_RESPONSE_BODY - body.len());
                body.extend_from_slice(&chunk[..take]);
            }
            Ok(None) => break,
            Err(error) => return (body, Some(error)),
        }
    }
    (body, None)
}

fn kept_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    KEPT_RESPONSE_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?;
            let value = String::from_utf8_lossy(value.as_bytes());
            Some(((*name).to_owned(), truncate(&value, MAX_HEADER_VALUE).to_owned()))
        })
        .collect()
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Parses Retry-After (delta-seconds, or an HTTP-date relative to `now`) into a duration; None if absent, invalid,
/// or in the past. `0` (or a date equal to `now`) is a zero duration.
pub fn retry_after(headers: &BTreeMap<String, String>, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get("retry-after")
        .or_else(|| headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("retry-after")).map(|(_, value)| value))?
        .trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|byte| byte.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    (http_date(value)? - now).to_std().ok()
}

/// An HTTP-date: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or the obsolete RFC 850 and asctime forms.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|date| date.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::mpsc;

    /// What a test receiver got.
    #[derive(Debug)]
    struct Received {
        request_line: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Received {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }
    }

    /// A tiny HTTP/1.1 receiver on 127.0.0.1 answering every request with `reply` (or never, if None).
    struct Receiver {
        port: u16,
        connections: Arc<AtomicUsize>,
        requests: mpsc::UnboundedReceiver<Received>,
    }

    impl Receiver {
        async fn start(reply: Option<Vec<u8>>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let connections = Arc::new(AtomicUsize::new(0));
            let (sender, requests) = mpsc::unbounded_channel();
            let counter = connections.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let reply = reply.clone();
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        let Ok(received) = read_request(&stream).await else { return };
                        let _ = sender.send(received);
                        match reply {
                            Some(reply) => {
                                let _ = write_all(&stream, &reply).await;
                            }
                            None => tokio::time::sleep(Duration::from_secs(30)).await,
                        }
                    });
                }
            });
            Self { port, connections, requests }
        }

        fn url(&self, path: &str) -> String {
            format!("http://127.0.0.1:{}{path}", self.port)
        }

        fn connections(&self) -> usize {
            self.connections.load(Ordering::SeqCst)
        }
    }

    async fn read_some(stream: &TcpStream, buffer: &mut Vec<u8>) -> io::Result<usize> {
        let mut chunk = [0u8; 8192];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut chunk) {
                Ok(n) => {
                    buffer.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error),
            }
        }
    }

    async fn write_all(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            stream.writable().await?;
            match stream.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    async fn read_request(stream: &TcpStream) -> io::Result<Received> {
        let mut buffer = Vec::new();
        let head_end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            if read_some(stream, &mut buffer).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);
        let body_start = head_end + 4;
        while buffer.len() < body_start + length {
            if read_some(stream, &mut buffer).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(Received { request_line, headers, body: buffer[body_start..body_start + length].to_vec() })
    }

    fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        let mut text = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }

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

    async fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("addr").port()
    }

    #[tokio::test]
    async fn when_receiver_answers_2xx_should_succeed_and_receive_body_and_headers() {
        let reply = response("200 OK", &[("content-type", "text/plain"), ("x-internal", "secret")], b"ok");
        let mut receiver = Receiver::start(Some(reply)).await;
        let mut request = post(receiver.url("/hooks/in?x=1"));
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
        let received = receiver.requests.recv().await.expect("request");
        assert_eq!(received.request_line, "POST /hooks/in?x=1 HTTP/1.1");
        assert_eq!(received.body, request.body);
        assert_eq!(received.header("content-type"), Some("application/json"));
        assert_eq!(received.header("webhook-id"), Some("msg_1"));
        assert_eq!(received.header("webhook-signature"), Some("v1,abc v1,def"));
        assert_eq!(received.header("user-agent"), Some("Hookline/test"));
    }

    #[tokio::test]
    async fn when_caller_sets_user_agent_should_keep_it() {
        let mut receiver = Receiver::start(Some(response("204 No Content", &[], b""))).await;
        let mut request = post(receiver.url("/"));
        request.headers.push(("User-Agent".to_owned(), "Custom/1".to_owned()));

        let outcome = sender("127.0.0.0/8").send(&request).await;

        assert_eq!(outcome.outcome, AttemptOutcome::Success);
        assert_eq!(outcome.status_code, Some(204));
        let received = receiver.requests.recv().await.expect("request");
        assert_eq!(received.headers.iter().filter(|(name, _)| name == "user-agent").count(), 1);
        assert_eq!(received.header("user-agent"), Some("Custom/1"));
    }

    #[tokio::test]
    async fn when_receiver_answers_500_should_be_http_error_with_status_and_body() {
        let reply = response("500 Internal Server Error", &[("retry-after", "30")], b"internal boom, details follow");
        let receiver = Receiver::start(Some(reply)).await;

        let outcome = sender("127.0.0.0/8").send(&post(receiver.url("/"))).await;

        assert_eq!(outcome.outcome, AttemptOutcome::HttpError);
        assert_eq!(outcome.status_code, Some(500));
        assert!(outcome.response_body.starts_with("internal boom"), "{outcome:?}");
        assert_eq!(outcome.response_headers.get("retry-after").map(String::as_str), Some("30"));
        assert_eq!(retry_after(&outcome.response_headers, Utc::now()), Some(Duration::from_secs(30)));
    }

    #[tokio::test]
    async fn when_receiver_redirects_should_be_http_error_and_not_follow() {
        let target = Receiver::start(Some(response("200 OK", &[], b"ok"))).await;
        let reply = response("302 Found", &[("location", &target.url("/elsewhere"))], b"");
        let receiver = Receiver::start(Some(reply)).await;

        let outcome = sender("127.0.0.0/8").send(&post(receiver.url("/"))).await;

        assert_eq!(outcome.outcome, AttemptOutcome::HttpError);
        assert_eq!(outcome.status_code, Some(302));
        assert_eq!(outcome.response_headers.get("location"), Some(&target.url("/elsewhere")));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(target.connections(), 0);
    }

    #[tokio::test]
    async fn when_body_is_huge_should_keep_only_the_first_4096_bytes() {
        let reply = response("200 OK", &[], &vec![b'a'; 1024 * 1024]);
        let receiver = Receiver::start(Some(reply)).await;

        let outcome = sender("127.0.0.0/8").send(&post(receiver.url("/"))).await;

        assert_eq!(outcome.outcome, AttemptOutcome::Success);
        assert_eq!(outcome.response_body.len(), 4096);
        assert!(outcome.response_body.bytes().all(|byte| byte == b'a'));
    }

    #[tokio::test]
    async fn when_receiver_never_answers_should_time_out() {
        let receiver = Receiver::start(None).await;
        let mut request = post(receiver.url("/"));
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
        let receiver = Receiver::start(Some(response("200 OK", &[], b"ok"))).await;

        let outcome = sender("").send(&post(receiver.url("/"))).await;

        assert_eq!(outcome.outcome, AttemptOutcome::Refused, "{outcome:?}");
        assert_eq!(outcome.error, Some(Refusal::Address(IpAddr::from([127, 0, 0, 1])).to_string()));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(receiver.connections(), 0);
    }

    #[tokio::test]
    async fn when_name_resolves_to_loopback_not_allowlisted_should_refuse_without_connecting() {
        let receiver = Receiver::start(Some(response("200 OK", &[], b"ok"))).await;

        let outcome = sender("").send(&post(format!("http://localhost:{}/", receiver.port))).await;

        assert_eq!(outcome.outcome, AttemptOutcome::Refused, "{outcome:?}");
        assert!(outcome.error.as_deref().is_some_and(|error| error.contains("localhost")), "{outcome:?}");
        assert_eq!(receiver.connections(), 0);
    }

    #[tokio::test]
    async fn when_name_resolves_to_allowlisted_loopback_should_deliver() {
        let receiver = Receiver::start(Some(response("200 OK", &[], b"ok"))).await;

        let outcome = sender("127.0.0.0/8").send(&post(format!("http://localhost:{}/", receiver.port))).await;

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
        assert_eq!(sender.check_url("ftp://x").expect_err("ftp"), Refusal::Scheme("ftp".into()));
        assert!(matches!(sender.check_url("not a url"), Err(Refusal::InvalidUrl(_))));
        assert!(matches!(sender.check_url("http://"), Err(Refusal::InvalidUrl(_) | Refusal::NoHost)));
        assert_eq!(
            sender.check_url("http://[::1]/").expect_err("loopback"),
            Refusal::Address("::1".parse().expect("ip"))
        );
    }

    #[test]
    fn when_config_defaults_should_use_10s_and_versioned_user_agent() {
        let config = SenderConfig::default();
        assert_eq!(config.connect_timeout, Duration::from_secs(10));
        assert!(config.user_agent.starts_with("Hookline/"));
        assert!(Sender::new(config).is_ok());
    }

    fn retry_header(value: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("retry-after".to_owned(), value.to_owned())])
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("date").with_timezone(&Utc)
    }

    #[test]
    fn when_retry_after_is_seconds_should_parse() {
        let now = Utc::now();
        assert_eq!(retry_after(&retry_header("120"), now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(&retry_header(" 5 "), now), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(&retry_header("0"), now), Some(Duration::ZERO));
    }

    #[test]
    fn when_retry_after_is_an_http_date_should_be_relative_to_now() {
        let now = at("2026-03-01T12:00:00Z");
        let header = retry_header("Sun, 01 Mar 2026 12:01:30 GMT");
        assert_eq!(retry_after(&header, now), Some(Duration::from_secs(90)));
        let rfc850 = retry_header("Sunday, 01-Mar-26 12:00:10 GMT");
        assert_eq!(retry_after(&rfc850, now), Some(Duration::from_secs(10)));
        let asctime = retry_header("Sun Mar  1 12:00:20 2026");
        assert_eq!(retry_after(&asctime, now), Some(Duration::from_secs(20)));
    }

    #[test]
    fn when_retry_after_is_past_garbage_or_absent_should_be_none() {
        let now = at("2026-03-01T12:00:00Z");
        assert_eq!(retry_after(&retry_header("Sun, 01 Mar 2026 11:59:00 GMT"), now), None);
        assert_eq!(retry_after(&retry_header("soon"), now), None);
        assert_eq!(retry_after(&retry_header("-5"), now), None);
        assert_eq!(retry_after(&retry_header("1.5"), now), None);
        assert_eq!(retry_after(&retry_header(""), now), None);
        assert_eq!(retry_after(&retry_header("99999999999999999999999"), now), None);
        assert_eq!(retry_after(&BTreeMap::new(), now), None);
    }

    #[test]
    fn when_text_truncated_should_cut_on_a_char_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
