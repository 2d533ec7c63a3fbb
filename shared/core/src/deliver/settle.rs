//! One attempt and what follows it: the signed request, the send, and the decision (success,
//! a retry on the schedule, or a final state), with the webhook's failure record (an endpoint
//! that is gone, or failing for too long, is disabled and its account told).

use super::{Deliverer, DeliveryStore, retry_task};
use crate::accept::Acceptor;
use crate::operational::{self, Operational, Publisher};
use crate::ports::{Outgoing, OutgoingRequest, SendOutcome, TaskQueue, Transport};
use chrono::{DateTime, Duration as Span, Utc};
use hookline_domain::auth::Caller;
use hookline_domain::events::NewEvent;
use hookline_domain::model::{
    Attempt, AttemptOutcome, Audit, DeliverTask, DeliveryStatus, DisabledReason, LogEntry, Message, Webhook,
    WebhookStatus,
};
use hookline_domain::retry::{DEFAULT_SCHEDULE, next_delay, retry_after};
use hookline_domain::signing::signature_headers;
use hookline_domain::transformations::{self, TransformFailure, Transformed};
use hookline_domain::{Error, Result};
use std::collections::BTreeMap;
use std::time::Duration;

/// The delivery timeout when a webhook sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// The `user-agent` of every delivery.
pub const USER_AGENT: &str = concat!("Hookline/", env!("CARGO_PKG_VERSION"));

/// The signed POST of `message` to `webhook`: its payload, or what the webhook's
/// transformation made of it (the body it signs, and headers over the webhook's own).
pub fn build_request(
    webhook: &Webhook,
    message: &Message,
    transformed: Option<&Transformed>,
    at: DateTime<Utc>,
) -> Result<OutgoingRequest> {
    let body = serde_json::to_vec(transformed.map_or(&message.payload, |transformed| &transformed.body))
        .map_err(Error::internal)?;
    let mut headers: Vec<(String, String)> =
        vec![("content-type".into(), "application/json".into()), ("user-agent".into(), USER_AGENT.into())];
    let extra = transformed.map(|transformed| &transformed.headers);
    let replaced = |name: &str| extra.is_some_and(|extra| extra.keys().any(|own| own.eq_ignore_ascii_case(name)));
    headers.extend(
        webhook.headers.iter().filter(|(name, _)| !replaced(name)).map(|(name, value)| (name.clone(), value.clone())),
    );
    headers.extend(extra.into_iter().flatten().map(|(name, value)| (name.clone(), value.clone())));
    let keys = webhook.signing_keys(at);
    for (name, value) in signature_headers(webhook.signature_algo, &keys, &message.id, at.timestamp(), &body)? {
        headers.push((name.to_string(), value));
    }
    let timeout = webhook.timeout_seconds.map_or(DEFAULT_TIMEOUT, |seconds| Duration::from_secs(u64::from(seconds)));
    Ok(OutgoingRequest { url: webhook.url.clone(), headers, body, timeout })
}

impl<S, Q, T> Deliverer<S, Q, T>
where
    S: DeliveryStore,
    Q: TaskQueue,
    T: Transport,
{
    /// Sends one attempt (after the webhook's transformation, if it has one); returns what
    /// happened and its record.
    pub async fn attempt(&self, webhook: &Webhook, message: &Message, number: u32) -> Result<(SendOutcome, Attempt)> {
        let at = Utc::now();
        let outcome = match self.transform(webhook, message).await? {
            Ok(transformed) => {
                let request = build_request(webhook, message, transformed.as_ref(), at)?;
                self.transport.send(&request).await
            }
            Err(failure) => {
                let took = u64::try_from((Utc::now() - at).num_milliseconds()).unwrap_or(0);
                SendOutcome::without_response(AttemptOutcome::TransformationError, failure.to_string(), took)
            }
        };
        tracing::info!(
            message_id = %message.id,
            webhook_id = webhook.id,
            attempt = number,
            outcome = ?outcome.outcome,
            status = outcome.status_code,
            latency_ms = outcome.latency_ms,
            "delivery attempt"
        );
        let record = Attempt {
            message_id: message.id.clone(),
            webhook_id: webhook.id,
            account_id: message.account_id,
            number,
            at,
            outcome: outcome.outcome,
            status_code: outcome.status_code,
            response_headers: outcome.response_headers.clone(),
            response_body: match &outcome.error {
                Some(error) if outcome.response_body.is_empty() => error.clone(),
                _ => outcome.response_body.clone(),
            },
            latency_ms: outcome.latency_ms,
        };
        Ok((outcome, record))
    }

    /// What `webhook`'s transformation makes of `message`: `None` when it has none.
    async fn transform(
        &self,
        webhook: &Webhook,
        message: &Message,
    ) -> Result<std::result::Result<Option<Transformed>, TransformFailure>> {
        let Some(program) = &webhook.transformation else { return Ok(Ok(None)) };
        let output = self.transformer.transform(program, transformations::input(message, webhook)).await?;
        Ok(output.and_then(transformations::output).map(Some))
    }

    /// Decides what follows an attempt and records both in `entry`: success, a retry (the
    /// task returned), or a final state; and keeps the webhook's failure record (410 and long
    /// failure disable it).
    pub(super) async fn settle(
        &self,
        webhook: &Webhook,
        entry: &mut LogEntry,
        attempt: Attempt,
        outcome: &SendOutcome,
    ) -> Result<Option<Outgoing>> {
        let now = Utc::now();
        let number = attempt.number;
        match outcome.outcome {
            AttemptOutcome::Success => {
                entry.record(attempt, DeliveryStatus::Succeeded, None);
                if webhook.failing_since.is_some() {
                    self.update_webhook(webhook, |hook| hook.failing_since.take().is_some()).await?;
                }
                if number > 1 {
                    self.tell(operational::ATTEMPT_RECOVERED, entry, outcome).await?;
                }
                return Ok(None);
            }
            AttemptOutcome::TransformationError => {
                // Not the endpoint's failure: the webhook's failure record is left alone.
                entry.record(attempt, DeliveryStatus::Failed, None);
                self.tell(operational::ATTEMPT_EXHAUSTED, entry, outcome).await?;
                return Ok(None);
            }
            AttemptOutcome::Refused => {
                entry.record(attempt, DeliveryStatus::Refused, None);
                self.tell(operational::ATTEMPT_EXHAUSTED, entry, outcome).await?;
                return Ok(None);
            }
            _ if outcome.status_code == Some(410) => {
                entry.record(attempt, DeliveryStatus::Failed, None);
                self.tell(operational::ATTEMPT_EXHAUSTED, entry, outcome).await?;
                self.disable(webhook, DisabledReason::EndpointGone).await?;
                return Ok(None);
            }
            _ => {}
        }
        let asked = match outcome.status_code {
            Some(429 | 503) => retry_after(&outcome.response_headers, now),
            _ => None,
        };
        let schedule = webhook.retry_schedule.as_deref().unwrap_or(&DEFAULT_SCHEDULE);
        let jitter = rand::random_range(-1.0..=1.0);
        let next = match next_delay(schedule, number, asked, jitter) {
            Some(wait) => {
                let due = now + Span::from_std(wait).unwrap_or(Span::zero());
                entry.record(attempt, DeliveryStatus::Pending, Some(due));
                if number == 1 {
                    self.tell(operational::ATTEMPT_FAILING, entry, outcome).await?;
                }
                let task = DeliverTask::retry(entry.message.account_id, &entry.message.id, webhook.id, number);
                Some(retry_task(&task, number + 1, due))
            }
            None => {
                entry.record(attempt, DeliveryStatus::Failed, None);
                self.tell(operational::ATTEMPT_EXHAUSTED, entry, outcome).await?;
                None
            }
        };
        match webhook.failing_since {
            None => {
                self.update_webhook(webhook, |hook| {
                    let first_failure = hook.failing_since.is_none();
                    if first_failure {
                        hook.failing_since = Some(now);
                    }
                    first_failure
                })
                .await?;
            }
            Some(since) if now - since >= self.policy.disable_after => {
                self.disable(webhook, DisabledReason::FailingTooLong).await?;
            }
            Some(_) => {}
        }
        Ok(next)
    }

    /// The operational publisher on this flow's store and queue.
    fn publisher(&self) -> Publisher<'_, S, Q> {
        Publisher { store: &self.store, queue: &self.queue, retention_days: self.policy.retention_days }
    }

    /// Tells the platform what became of the delivery `entry` records (its last attempt
    /// just recorded). A failure fails the task, which runs again: the event's key makes it one.
    async fn tell(&self, event_type: &'static str, entry: &LogEntry, outcome: &SendOutcome) -> Result<()> {
        let webhook_id = entry.webhook_id.unwrap_or_default();
        let attempt = entry.attempts.len();
        let payload = serde_json::json!({
            "webhook_id": webhook_id,
            "message_id": entry.message.id,
            "event_type": entry.message.event_type,
            "environment": entry.message.environment,
            "attempt": attempt,
            "status": entry.status,
            "outcome": outcome.outcome,
            "status_code": outcome.status_code,
            "next_attempt_at": entry.next_attempt_at.map(hookline_domain::webhooks::timestamp),
        });
        let event = Operational {
            event_type,
            account_id: entry.message.account_id,
            payload,
            idempotency_key: format!("{}:{webhook_id}:{attempt}", entry.message.id),
        };
        self.tell_platform(event).await
    }

    /// Tells the platform `event`, from this process's copy of the platform (read again after
    /// [`super::PLATFORM_TTL`]).
    async fn tell_platform(&self, event: Operational) -> Result<()> {
        let cached = {
            let cache = self.platform.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            cache.as_ref().filter(|(_, at)| at.elapsed() < super::PLATFORM_TTL).map(|(platform, _)| platform.clone())
        };
        let platform = match cached {
            Some(platform) => platform,
            None => {
                let platform = self.publisher().platform().await?;
                let mut cache = self.platform.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                *cache = Some((platform.clone(), std::time::Instant::now()));
                platform
            }
        };
        match platform {
            Some(platform) => self.publisher().publish_to(&platform, event).await,
            None => Ok(()),
        }
    }

    /// Changes a webhook with optimistic concurrency, re-reading it when another writer won.
    /// `change` says whether it changed anything: concurrent workers making the same change
    /// write it once. `None` if nothing was written (no change left to make, or it is gone).
    async fn update_webhook(
        &self,
        webhook: &Webhook,
        change: impl Fn(&mut Webhook) -> bool,
    ) -> Result<Option<Webhook>> {
        let mut current = webhook.clone();
        for _ in 0..5 {
            let mut next = current.clone();
            if !change(&mut next) {
                return Ok(None);
            }
            next.version = current.version + 1;
            match self.store.update_webhook(&next).await {
                Ok(()) => {
                    self.webhooks.remember(next.account_id, next.id, Some(&next));
                    return Ok(Some(next));
                }
                Err(Error::Conflict(_)) => match self.fresh_webhook(webhook.account_id, webhook.id).await? {
                    Some(fresh) => current = fresh,
                    None => return Ok(None),
                },
                Err(error) => return Err(error),
            }
        }
        Err(Error::Conflict(format!("webhook {} keeps changing", webhook.id)))
    }

    /// Disables a webhook with its reason and tells its account with a `webhook.disabled`
    /// event.
    async fn disable(&self, webhook: &Webhook, reason: DisabledReason) -> Result<()> {
        let Some(disabled) = self
            .update_webhook(webhook, |hook| {
                let enabled = hook.status == WebhookStatus::Enabled;
                if enabled {
                    hook.status = WebhookStatus::Disabled;
                    hook.disabled_reason = Some(reason);
                    hook.updated_at = Utc::now();
                }
                enabled
            })
            .await?
        else {
            return Ok(());
        };
        tracing::warn!(account_id = webhook.account_id, webhook_id = webhook.id, ?reason, "webhook disabled");
        let payload = serde_json::json!({
            "webhook_id": webhook.id,
            "url": webhook.url,
            "reason": reason,
            "disabled_at": hookline_domain::webhooks::timestamp(disabled.updated_at),
        });
        let event = NewEvent {
            event_type: "webhook.disabled".into(),
            fingerprint: payload.to_string(),
            subject: None,
            payload,
            environment: webhook.environment,
            scopes: BTreeMap::new(),
            occurred_at: Utc::now(),
            idempotency_key: Some(format!("webhook.disabled:{}:{}", webhook.id, disabled.version)),
        };
        let caller = Caller {
            account_id: webhook.account_id,
            environment: webhook.environment,
            audit: Audit { client_id: "hookline".into(), external_client_id: None, app: Some("delivery".into()) },
        };
        let webhooks = self.store.list_webhooks(webhook.account_id).await?;
        let acceptor = Acceptor { store: &self.store, queue: &self.queue, retention_days: self.policy.retention_days };
        acceptor.accept(&caller, &webhooks, event).await?;
        self.tell_platform(Operational {
            event_type: operational::WEBHOOK_DISABLED,
            account_id: webhook.account_id,
            payload: serde_json::json!({ "webhook_id": webhook.id, "url": webhook.url, "reason": reason }),
            idempotency_key: format!("{}:{}", webhook.id, disabled.version),
        })
        .await
    }
}
