//! Sending one HTTP delivery: a guarded POST (SSRF guard, no redirects, no proxy) classified into an attempt outcome.

use crate::guard::{Allowlist, GuardedResolver, Refusal, permitted};
use hookline_core::ports::{OutgoingRequest, SendOutcome, Transport};
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

/// The HTTP client of every outbound call. One per process (built in main, reused across invocations); cloning is
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

    /// The sender of deliveries: the operator's allowlist (`ALLOWED_TARGET_CIDRS`), a 10 s
    /// connect timeout, and `Hookline/<version>` as user-agent.
    pub fn for_deliveries(allowed_target_cidrs: &str) -> Result<Self, hookline_domain::Error> {
        let allowlist = Allowlist::parse(allowed_target_cidrs)
            .map_err(|error| hookline_domain::Error::internal(format!("ALLOWED_TARGET_CIDRS: {error}")))?;
        Self::new(SenderConfig { allowlist, ..SenderConfig::default() })
    }

    /// POSTs `request.body` with `request.headers` to `request.url` and classifies what happened. Never fails: every
    /// problem is an outcome.
    pub async fn send(&self, request: &OutgoingRequest) -> SendOutcome {
        let started = Instant::now();
        let url = match self.check_url(&request.url) {
            Ok(url) => url,
            Err(refusal) => {
                return SendOutcome::without_response(
                    AttemptOutcome::Refused,
                    refusal.to_string(),
                    elapsed_ms(started),
                );
            }
        };
        let headers = match self.headers(&request.headers) {
            Ok(headers) => headers,
            Err(reason) => {
                return SendOutcome::without_response(AttemptOutcome::ConnectionError, reason, elapsed_ms(started));
            }
        };
        let sent =
            self.client.post(url).headers(headers).body(request.body.clone()).timeout(request.timeout).send().await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                let (outcome, description) = classify(error);
                return SendOutcome::without_response(outcome, description, elapsed_ms(started));
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

impl Transport for Sender {
    async fn send(&self, request: &OutgoingRequest) -> SendOutcome {
        Sender::send(self, request).await
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

#[cfg(test)]
mod tests {
    // The tests over the network (a real receiver on 127.0.0.1) are in tests/it/sender.rs.
    use super::*;

    #[test]
    fn when_url_is_checked_should_name_the_refusal() {
        let sender = Sender::for_deliveries("127.0.0.0/8").expect("sender");
        assert_eq!(sender.check_url("ftp://x").expect_err("ftp"), Refusal::Scheme("ftp".into()));
        assert!(matches!(sender.check_url("not a url"), Err(Refusal::InvalidUrl(_))));
        assert!(matches!(sender.check_url("http://"), Err(Refusal::InvalidUrl(_) | Refusal::NoHost)));
        assert_eq!(
            sender.check_url("http://[::1]/").expect_err("loopback"),
            Refusal::Address("::1".parse().expect("ip"))
        );
        assert!(sender.check_url("http://127.0.0.1:9/hook").is_ok());
    }

    #[test]
    fn when_config_defaults_should_use_10s_and_versioned_user_agent() {
        let config = SenderConfig::default();
        assert_eq!(config.connect_timeout, Duration::from_secs(10));
        assert!(config.user_agent.starts_with("Hookline/"));
        assert!(Sender::new(config).is_ok());
    }

    #[test]
    fn when_text_truncated_should_cut_on_a_char_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
