//! The receiving sink: a lean HTTP receiver on 127.0.0.1 that records the first arrival of each
//! (path, webhook-id) and waits until every expected delivery arrived.

use super::cpu::Side;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The first arrival of a (path, webhook-id).
#[derive(Clone, Copy)]
pub(super) struct Arrival {
    pub(super) at: Instant,
    /// The `n` of the payload: which POST it came from.
    pub(super) n: Option<usize>,
}

/// What the receiver saw.
#[derive(Default, Clone)]
pub(super) struct Arrivals {
    pub(super) first: HashMap<(String, String), Arrival>,
    /// Every request.
    pub(super) total: usize,
}

/// A lean receiver on 127.0.0.1 (on the load thread): keeps only the path, `webhook-id`, the
/// payload's `n` and the arrival of each request, and answers 200. (The tests' `Receiver`
/// keeps bodies and headers and is read by cloning them all: polling it under load would add
/// CPU and memory that have nothing to do with Hookline.)
#[derive(Clone)]
pub(super) struct Sink {
    pub(super) url: String,
    arrivals: Arc<Mutex<Arrivals>>,
    unique: Arc<watch::Sender<usize>>,
}

impl Sink {
    /// Starts on the load thread; serves until `stopped`.
    pub(super) async fn start(side: &Side, stopped: watch::Receiver<bool>) -> Result<(Self, JoinHandle<()>), String> {
        let (ready, listening) = tokio::sync::oneshot::channel();
        let serving = side.handle.spawn(async move {
            let bound = async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let url = format!("http://{}", listener.local_addr()?);
                Ok::<_, std::io::Error>((listener, url))
            };
            match bound.await {
                Ok((listener, url)) => {
                    let sink = Sink { url, arrivals: Arc::default(), unique: Arc::new(watch::channel(0).0) };
                    let _ = ready.send(Ok(sink.clone()));
                    sink.serve(listener, stopped).await;
                }
                Err(error) => {
                    let _ = ready.send(Err(format!("receiver: {error}")));
                }
            }
        });
        let sink = listening.await.map_err(|_| "the receiver did not start".to_string())??;
        Ok((sink, serving))
    }

    async fn serve(self, listener: tokio::net::TcpListener, mut stopped: watch::Receiver<bool>) {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.changed() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let sink = self.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let sink = sink.clone();
                    async move { Ok::<_, Infallible>(sink.answer(request).await) }
                });
                let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = connection => {}
                    _ = stopped.changed() => {}
                }
            });
        }
    }

    async fn answer(&self, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
        let at = Instant::now();
        let n = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|payload| payload["n"].as_u64())
            .and_then(|n| usize::try_from(n).ok());
        let id = parts.headers.get("webhook-id").and_then(|value| value.to_str().ok()).unwrap_or_default();
        let key = (parts.uri.path().to_string(), id.to_string());
        let unique = {
            let mut arrivals = self.arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            arrivals.total += 1;
            arrivals.first.entry(key).or_insert(Arrival { at, n });
            arrivals.first.len()
        };
        self.unique.send_replace(unique);
        hyper::Response::new(Full::new(Bytes::new()))
    }

    /// Waits until every (accepted id, path) pair arrived, or `deadline`. Counts unique pairs,
    /// and looks closer only when there are enough: other pairs (events whose POST got no
    /// answer, or strays) may be among them.
    pub(super) async fn wait_for(&self, accepted: &HashSet<&str>, paths: &HashSet<String>, deadline: Instant) {
        let expected = accepted.len() * paths.len();
        let mut unique = self.unique.subscribe();
        let mut target = expected;
        loop {
            let reached = unique.wait_for(|count| *count >= target);
            if tokio::time::timeout_at(deadline.into(), reached).await.is_err() {
                return;
            }
            let arrivals = self.arrivals();
            let known = arrivals
                .first
                .keys()
                .filter(|(path, id)| paths.contains(path) && accepted.contains(id.as_str()))
                .count();
            if known >= expected {
                return;
            }
            target = arrivals.first.len() + (expected - known);
        }
    }

    pub(super) fn arrivals(&self) -> Arrivals {
        self.arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}
