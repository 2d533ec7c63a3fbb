//! Erasures: jobs that remove the payloads of an account's messages about one subject.

use super::account::AccountId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where an erasure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    /// Erasing, or waiting out deliveries that were in flight when it began.
    Running,
    /// Every message about the subject accepted before it began has no payload left.
    Done,
}

/// An erasure by subject. The subject itself is not kept: only its digest, which is what the
/// subject index is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    /// `ers_` + a UUIDv7.
    pub id: String,
    /// Its account.
    pub account_id: AccountId,
    /// SHA-256 of the subject, hex.
    pub subject_digest: String,
    /// Running or done.
    pub status: ErasureStatus,
    /// Messages whose payload it erased so far.
    pub erased: u64,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The step it waits for: the pass (1 erases, 2 sweeps; 0 when done) and the cursor of the
    /// page. A step the queue hands out twice finds the job past it and does nothing.
    #[serde(default)]
    pub step: (u8, Option<String>),
}

impl Erasure {
    /// A new erasure of `subject`'s messages in `account`.
    pub fn new(account_id: AccountId, subject: &str, now: DateTime<Utc>) -> Self {
        Self {
            id: format!("ers_{}", uuid::Uuid::now_v7().simple()),
            account_id,
            subject_digest: subject_digest(subject),
            status: ErasureStatus::Running,
            erased: 0,
            created_at: now,
            finished_at: None,
            step: (1, None),
        }
    }
}

/// The erasure mark of a whole subject (a message's mark is its id): first attempts of the
/// subject's messages accepted before the mark are cancelled from the moment it is made.
pub fn subject_mark(digest: &str) -> String {
    format!("subject:{digest}")
}

/// What the subject index and erasures key a subject by: its SHA-256, hex.
pub fn subject_digest(subject: &str) -> String {
    hex::encode(Sha256::digest(subject.as_bytes()))
}
