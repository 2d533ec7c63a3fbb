//! `/api/v3/notification/event_types` and the catalog at `/api/v3/notification/webhooks/events`.

use crate::request::{caller, json_body};
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::event_types::{self, catalog_resources, is_built_in};
use hookline_domain::http::json_response;
use lambda_http::Request;
use serde_json::json;

type Response = http::Response<String>;

/// `GET /webhooks/events` and `GET /event_types`: registered and built-in types.
pub async fn list(context: &Context, request: &Request) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    let registered = context.store.list_event_types(caller.account_id).await?;
    Ok(json_response(200, &json!({ "data": catalog_resources(&registered) })))
}

/// `POST /event_types`: 201, or 409 if the name is registered.
pub async fn create(context: &Context, request: &Request) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    let document = json_body(request)?;
    let kind = event_types::parse_create(&document, caller.account_id, chrono::Utc::now())?;
    context.store.create_event_type(&kind).await.map_err(|error| match error {
        Error::Conflict(_) => Error::Conflict(format!("the event type {} is registered already", kind.name)),
        other => other,
    })?;
    let resource = event_types::resource(&kind.name, &kind.description, kind.schema.as_ref(), Some(kind.created_at));
    let mut response = json_response(201, &json!({ "data": resource }));
    if let Ok(location) = http::HeaderValue::from_str(&format!("/api/v3/notification/event_types/{}", kind.name)) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    Ok(response)
}

/// `DELETE /event_types/:name`: 204. Webhooks subscribed to it keep their subscription.
pub async fn delete(context: &Context, request: &Request, name: &str) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    if is_built_in(name) {
        return Err(Error::Conflict(format!("{name} is built in and cannot be removed")));
    }
    if !context.store.delete_event_type(caller.account_id, name).await? {
        return Err(Error::not_found("event type"));
    }
    Ok(http::Response::builder().status(204).body(String::new()).unwrap_or_default())
}
