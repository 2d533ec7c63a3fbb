//! `/api/v3/notification/webhooks`: list, create, show, patch, delete, secret, test send.

use crate::request::{caller, json_body, query};
use hookline_aws::Context;
use hookline_domain::Error;
use hookline_domain::auth::Caller;
use hookline_domain::event_types::catalog;
use hookline_domain::http::json_response;
use hookline_domain::model::Webhook;
use hookline_domain::query::{QuerySpec, matches, page_links, paginate, parse_query, sort, sparse};
use hookline_domain::webhooks::{self, ATTRIBUTES, Rules, apply_changes, attributes, new_webhook, resource};
use lambda_http::Request;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The collection's path.
pub const PATH: &str = "/api/v3/notification/webhooks";

/// Tries of a patch that races other writers before it answers 409.
const PATCH_TRIES: u32 = 5;

const LIST: QuerySpec = QuerySpec {
    resource_type: webhooks::TYPE,
    sortable: ATTRIBUTES,
    filterable: &[
        "id",
        "account_id",
        "name",
        "url",
        "secret",
        "events",
        "scopes",
        "created_at",
        "updated_at",
        "environment",
        "status",
        "signature_algo",
    ],
    fields: ATTRIBUTES,
    cursor: false,
};

const SHOW: QuerySpec = QuerySpec { sortable: &[], filterable: &[], ..LIST };

type Response = http::Response<String>;

fn rules<'a>(context: &Context, caller: &Caller, catalog: &'a BTreeSet<String>) -> Rules<'a> {
    Rules { environment: caller.environment, allow_http: context.settings.allow_http_webhooks, catalog }
}

async fn account_catalog(context: &Context, caller: &Caller) -> Result<BTreeSet<String>, Error> {
    Ok(catalog(&context.store.list_event_types(caller.account_id).await?))
}

async fn find(context: &Context, caller: &Caller, id: u64) -> Result<Webhook, Error> {
    context.store.get_webhook(caller.account_id, id).await?.ok_or_else(|| Error::not_found("webhook"))
}

/// `GET /webhooks`: filter, sort, page, sparse fields, count, links (seed 003).
pub async fn list(context: &Context, request: &Request) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    let raw = query(request);
    let list_query = parse_query(raw, &LIST)?;
    let mut items: Vec<_> = context
        .store
        .list_webhooks(caller.account_id)
        .await?
        .iter()
        .map(|webhook| attributes(webhook, true))
        .filter(|attributes| matches(attributes, &list_query.filters))
        .collect();
    sort(&mut items, &list_query.sort);
    let page = paginate(items, &list_query);
    let data: Vec<Value> = page
        .items
        .into_iter()
        .map(|mut attributes| {
            let id = attributes["id"].as_u64().unwrap_or_default();
            attributes.insert(
                "secret".into(),
                json!(webhooks::mask_secret(attributes["secret"].as_str().unwrap_or_default())),
            );
            resource(id, sparse(attributes, list_query.fields.as_deref()))
        })
        .collect();
    let mut document = json!({ "data": data, "links": page_links(PATH, raw, &list_query, page.last_page) });
    if list_query.count {
        document["meta"] = json!({ "total": page.total, "page": { "number": list_query.page_number, "size": list_query.page_size, "last": page.last_page } });
    }
    Ok(json_response(200, &document))
}

/// `POST /webhooks`: 201 with the secret in full and a `Location`.
pub async fn create(context: &Context, request: &Request) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    let document = json_body(request)?;
    let catalog = account_catalog(context, &caller).await?;
    let changes = webhooks::parse_create(&document, &rules(context, &caller, &catalog))?;
    let id = context.store.next_webhook_id(caller.account_id).await?;
    let webhook =
        new_webhook(id, caller.account_id, changes, caller.environment, caller.audit.clone(), chrono::Utc::now());
    context.store.create_webhook(&webhook).await?;
    tracing::info!(account_id = caller.account_id, webhook_id = id, "webhook created");
    let mut response = json_response(201, &json!({ "data": resource(id, attributes(&webhook, true)) }));
    if let Ok(location) = http::HeaderValue::from_str(&webhooks::self_link(id)) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /webhooks/:id` with `fields[webhooks]`.
pub async fn show(context: &Context, request: &Request, id: u64) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    let show_query = parse_query(query(request), &SHOW)?;
    let webhook = find(context, &caller, id).await?;
    let attributes = sparse(attributes(&webhook, false), show_query.fields.as_deref());
    Ok(json_response(200, &json!({ "data": resource(id, attributes) })))
}

/// `PATCH /webhooks/:id`: partial; re-applied on a fresh read when another writer won the
/// race, so that neither change is lost; 409 only if the race persists.
pub async fn patch(context: &Context, request: &Request, id: u64) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    let document = json_body(request)?;
    let catalog = if document.pointer("/data/attributes/events").is_some() {
        account_catalog(context, &caller).await?
    } else {
        BTreeSet::new()
    };
    let changes = webhooks::parse_patch(&document, id, &rules(context, &caller, &catalog))?;
    for _ in 0..PATCH_TRIES {
        let current = find(context, &caller, id).await?;
        let next = apply_changes(&current, &changes, caller.audit.clone(), chrono::Utc::now());
        match context.store.update_webhook(&next).await {
            Ok(()) => return Ok(json_response(200, &json!({ "data": resource(id, attributes(&next, false)) }))),
            Err(Error::Conflict(_)) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(Error::Conflict("the webhook is being changed by other requests; try again".into()))
}

/// `DELETE /webhooks/:id`: 204. Tasks already queued for it find it gone and stop.
pub async fn delete(context: &Context, request: &Request, id: u64) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    if !context.store.delete_webhook(caller.account_id, id).await? {
        return Err(Error::not_found("webhook"));
    }
    tracing::info!(account_id = caller.account_id, webhook_id = id, "webhook deleted");
    Ok(http::Response::builder().status(204).body(String::new()).unwrap_or_default())
}

/// `GET /webhooks/:id/secret`: the secret in full.
pub async fn secret(context: &Context, request: &Request, id: u64) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    let webhook = find(context, &caller, id).await?;
    Ok(json_response(
        200,
        &json!({ "data": { "type": "webhook_secrets", "id": id.to_string(), "attributes": { "secret": webhook.secret } } }),
    ))
}

/// `POST /webhooks/test/:id`: finished by the delivery engine; a clear 501 until then.
pub async fn test_send(context: &Context, request: &Request, id: u64) -> Result<Response, Error> {
    let caller = caller(&context.store, request).await?;
    find(context, &caller, id).await?;
    Err(Error::NotImplemented("the test send comes with the delivery engine".into()))
}
