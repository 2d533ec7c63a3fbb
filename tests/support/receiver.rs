//! A webhook receiver on 127.0.0.1 for the tests: answers from a script and records each request.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Wait before answering.
    pub delay: Duration,
    /// The body.
    pub body: String,
}

impl Answer {
    /// A plain answer with `status`.
    pub fn status(status: u16) -> Self {
        Self { status, headers: Vec::new(), delay: Duration::ZERO, body: format!("answer {status}") }
    }

    /// With a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Answered after `delay` (a delay longer than the client waits: never answered).
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// With `body` instead of `answer <status>`.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }
}

/// A request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line: method, target (path and query, as sent) and version, e.g. `POST /in?x=1 HTTP/1.1`.
    pub request_line: String,
    /// The path.
    pub path: String,
    /// Lower-case header names.
    pub headers: BTreeMap<String, String>,
    /// Every header as `(lower-case name, value)`, a repeated name once per occurrence.
    pub all_headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// The headers as an `http::HeaderMap` (what the `standardwebhooks` library verifies).
    pub fn header_map(&self) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) =
                (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value))
            {
                map.insert(name, value);
            }
        }
        map
    }
}

/// A receiver: answers from its script, then 200 for ever.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    port: u16,
    script: Arc<Mutex<VecDeque<Answer>>>,
    requests: Arc<Mutex<Vec<Received>>>,
    connections: Arc<AtomicUsize>,
}

impl Receiver {
    /// Starts a receiver with a script of answers.
    pub async fn start(script: Vec<Answer>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let receiver = Self {
            url: format!("http://{address}"),
            port: address.port(),
            script: Arc::new(Mutex::new(script.into())),
            requests: Arc::new(Mutex::new(Vec::new())),
            connections: Arc::new(AtomicUsize::new(0)),
        };
        let serving = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                serving.connections.fetch_add(1, Ordering::SeqCst);
                let serving = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let serving = serving.clone();
                        async move { Ok::<_, Infallible>(serving.answer(request).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        receiver
    }

    async fn answer(&self, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(|collected| collected.to_bytes().to_vec()).unwrap_or_default();
        let all_headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_string(), value.to_str().unwrap_or_default().to_string()))
            .collect();
        let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |target| target.as_str());
        self.requests.lock().expect("lock").push(Received {
            request_line: format!("{} {target} {:?}", parts.method, parts.version),
            path: parts.uri.path().to_string(),
            headers: all_headers.iter().cloned().collect(),
            all_headers,
            body,
            at: Instant::now(),
        });
        let answer = self.script.lock().expect("lock").pop_front().unwrap_or_else(|| Answer::status(200));
        tokio::time::sleep(answer.delay).await;
        let mut response = hyper::Response::builder().status(answer.status);
        for (name, value) in &answer.headers {
            response = response.header(name, value);
        }
        response.body(Full::new(Bytes::from(answer.body))).expect("response")
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().expect("lock").clone()
    }

    /// A URL on this receiver.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The port it listens on (of 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many TCP connections it has accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
