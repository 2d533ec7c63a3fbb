//! The health documents: a webhook's or an account's deliveries over a window
//! (`GET /webhooks/{id}/stats`, `GET /api/v3/accounts/{uid}/stats`).

use super::SelfLink;
use serde::Serialize;
use utoipa::ToSchema;

/// Deliveries by where they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryCounts {
    /// Waiting for their next try.
    pub pending: u64,
    /// An attempt got a 2xx.
    pub succeeded: u64,
    /// Every try failed.
    pub failed: u64,
    /// The target address is forbidden (SSRF guard).
    pub refused: u64,
    /// The webhook was deleted or disabled first.
    pub cancelled: u64,
    /// All of them.
    pub total: u64,
}

impl DeliveryCounts {
    /// Counts one more delivery of `status`.
    pub fn add(&mut self, status: crate::model::DeliveryStatus) {
        use crate::model::DeliveryStatus::*;
        let count = match status {
            Pending => &mut self.pending,
            Succeeded => &mut self.succeeded,
            Failed => &mut self.failed,
            Refused => &mut self.refused,
            Cancelled => &mut self.cancelled,
        };
        *count += 1;
        self.total += 1;
    }
}

/// The deliveries of messages accepted in one part of the window.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesBucket {
    /// The part's start (inclusive).
    pub start: String,
    /// Its end.
    pub end: String,
    /// Its deliveries by status.
    pub deliveries: DeliveryCounts,
}

/// The latency of the attempts made, exact over the attempts read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct LatencyPercentiles {
    /// Attempts counted (every outcome: a timeout counts as the time it waited).
    pub attempts: u64,
    /// Median, in milliseconds (nearest rank); null without attempts.
    pub p50: Option<u64>,
    /// 95th percentile, in milliseconds (nearest rank); null without attempts.
    pub p95: Option<u64>,
}

/// What the deliveries of messages accepted in the window came to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsAttributes {
    /// `1h`, `24h` or `7d`.
    #[schema(pattern = "^(1h|24h|7d)$")]
    pub window: String,
    /// The window's start: messages accepted at or after it.
    pub start: String,
    /// The window's end: when the request was answered.
    pub end: String,
    /// Deliveries by status.
    pub deliveries: DeliveryCounts,
    /// succeeded / (succeeded + failed + refused), from 0 to 1; null when none has finished.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub success_rate: Option<f64>,
    /// Attempts' latency.
    pub latency_ms: LatencyPercentiles,
    /// When the last attempt that got a 2xx was made; null if none.
    pub last_success_at: Option<String>,
    /// When the last attempt that did not get a 2xx was made (an HTTP error, a timeout, a
    /// connection error, a refusal); null if none.
    pub last_failure_at: Option<String>,
    /// The window in equal parts (12 of 5 minutes for 1h, 24 of an hour for 24h, 28 of 6
    /// hours for 7d), oldest first: the deliveries of the messages accepted in each.
    pub series: Vec<SeriesBucket>,
}

/// The stats as a resource: `webhook_stats` (id: the webhook's) or `account_stats` (id: the
/// account's uid).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsResource {
    /// `webhook_stats` or `account_stats`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The webhook id or the account uid.
    pub id: String,
    /// The figures.
    pub attributes: StatsAttributes,
    /// `self`, with its window.
    pub links: SelfLink,
}

/// How much of the log was read to answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsMeta {
    /// `true` when the read stopped at its bound before reaching `start`: the figures then
    /// describe messages accepted from `covered_from` to `end` only.
    pub truncated: bool,
    /// Log entries read (for a webhook, its own: a day that would pass `max_entries` is left out).
    pub entries_read: u64,
    /// The most entries one request reads.
    pub max_entries: u64,
    /// The oldest time the figures reach: `start`, unless truncated.
    pub covered_from: String,
}

/// `GET /webhooks/{id}/stats`, `GET /api/v3/accounts/{uid}/stats`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsDocument {
    /// The stats.
    pub data: StatsResource,
    /// How far the read went.
    pub meta: StatsMeta,
}
