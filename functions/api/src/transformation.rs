//! A webhook's transformation: its program checked where it is written (create, patch), and
//! `POST /webhooks/{id}/transformation/test`, which runs a program on a sample event.

use crate::openapi::{ActionRefusals, Guarded, WebhookNotFound};
use crate::reply;
use axum::extract::State;
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::documents::{
    TransformationTestAttributes, TransformationTestDocument, TransformationTestResource,
    TransformationTestResultDocument,
};
use hookline_domain::transformations::{self, TEST_TYPE, TransformFailure};
use hookline_domain::webhooks::{WILDCARD, WebhookChanges};
use hookline_web::{Answer, ApiError, Authenticated, Document, OptionalDocument, WebhookId};

const POINTER: &str = "/data/attributes/transformation";

/// Refuses a new program that does not parse (422, with its line and column). Parsed in the
/// sandbox: parsing a deeply nested program overflows jaq's stack.
pub async fn check(context: &Context, changes: &WebhookChanges) -> Result<(), Error> {
    let hookline_domain::Patch::Value(program) = &changes.transformation else { return Ok(()) };
    match context.transformer.check(program).await? {
        Ok(()) => Ok(()),
        Err(error) => Err(Error::Invalid(vec![error.problem(POINTER)])),
    }
}

/// `POST /webhooks/{id}/transformation/test`: runs the program given (or the webhook's own) on
/// a sample event (the payload given, or the type's example) and answers what the webhook would
/// receive, or why it would receive nothing. Nothing is sent or recorded.
#[utoipa::path(post, path = "/api/v3/notification/webhooks/{id}/transformation/test", tag = "webhooks",
    summary = "Test a transformation on a sample event",
    params(("id" = u64, Path, description = "The webhook id")),
    request_body(content = Option<TransformationTestDocument>, content_type = "application/vnd.api+json"),
    responses(
        (status = 200, description = "What the program made of the event (`ok`), or why nothing (`transformation_error`)", body = TransformationTestResultDocument, content_type = "application/vnd.api+json"),
        ActionRefusals, WebhookNotFound, Guarded,
    )
)]
pub async fn test(
    State(context): State<Context>,
    Authenticated(caller): Authenticated,
    WebhookId(id): WebhookId,
    Document(body): OptionalDocument,
) -> Answer {
    let context = &context;
    let request = transformations::parse_test(&body)?;
    let webhook = crate::webhooks::find(context, &caller, id).await?;
    let Some(program) = request.program.or_else(|| webhook.transformation.clone()) else {
        return Err(ApiError::from(Error::invalid(
            POINTER,
            "missing_transformation",
            "the webhook has no transformation: give one to test",
        )));
    };
    let catalog = hookline_domain::event_types::Catalog::new(context.store.list_event_types().await?);
    let event_type = match request.event_type {
        Some(name) if catalog.contains(&name) => name,
        Some(_) => {
            return Err(ApiError::from(Error::invalid(
                "/data/attributes/event_type",
                "unknown_event_type",
                "not a type of the catalog",
            )));
        }
        None => webhook
            .events
            .iter()
            .map(|subscription| subscription.event_type.as_str())
            .find(|name| *name != WILDCARD && catalog.contains(name))
            .unwrap_or("webhook.test")
            .to_string(),
    };
    let payload = request.payload.or_else(|| catalog.example(&event_type)).unwrap_or_else(|| serde_json::json!({}));
    let input = transformations::event_document(
        &hookline_domain::model::Message::new_id(),
        &event_type,
        chrono::Utc::now(),
        &payload,
        &webhook.headers,
    );
    let outcome = match context.transformer.run(&program, input.clone()).await? {
        Err(TransformFailure::Program(error)) => {
            return Err(ApiError::from(Error::Invalid(vec![error.problem(POINTER)])));
        }
        Err(failure) => Err(failure),
        Ok(output) => transformations::output(output),
    };
    let attributes = match outcome {
        Ok(transformed) => TransformationTestAttributes {
            status: "ok".into(),
            input,
            body: Some(transformed.body),
            headers: Some(transformed.headers),
            error: None,
        },
        Err(failure) => TransformationTestAttributes {
            status: "transformation_error".into(),
            input,
            body: None,
            headers: None,
            error: Some(failure.to_string()),
        },
    };
    let data = TransformationTestResource { kind: TEST_TYPE.into(), id: id.to_string(), attributes };
    Ok(reply::document(200, &TransformationTestResultDocument { data }))
}
