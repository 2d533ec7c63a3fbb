//! Delivery health over a window: a webhook's or an account's deliveries by status, their
//! success rate, the attempts' latency percentiles and the last success and failure.
//!
//! **Computed at read time from the log, bounded.** The log already holds every delivery with
//! its status and every attempt with its latency (`docs/data-model.md`), so the stats are an
//! aggregation of the log entries of the messages accepted in the window: nothing is written
//! on the delivery path, and the cost per delivered webhook (README, Performance: $0.94 per
//! million in the goal case, goal ≤ $1.20) does not change. The alternative, counters or
//! latency buckets kept per webhook and hour, would cost at least one more write per attempt
//! (an `UpdateItem` of about a write unit: the goal case pays 1.00 write unit per delivery
//! today, so about +$0.63 per million, over the goal).
//!
//! The price is paid by the reader instead: a request reads the log's day partitions of the
//! window (eventually consistent queries: half a read unit per 4 KB read), and for a webhook
//! its own log's segments and then its own entries (half a read unit each).
//! So one request reads at most [`MAX_ENTRIES_READ`] entries in at most [`MAX_QUERIES`]
//! queries (each reads at most 1 MB): newest first, and when it stops early the document says
//! so (`meta.truncated`, `meta.entries_read`, `meta.covered_from`). At 1 KB an entry, a full
//! read is about 20 MB, 2,500 read units, $0.0003 a request; the query bound caps any read at
//! 100 MB (12,800 read units, $0.0016), however large the payloads.
//!
//! The window selects messages by the time they were accepted (the log's key order), not
//! attempts by the time they were made: a retry made in the window of a message accepted
//! before it is not read. Percentiles are exact (nearest rank) over the attempts read.

use crate::documents::{
    DeliveryCounts, LatencyPercentiles, SelfLink, SeriesBucket, StatsAttributes, StatsDocument, StatsMeta,
    StatsResource,
};
use crate::error::Error;
use crate::model::{AttemptOutcome, DeliveryStatus, LogEntry};
use crate::webhooks::timestamp;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// The most log entries one stats request reads.
pub const MAX_ENTRIES_READ: usize = 20_000;
/// The most queries one stats request makes (a query reads at most 1 MB, so this bounds the
/// bytes read when entries are large).
pub const MAX_QUERIES: usize = 400;
/// The resource type of a webhook's stats.
pub const WEBHOOK_STATS_TYPE: &str = "webhook_stats";
/// The resource type of an account's stats.
pub const ACCOUNT_STATS_TYPE: &str = "account_stats";

/// How far back the stats look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// `1h`.
    Hour,
    /// `24h`, the default.
    Day,
    /// `7d`.
    Week,
}

impl Window {
    /// As written in the query and the document.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
        }
    }

    /// How long it is.
    pub fn length(self) -> Duration {
        match self {
            Self::Hour => Duration::hours(1),
            Self::Day => Duration::hours(24),
            Self::Week => Duration::days(7),
        }
    }

    /// How many buckets its series has: 5 minutes, an hour, 6 hours each.
    pub fn buckets(self) -> i32 {
        match self {
            Self::Hour => 12,
            Self::Day => 24,
            Self::Week => 28,
        }
    }

    /// `1h`, `24h` or `7d`.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Hour, Self::Day, Self::Week].into_iter().find(|window| window.as_str() == value)
    }
}

/// The stats routes' query: `window` (default `24h`), nothing else. Every problem is a 400
/// whose `source.parameter` names the parameter.
pub fn parse_stats_query(raw: Option<&str>) -> Result<Window, Error> {
    let mut window = None;
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if name != "window" {
            return Err(Error::bad_param(
                name.as_ref(),
                "unknown_parameter",
                format!("{name} is not a parameter of the stats; accepted: window"),
            ));
        }
        if window.is_some() {
            return Err(Error::bad_param(
                "window",
                "duplicate_parameter",
                "window is given more than once; give it once",
            ));
        }
        window = Some(
            Window::parse(&value).ok_or_else(|| Error::bad_param("window", "invalid_window", "one of 1h, 24h, 7d"))?,
        );
    }
    Ok(window.unwrap_or(Window::Day))
}

/// A window ending at a time: messages accepted from `start` (inclusive) to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Its length.
    pub window: Window,
    /// `end` − the window.
    pub start: DateTime<Utc>,
    /// When the stats were asked for.
    pub end: DateTime<Utc>,
}

impl Span {
    /// The `window` that ends at `end`.
    pub fn ending(window: Window, end: DateTime<Utc>) -> Self {
        Self { window, start: end - window.length(), end }
    }

    /// Whether `at` is in it (both ends included).
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at <= self.end
    }
}

/// What the stats read of one log entry; the store reads only these attributes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeliveryRecord {
    /// When its message was accepted (the store reads it off the entry's key).
    #[serde(skip)]
    pub accepted_at: Option<DateTime<Utc>>,
    /// Where the delivery stands; `None` for a message that matched no webhook.
    #[serde(default)]
    pub status: Option<DeliveryStatus>,
    /// Its attempts.
    #[serde(default)]
    pub attempts: Vec<AttemptRecord>,
}

/// What the stats read of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct AttemptRecord {
    /// When it started.
    pub at: DateTime<Utc>,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// Time to the full response, in milliseconds.
    pub latency_ms: u64,
}

impl From<&LogEntry> for DeliveryRecord {
    fn from(entry: &LogEntry) -> Self {
        let attempts = entry
            .attempts
            .iter()
            .map(|attempt| AttemptRecord { at: attempt.at, outcome: attempt.outcome, latency_ms: attempt.latency_ms })
            .collect();
        Self { accepted_at: Some(entry.message.created_at), status: entry.status, attempts }
    }
}

/// A bounded read of the log for a window: the deliveries read, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSample {
    /// The deliveries read (and entries of unmatched messages, which count for nothing).
    pub deliveries: Vec<DeliveryRecord>,
    /// Log entries read, those a filter dropped included.
    pub entries_read: usize,
    /// Whether the read stopped at its bound before the window's start.
    pub truncated: bool,
    /// The oldest acceptance time the read covers in full: the window's start, unless truncated.
    pub covered_from: DateTime<Utc>,
}

/// What the deliveries came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// By status.
    pub deliveries: DeliveryCounts,
    /// succeeded / (succeeded + failed + refused); `None` when none has finished.
    pub success_rate: Option<f64>,
    /// Attempts in the span and their percentiles.
    pub latency: LatencyPercentiles,
    /// The last attempt in the span that succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last attempt in the span that did not.
    pub last_failure_at: Option<DateTime<Utc>>,
}

/// The deliveries of each equal part of `span`, by their message's acceptance, oldest first.
pub fn series<'a>(
    deliveries: impl IntoIterator<Item = &'a DeliveryRecord>,
    span: &Span,
) -> Vec<(Span, DeliveryCounts)> {
    let parts = span.window.buckets();
    let length = span.window.length() / parts;
    let mut buckets: Vec<(Span, DeliveryCounts)> = (0..parts)
        .map(|index| {
            let start = span.start + length * index;
            (Span { window: span.window, start, end: start + length }, DeliveryCounts::default())
        })
        .collect();
    for delivery in deliveries {
        let (Some(status), Some(at)) = (delivery.status, delivery.accepted_at) else { continue };
        if !span.contains(at) {
            continue;
        }
        let index = ((at - span.start).num_milliseconds() / length.num_milliseconds().max(1)) as usize;
        let last = buckets.len() - 1;
        if let Some((_, counts)) = buckets.get_mut(index.min(last)) {
            counts.add(status);
        }
    }
    buckets
}

/// The stats of `deliveries` (the log entries of messages accepted in `span`): entries
/// without a delivery count for nothing, attempts outside `span` are left out.
pub fn aggregate<'a>(deliveries: impl IntoIterator<Item = &'a DeliveryRecord>, span: &Span) -> Stats {
    let mut counts = DeliveryCounts::default();
    let mut latencies = Vec::new();
    let mut last_success_at: Option<DateTime<Utc>> = None;
    let mut last_failure_at: Option<DateTime<Utc>> = None;
    for delivery in deliveries {
        let Some(status) = delivery.status else { continue };
        counts.add(status);
        for attempt in delivery.attempts.iter().filter(|attempt| span.contains(attempt.at)) {
            latencies.push(attempt.latency_ms);
            let last =
                if attempt.outcome == AttemptOutcome::Success { &mut last_success_at } else { &mut last_failure_at };
            *last = (*last).max(Some(attempt.at));
        }
    }
    latencies.sort_unstable();
    let finished = counts.succeeded + counts.failed + counts.refused;
    Stats {
        deliveries: counts,
        success_rate: (finished > 0).then(|| counts.succeeded as f64 / finished as f64),
        latency: LatencyPercentiles {
            attempts: latencies.len() as u64,
            p50: percentile(&latencies, 50),
            p95: percentile(&latencies, 95),
        },
        last_success_at,
        last_failure_at,
    }
}

/// The `percent`th percentile of `sorted` (ascending) by nearest rank: the smallest value
/// with at least `percent` % of the values at or below it. `None` when empty.
pub fn percentile(sorted: &[u64], percent: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * percent.min(100) as usize).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The stats document of `sample` over `span`: a resource of `kind` (`webhook_stats`,
/// `account_stats`) named `id`, at `path`.
pub fn stats_document(kind: &str, id: impl Into<String>, path: &str, span: &Span, sample: &LogSample) -> StatsDocument {
    let stats = aggregate(&sample.deliveries, span);
    StatsDocument {
        data: StatsResource {
            kind: kind.into(),
            id: id.into(),
            attributes: StatsAttributes {
                window: span.window.as_str().into(),
                start: timestamp(span.start),
                end: timestamp(span.end),
                deliveries: stats.deliveries,
                success_rate: stats.success_rate,
                latency_ms: stats.latency,
                last_success_at: stats.last_success_at.map(timestamp),
                last_failure_at: stats.last_failure_at.map(timestamp),
                series: series(&sample.deliveries, span)
                    .into_iter()
                    .map(|(part, deliveries)| SeriesBucket {
                        start: timestamp(part.start),
                        end: timestamp(part.end),
                        deliveries,
                    })
                    .collect(),
            },
            links: SelfLink::to(format!("{path}?window={}", span.window.as_str())),
        },
        meta: StatsMeta {
            truncated: sample.truncated,
            entries_read: sample.entries_read as u64,
            max_entries: MAX_ENTRIES_READ as u64,
            covered_from: timestamp(sample.covered_from.max(span.start)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Source;
    use crate::model::{Attempt, Environment, Message};
    use std::collections::BTreeMap;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("time")
    }

    /// The span of the last hour before `at(3600)`.
    fn hour() -> Span {
        Span::ending(Window::Hour, at(3600))
    }

    fn entry(status: Option<DeliveryStatus>, attempts: &[(i64, AttemptOutcome, u64)]) -> LogEntry {
        let message = Message {
            id: "msg_0".into(),
            account_id: 1,
            event_type: "invoice.paid".into(),
            environment: Environment::Production,
            payload: serde_json::json!({}),
            scopes: BTreeMap::new(),
            occurred_at: at(0),
            created_at: at(0),
            idempotency_key: None,
            matched: 1,
            subject: None,
            erased_at: None,
        };
        let mut entry = match status {
            Some(status) => LogEntry { status: Some(status), ..LogEntry::delivery_of(message, 7, at(0)) },
            None => LogEntry::unmatched(message),
        };
        entry.attempts = attempts
            .iter()
            .enumerate()
            .map(|(index, (seconds, outcome, latency_ms))| Attempt {
                message_id: "msg_0".into(),
                webhook_id: 7,
                account_id: 1,
                number: index as u32 + 1,
                at: at(*seconds),
                outcome: *outcome,
                status_code: None,
                response_headers: BTreeMap::new(),
                response_body: String::new(),
                latency_ms: *latency_ms,
            })
            .collect();
        entry
    }

    fn records(entries: &[LogEntry]) -> Vec<DeliveryRecord> {
        entries.iter().map(DeliveryRecord::from).collect()
    }

    #[test]
    fn when_deliveries_have_every_status_should_count_each_and_skip_unmatched_messages() {
        use DeliveryStatus::*;
        let entries: Vec<LogEntry> = [Some(Pending), Some(Succeeded), Some(Succeeded), Some(Failed), None]
            .into_iter()
            .chain([Some(Refused), Some(Cancelled), Some(Cancelled), Some(Cancelled)])
            .map(|status| entry(status, &[]))
            .collect();
        let stats = aggregate(&records(&entries), &hour());
        let expected = DeliveryCounts { pending: 1, succeeded: 2, failed: 1, refused: 1, cancelled: 3, total: 8 };
        assert_eq!(stats.deliveries, expected);
    }

    #[test]
    fn when_deliveries_finished_should_rate_successes_over_succeeded_failed_and_refused() {
        use DeliveryStatus::*;
        let entries: Vec<LogEntry> = [Succeeded, Succeeded, Succeeded, Failed, Refused, Pending, Cancelled]
            .into_iter()
            .map(|status| entry(Some(status), &[]))
            .collect();
        assert_eq!(
            aggregate(&records(&entries), &hour()).success_rate,
            Some(0.6),
            "3 of 5: pending and cancelled left out"
        );
        let failed = records(&[entry(Some(Failed), &[])]);
        assert_eq!(aggregate(&failed, &hour()).success_rate, Some(0.0));
    }

    #[test]
    fn when_no_delivery_finished_should_have_no_rate() {
        let pending =
            records(&[entry(Some(DeliveryStatus::Pending), &[]), entry(Some(DeliveryStatus::Cancelled), &[])]);
        assert_eq!(aggregate(&pending, &hour()).success_rate, None);
        let stats = aggregate(&[], &hour());
        assert_eq!((stats.success_rate, stats.deliveries.total), (None, 0));
        assert_eq!(stats.latency, LatencyPercentiles { attempts: 0, p50: None, p95: None });
        assert_eq!((stats.last_success_at, stats.last_failure_at), (None, None));
    }

    #[test]
    fn when_percentiles_asked_should_take_the_nearest_rank_exactly() {
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!((percentile(&hundred, 50), percentile(&hundred, 95)), (Some(50), Some(95)));
        assert_eq!((percentile(&[7], 50), percentile(&[7], 95)), (Some(7), Some(7)));
        assert_eq!((percentile(&[1, 2], 50), percentile(&[1, 2], 95)), (Some(1), Some(2)));
        let twenty: Vec<u64> = (1..=20).map(|n| n * 10).collect();
        assert_eq!((percentile(&twenty, 50), percentile(&twenty, 95)), (Some(100), Some(190)));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[3, 9], 0), Some(3));
        assert_eq!(percentile(&[3, 9], 100), Some(9));
    }

    #[test]
    fn when_attempts_of_several_deliveries_should_take_percentiles_over_all_of_them() {
        use AttemptOutcome::*;
        let entries = [
            entry(Some(DeliveryStatus::Succeeded), &[(10, HttpError, 900), (20, Success, 30)]),
            entry(Some(DeliveryStatus::Failed), &[(30, Timeout, 1000), (40, ConnectionError, 5)]),
            entry(Some(DeliveryStatus::Succeeded), &[(50, Success, 20)]),
        ];
        let stats = aggregate(&records(&entries), &hour());
        assert_eq!(stats.latency, LatencyPercentiles { attempts: 5, p50: Some(30), p95: Some(1000) });
    }

    #[test]
    fn when_attempts_succeed_and_fail_should_give_the_last_of_each() {
        use AttemptOutcome::*;
        let entries = [
            entry(Some(DeliveryStatus::Succeeded), &[(100, HttpError, 1), (200, Success, 1)]),
            entry(Some(DeliveryStatus::Succeeded), &[(150, Success, 1)]),
            entry(Some(DeliveryStatus::Refused), &[(300, Refused, 0)]),
            entry(Some(DeliveryStatus::Pending), &[(250, Timeout, 1)]),
        ];
        let stats = aggregate(&records(&entries), &hour());
        assert_eq!((stats.last_success_at, stats.last_failure_at), (Some(at(200)), Some(at(300))));
        let only_successes = records(&[entry(Some(DeliveryStatus::Succeeded), &[(5, Success, 1)])]);
        let stats = aggregate(&only_successes, &hour());
        assert_eq!((stats.last_success_at, stats.last_failure_at), (Some(at(5)), None));
    }

    #[test]
    fn when_attempts_fall_outside_the_window_should_leave_them_out() {
        use AttemptOutcome::*;
        let span = hour();
        assert_eq!((span.start, span.end), (at(0), at(3600)));
        let entries = [entry(
            Some(DeliveryStatus::Succeeded),
            &[(-1, HttpError, 500), (0, HttpError, 400), (3600, Success, 10), (3601, Success, 20)],
        )];
        let stats = aggregate(&records(&entries), &span);
        assert_eq!(stats.latency, LatencyPercentiles { attempts: 2, p50: Some(10), p95: Some(400) }, "both ends in");
        assert_eq!((stats.last_success_at, stats.last_failure_at), (Some(at(3600)), Some(at(0))));
        assert_eq!(stats.deliveries.succeeded, 1, "the delivery counts: its message is in the window");
    }

    #[test]
    fn when_series_made_should_count_each_delivery_in_the_part_its_message_was_accepted_in() {
        use DeliveryStatus::*;
        let span = hour();
        let record = |status, minute: i64| DeliveryRecord {
            accepted_at: Some(span.start + Duration::minutes(minute)),
            status: Some(status),
            attempts: Vec::new(),
        };
        let deliveries =
            [record(Succeeded, 0), record(Failed, 4), record(Succeeded, 5), record(Pending, 60), record(Failed, 61)];
        let parts = series(&deliveries, &span);
        assert_eq!(parts.len(), 12);
        assert_eq!(parts[0].0.start, span.start);
        assert_eq!(parts[11].0.end, span.end);
        assert_eq!((parts[0].1.succeeded, parts[0].1.failed, parts[0].1.total), (1, 1, 2));
        assert_eq!((parts[1].1.succeeded, parts[1].1.total), (1, 1));
        assert_eq!((parts[11].1.pending, parts[11].1.total), (1, 1), "the window's end is in its last part");
        assert_eq!(parts.iter().map(|(_, counts)| counts.total).sum::<u64>(), 4, "after the end: left out");
    }

    #[test]
    fn when_window_chosen_should_end_now_and_start_its_length_before() {
        let end = at(1_000_000);
        assert_eq!(Span::ending(Window::Hour, end).start, end - Duration::hours(1));
        assert_eq!(Span::ending(Window::Day, end).start, end - Duration::hours(24));
        assert_eq!(Span::ending(Window::Week, end).start, end - Duration::days(7));
        assert_eq!(Span::ending(Window::Week, end).end, end);
    }

    #[test]
    fn when_window_parameter_parsed_should_accept_1h_24h_7d_and_default_to_24h() {
        assert_eq!(parse_stats_query(None).ok(), Some(Window::Day));
        assert_eq!(parse_stats_query(Some("")).ok(), Some(Window::Day));
        assert_eq!(parse_stats_query(Some("window=1h")).ok(), Some(Window::Hour));
        assert_eq!(parse_stats_query(Some("window=24h")).ok(), Some(Window::Day));
        assert_eq!(parse_stats_query(Some("window=7d")).ok(), Some(Window::Week));
    }

    #[test]
    fn when_window_parameter_is_bad_should_be_a_400_naming_it() {
        let refused = |raw: &str| match parse_stats_query(Some(raw)) {
            Err(Error::BadRequest(problem)) => (problem.code, problem.source),
            other => panic!("{raw}: {other:?}"),
        };
        let window = Some(Source::Parameter("window".into()));
        for raw in ["window=2h", "window=", "window=7D", "window=24h&window=1h"] {
            let (code, source) = refused(raw);
            assert_eq!(source, window, "{raw}");
            assert!(code == "invalid_window" || code == "duplicate_parameter", "{raw}: {code}");
        }
        assert_eq!(refused("since=1h"), ("unknown_parameter", Some(Source::Parameter("since".into()))));
    }

    #[test]
    fn when_document_made_should_carry_window_figures_and_how_far_the_read_went() {
        use AttemptOutcome::*;
        let span = hour();
        let sample = LogSample {
            deliveries: records(&[entry(Some(DeliveryStatus::Succeeded), &[(60, Success, 12)])]),
            entries_read: 3,
            truncated: true,
            covered_from: at(1800),
        };
        let document = stats_document(WEBHOOK_STATS_TYPE, "7", "/api/v3/notification/webhooks/7/stats", &span, &sample);
        let json = serde_json::to_value(&document).expect("json");
        assert_eq!(json["data"]["type"], "webhook_stats");
        assert_eq!(json["data"]["id"], "7");
        let attributes = &json["data"]["attributes"];
        assert_eq!(attributes["window"], "1h");
        assert_eq!(attributes["start"], timestamp(at(0)));
        assert_eq!(attributes["end"], timestamp(at(3600)));
        assert_eq!(attributes["deliveries"]["succeeded"], 1);
        assert_eq!(attributes["success_rate"], 1.0);
        assert_eq!(attributes["latency_ms"], serde_json::json!({"attempts": 1, "p50": 12, "p95": 12}));
        assert_eq!(attributes["last_success_at"], timestamp(at(60)));
        assert_eq!(attributes["last_failure_at"], serde_json::Value::Null);
        assert_eq!(json["data"]["links"]["self"], "/api/v3/notification/webhooks/7/stats?window=1h");
        assert_eq!(
            json["meta"],
            serde_json::json!({"truncated": true, "entries_read": 3, "max_entries": 20000, "covered_from": timestamp(at(1800))})
        );
    }
}
