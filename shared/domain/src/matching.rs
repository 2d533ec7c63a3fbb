//! Which webhooks an event reaches: event type (exact or `*`), environment, scopes, payload
//! filters (seed 002), and only enabled webhooks.

use crate::model::{Environment, EventSubscription, Webhook, WebhookStatus};
use crate::webhooks::WILDCARD;
use serde_json::Value;
use std::collections::BTreeMap;

/// What of an event matching looks at.
#[derive(Debug, Clone, Copy)]
pub struct EventFacts<'a> {
    /// Its type.
    pub event_type: &'a str,
    /// Its environment.
    pub environment: Environment,
    /// Its scopes.
    pub scopes: &'a BTreeMap<String, String>,
    /// Its payload.
    pub payload: &'a Value,
}

/// Whether `webhook` receives the event: it is enabled, of the event's environment, every
/// scope key of the webhook has the event's value, and one subscription matches.
pub fn webhook_matches(webhook: &Webhook, event: &EventFacts<'_>) -> bool {
    webhook.status == WebhookStatus::Enabled
        && webhook.environment == event.environment
        && webhook.scopes.iter().all(|(key, value)| event.scopes.get(key) == Some(value))
        && webhook.events.iter().any(|subscription| subscription_matches(subscription, event))
}

/// Whether a subscription takes the event: its type (or `*`), and every filter holds.
pub fn subscription_matches(subscription: &EventSubscription, event: &EventFacts<'_>) -> bool {
    (subscription.event_type == WILDCARD || subscription.event_type == event.event_type)
        && subscription.filters.iter().all(|(path, allowed)| {
            lookup(event.payload, path)
                .is_some_and(|value| allowed.iter().any(|candidate| same_value(candidate, value)))
        })
}

/// The value at a dotted path of a JSON object (`a.b.c`); array elements by index (`items.0`).
pub fn lookup<'v>(payload: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(payload, |value, part| match value {
        Value::Object(object) => object.get(part),
        Value::Array(items) => part.parse::<usize>().ok().and_then(|index| items.get(index)),
        _ => None,
    })
}

/// JSON equality, with numbers compared by value (`1` equals `1.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Audit, Filters};
    use crate::webhooks::{WebhookChanges, new_webhook};
    use chrono::Utc;
    use serde_json::json;

    fn webhook(events: Vec<EventSubscription>) -> Webhook {
        let changes = WebhookChanges { url: Some("https://e.com".into()), events: Some(events), ..Default::default() };
        new_webhook(1, 1, changes, Environment::Production, Audit::default(), Utc::now())
    }

    fn on(event_type: &str) -> EventSubscription {
        EventSubscription { event_type: event_type.into(), filters: Filters::new() }
    }

    fn filtered(event_type: &str, filters: &[(&str, Vec<Value>)]) -> EventSubscription {
        EventSubscription {
            event_type: event_type.into(),
            filters: filters.iter().map(|(path, values)| (path.to_string(), values.clone())).collect(),
        }
    }

    fn facts<'a>(event_type: &'a str, scopes: &'a BTreeMap<String, String>, payload: &'a Value) -> EventFacts<'a> {
        EventFacts { event_type, environment: Environment::Production, scopes, payload }
    }

    #[test]
    fn when_event_type_is_subscribed_exactly_or_by_wildcard_should_match() {
        let none = BTreeMap::new();
        let payload = json!({});
        let event = facts("loan.created", &none, &payload);
        assert!(webhook_matches(&webhook(vec![on("loan.created")]), &event));
        assert!(webhook_matches(&webhook(vec![on("other"), on("*")]), &event));
        assert!(!webhook_matches(&webhook(vec![on("loan.updated")]), &event));
        assert!(!webhook_matches(&webhook(vec![on("loan")]), &event), "no prefix matching");
        assert!(!webhook_matches(&webhook(vec![on("LOAN.CREATED")]), &event), "case-sensitive");
        assert!(!webhook_matches(&webhook(vec![]), &event));
    }

    #[test]
    fn when_environments_differ_should_not_match() {
        let none = BTreeMap::new();
        let payload = json!({});
        let mut sandbox = webhook(vec![on("*")]);
        sandbox.environment = Environment::Sandbox;
        assert!(!webhook_matches(&sandbox, &facts("a", &none, &payload)));
        let event = EventFacts { environment: Environment::Sandbox, ..facts("a", &none, &payload) };
        assert!(webhook_matches(&sandbox, &event));
        assert!(!webhook_matches(&webhook(vec![on("*")]), &event));
    }

    #[test]
    fn when_webhook_is_disabled_should_never_match() {
        let none = BTreeMap::new();
        let payload = json!({});
        let mut disabled = webhook(vec![on("*")]);
        disabled.status = WebhookStatus::Disabled;
        assert!(!webhook_matches(&disabled, &facts("a", &none, &payload)));
    }

    #[test]
    fn when_webhook_has_scopes_should_match_only_events_carrying_each_of_them() {
        let payload = json!({});
        let mut scoped = webhook(vec![on("ENTITLEMENT")]);
        scoped.scopes = BTreeMap::from([("offering_id".into(), "539b".into())]);
        let exact = BTreeMap::from([("offering_id".to_string(), "539b".to_string())]);
        let more =
            BTreeMap::from([("offering_id".to_string(), "539b".to_string()), ("region".to_string(), "eu".to_string())]);
        let other = BTreeMap::from([("offering_id".to_string(), "ffff".to_string())]);
        let none = BTreeMap::new();
        assert!(webhook_matches(&scoped, &facts("ENTITLEMENT", &exact, &payload)));
        assert!(webhook_matches(&scoped, &facts("ENTITLEMENT", &more, &payload)), "extra event scopes are fine");
        assert!(!webhook_matches(&scoped, &facts("ENTITLEMENT", &other, &payload)));
        assert!(!webhook_matches(&scoped, &facts("ENTITLEMENT", &none, &payload)), "a missing scope does not match");
        assert!(
            webhook_matches(&webhook(vec![on("ENTITLEMENT")]), &facts("ENTITLEMENT", &other, &payload)),
            "an unscoped webhook takes all"
        );
    }

    #[test]
    fn when_filters_hold_should_match_and_when_any_fails_should_not() {
        let none = BTreeMap::new();
        let hook = webhook(vec![filtered("loan.created", &[("status", vec![json!("canceled"), json!("open")])])]);
        for (payload, expected) in [
            (json!({"status": "open"}), true),
            (json!({"status": "canceled"}), true),
            (json!({"status": "closed"}), false),
            (json!({"status": "OPEN"}), false),
            (json!({}), false),
            (json!({"status": null}), false),
            (json!({"status": ["open"]}), false),
        ] {
            assert_eq!(webhook_matches(&hook, &facts("loan.created", &none, &payload)), expected, "{payload}");
        }
    }

    #[test]
    fn when_filters_use_dotted_paths_numbers_booleans_and_null_should_compare_json_values() {
        let none = BTreeMap::new();
        let hook = webhook(vec![filtered(
            "x",
            &[
                ("loan.customer.tier", vec![json!("gold")]),
                ("amount", vec![json!(100), json!(200)]),
                ("flags.0", vec![json!(true)]),
                ("note", vec![Value::Null]),
            ],
        )]);
        let matching = json!({"loan": {"customer": {"tier": "gold"}}, "amount": 100.0, "flags": [true], "note": null});
        assert!(webhook_matches(&hook, &facts("x", &none, &matching)));
        let string_number =
            json!({"loan": {"customer": {"tier": "gold"}}, "amount": "100", "flags": [true], "note": null});
        assert!(!webhook_matches(&hook, &facts("x", &none, &string_number)), "\"100\" is not 100");
        let absent_null = json!({"loan": {"customer": {"tier": "gold"}}, "amount": 200, "flags": [true]});
        assert!(!webhook_matches(&hook, &facts("x", &none, &absent_null)), "absent is not null");
        let deep_miss = json!({"loan": {"customer": "gold"}, "amount": 200, "flags": [true], "note": null});
        assert!(!webhook_matches(&hook, &facts("x", &none, &deep_miss)));
    }

    #[test]
    fn when_one_subscription_of_several_matches_should_match() {
        let none = BTreeMap::new();
        let payload = json!({"status": "open"});
        let hook = webhook(vec![
            filtered("loan.created", &[("status", vec![json!("closed")])]),
            filtered("loan.created", &[("status", vec![json!("open")])]),
        ]);
        assert!(webhook_matches(&hook, &facts("loan.created", &none, &payload)));
        let wildcard_filtered = webhook(vec![filtered("*", &[("status", vec![json!("open")])])]);
        assert!(webhook_matches(&wildcard_filtered, &facts("anything", &none, &payload)));
        assert!(!webhook_matches(&wildcard_filtered, &facts("anything", &none, &json!({"status": "x"}))));
    }

    #[test]
    fn when_path_walks_through_a_scalar_should_find_nothing() {
        assert_eq!(lookup(&json!({"a": 1}), "a.b"), None);
        assert_eq!(lookup(&json!({"a": [1, 2]}), "a.1"), Some(&json!(2)));
        assert_eq!(lookup(&json!({"a": [1, 2]}), "a.x"), None);
    }
}
