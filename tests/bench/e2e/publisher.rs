//! The load publisher: posts events at a fixed rate to the runner's ingest API, one per request
//! or in batches, and keeps when each POST was sent and what it got back.

use super::{EVENT_TYPE, EVENTS, NO_ANSWER};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;

/// One POST of the publisher; its index is the `n` of its payload.
pub(super) struct Post {
    /// When it was sent.
    pub(super) at: Instant,
    /// The message id and the time to the 202.
    pub(super) accepted: Option<(String, Duration)>,
    /// Why not.
    pub(super) refused: Option<String>,
}

/// Posts events with an account's key (a client of its own, on the load thread).
pub(super) struct Publisher {
    pub(super) base: String,
    pub(super) key: String,
    /// Events per request.
    pub(super) batch: usize,
}

impl Publisher {
    /// Posts `count` events at `rate` per second, `batch` per request, each request spawned
    /// so that slow answers do not lower the rate; waits for every answer until `deadline`.
    pub(super) async fn publish(self, rate: u32, count: usize, deadline: Instant) -> Vec<Post> {
        let http = reqwest::Client::new();
        let requests_per_second = f64::from(rate) / self.batch as f64;
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / requests_per_second));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut requests = Vec::new();
        for first in (0..count).step_by(self.batch) {
            ticker.tick().await;
            let events: Vec<Value> = (first..count.min(first + self.batch))
                .map(|n| json!({"event_type": EVENT_TYPE, "payload": {"n": n, "bench": "e2e"}}))
                .collect();
            let (path, body) = match events.as_slice() {
                [event] => (EVENTS.to_string(), event.clone()),
                _ => (format!("{EVENTS}/batch"), json!({ "events": events })),
            };
            let request = http
                .post(format!("{}{path}", self.base))
                .bearer_auth(&self.key)
                .header("content-type", "application/json")
                .body(body.to_string());
            requests.push((events.len(), tokio::spawn(post(request, events.len(), deadline))));
        }
        let mut done = Vec::with_capacity(count);
        for (events, request) in requests {
            done.extend(request.await.unwrap_or_else(|_| {
                (0..events)
                    .map(|_| Post {
                        at: Instant::now(),
                        accepted: None,
                        refused: Some("publisher task failures".into()),
                    })
                    .collect()
            }));
        }
        done
    }
}

/// One POST, answered by `deadline` or given up.
/// Sends one request of `events` events (one: the single route; more: the batch route) and
/// reads a result per event.
async fn post(request: reqwest::RequestBuilder, events: usize, deadline: Instant) -> Vec<Post> {
    let at = Instant::now();
    let answer = async {
        let response = request.send().await.map_err(|_| "connection errors".to_string())?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.map_err(|_| format!("unreadable HTTP {status} bodies"))?;
        let elapsed = at.elapsed();
        if events == 1 {
            return match (status, body["data"]["id"].as_str()) {
                (202, Some(id)) => Ok(vec![Ok((id.to_string(), elapsed))]),
                (202, None) => Err("202 without data.id".to_string()),
                _ => Err(format!("HTTP {status}")),
            };
        }
        if status != 202 && status != 207 {
            return Err(format!("HTTP {status}"));
        }
        let results = body["data"]
            .as_array()
            .filter(|results| results.len() == events)
            .ok_or("a batch without a result per event")?;
        Ok(results
            .iter()
            .map(|result| match (result["status"].as_str(), result["data"]["id"].as_str()) {
                (Some("202"), Some(id)) => Ok((id.to_string(), elapsed)),
                (status, _) => Err(format!("batch item {}", status.unwrap_or("without a status"))),
            })
            .collect())
    };
    let refused =
        |reason: String| (0..events).map(|_| Post { at, accepted: None, refused: Some(reason.clone()) }).collect();
    match tokio::time::timeout_at(deadline.into(), answer).await {
        Ok(Ok(results)) => results
            .into_iter()
            .map(|result| match result {
                Ok(accepted) => Post { at, accepted: Some(accepted), refused: None },
                Err(reason) => Post { at, accepted: None, refused: Some(reason) },
            })
            .collect(),
        Ok(Err(reason)) => refused(reason),
        Err(_) => refused(NO_ANSWER.into()),
    }
}
