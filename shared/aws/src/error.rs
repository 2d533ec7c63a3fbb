//! Translation of AWS SDK errors into domain errors: a failed condition is a conflict, a
//! throttle or a network fault is retryable, anything else is an internal fault.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use hookline_domain::Error;
use std::fmt::Debug;

const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "InternalServerError",
    "ServiceUnavailable",
    "RequestThrottled",
    "AWS.SimpleQueueService.RequestThrottled",
];

/// Classifies an SDK error of `operation` into a domain error.
pub fn classify<E, R>(operation: &'static str, error: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug,
{
    if matches!(error, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)) {
        return Error::Unavailable(format!("{operation}: {}", DisplayErrorContext(&error)));
    }
    match error.code() {
        Some("ConditionalCheckFailedException") => {
            Error::Conflict(format!("{operation}: the condition on the item failed"))
        }
        Some(code) if RETRYABLE_CODES.contains(&code) => Error::Unavailable(format!("{operation}: {code}")),
        _ => Error::Internal(format!("{operation}: {}", DisplayErrorContext(&error))),
    }
}
