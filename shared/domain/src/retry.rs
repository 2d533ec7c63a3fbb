//! The retry schedule: when the next try of a failed delivery is due, and how SQS waits for it.

use chrono::{DateTime, NaiveDateTime, Utc};
use std::collections::BTreeMap;
use std::time::Duration;

/// The default waits after each failed try (seconds): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
/// 10 h. Eight tries in all over about 27.6 hours.
pub const DEFAULT_SCHEDULE: [u32; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// The most steps a webhook's own schedule may have.
pub const MAX_STEPS: usize = 20;
/// The longest step of a webhook's own schedule: one day.
pub const MAX_STEP_SECONDS: u32 = 86_400;
/// A `Retry-After` above this is capped: an endpoint cannot park a delivery for days.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(6 * 3600);
/// Each wait is moved by up to this fraction, so that retries of many deliveries spread out.
pub const JITTER: f64 = 0.1;
/// SQS's longest `DelaySeconds`.
pub const SQS_MAX_DELAY: Duration = Duration::from_secs(900);

/// The wait before the next try, after `attempts_made` tries of which the last failed; `None`
/// when the schedule is spent. `jitter` in [-1, 1] scales [`JITTER`]; a `Retry-After` the
/// endpoint sent is honoured (never retried sooner), capped at [`RETRY_AFTER_CAP`].
pub fn next_delay(
    schedule: &[u32],
    attempts_made: u32,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Option<Duration> {
    let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
    let base = f64::from(*schedule.get(index)?);
    let jittered = Duration::from_secs_f64((base * (1.0 + JITTER * jitter.clamp(-1.0, 1.0))).max(1.0));
    Some(match retry_after {
        Some(asked) => jittered.max(asked.min(RETRY_AFTER_CAP)),
        None => jittered,
    })
}

/// How a wait until `due` goes through SQS: the `DelaySeconds` of the task (at most 15
/// minutes) and, when the wait is longer, the due time the task carries so that the worker
/// waits again on arrival.
pub fn sqs_wait(due: DateTime<Utc>, now: DateTime<Utc>) -> (Duration, Option<i64>) {
    let remaining = (due - now).to_std().unwrap_or(Duration::ZERO);
    if remaining <= SQS_MAX_DELAY { (remaining, None) } else { (SQS_MAX_DELAY, Some(due.timestamp())) }
}

/// Checks a webhook's own schedule; the message says what is wrong.
pub fn validate_schedule(steps: &[u32]) -> Result<(), String> {
    if steps.len() > MAX_STEPS {
        return Err(format!("at most {MAX_STEPS} steps"));
    }
    if let Some(step) = steps.iter().find(|step| **step == 0 || **step > MAX_STEP_SECONDS) {
        return Err(format!("each step is 1 to {MAX_STEP_SECONDS} seconds, not {step}"));
    }
    Ok(())
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

    #[test]
    fn when_following_the_default_schedule_should_wait_each_step_then_give_up() {
        let waits: Vec<u64> = (1..=8)
            .filter_map(|made| next_delay(&DEFAULT_SCHEDULE, made, None, 0.0))
            .map(|wait| wait.as_secs())
            .collect();
        assert_eq!(waits, [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]);
        assert_eq!(next_delay(&DEFAULT_SCHEDULE, 8, None, 0.0), None, "eight tries, then failed");
        assert_eq!(next_delay(&DEFAULT_SCHEDULE, 0, None, 0.0), None);
    }

    #[test]
    fn when_jittered_should_stay_within_ten_percent() {
        assert_eq!(next_delay(&[300], 1, None, 1.0), Some(Duration::from_secs(330)));
        assert_eq!(next_delay(&[300], 1, None, -1.0), Some(Duration::from_secs(270)));
        assert_eq!(next_delay(&[300], 1, None, 7.0), Some(Duration::from_secs(330)), "clamped");
        assert_eq!(next_delay(&[1], 1, None, -1.0), Some(Duration::from_secs(1)), "never below a second");
    }

    #[test]
    fn when_endpoint_sends_retry_after_should_not_retry_sooner_and_cap_it() {
        let asked = Some(Duration::from_secs(120));
        assert_eq!(next_delay(&[5], 1, asked, 0.0), Some(Duration::from_secs(120)));
        assert_eq!(next_delay(&[300], 1, asked, 0.0), Some(Duration::from_secs(300)), "the schedule is longer");
        let days = Some(Duration::from_secs(5 * 86_400));
        assert_eq!(next_delay(&[5], 1, days, 0.0), Some(RETRY_AFTER_CAP));
    }

    #[test]
    fn when_wait_exceeds_sqs_delay_should_carry_the_due_time() {
        let now = Utc::now();
        let soon = now + chrono::Duration::seconds(60);
        assert_eq!(sqs_wait(soon, now), (Duration::from_secs(60), None));
        let later = now + chrono::Duration::hours(2);
        assert_eq!(sqs_wait(later, now), (SQS_MAX_DELAY, Some(later.timestamp())));
        assert_eq!(sqs_wait(now - chrono::Duration::seconds(5), now), (Duration::ZERO, None));
    }

    #[test]
    fn when_custom_schedule_is_out_of_bounds_should_say_why() {
        assert!(validate_schedule(&[1, 2, 3]).is_ok());
        assert!(validate_schedule(&[0]).expect_err("zero").contains("1 to"));
        assert!(validate_schedule(&[86_401]).is_err());
        assert!(validate_schedule(&[1; 21]).expect_err("long").contains("20"));
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
}
