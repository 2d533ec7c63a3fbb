//! Page cursors: a query's last evaluated key, encoded for the API and checked on the way back.

use super::{Item, s};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hookline_domain::{Error, Result};
use std::collections::HashMap;

/// A cursor is the query's last evaluated key (string attributes only), as base64url JSON.
pub(super) fn encode_cursor(key: &Item) -> String {
    let strings: serde_json::Map<String, serde_json::Value> = key
        .iter()
        .filter_map(|(name, value)| value.as_s().ok().map(|text| (name.clone(), text.clone().into())))
        .collect();
    // A JSON object of strings always encodes: no error to lose, no empty cursor.
    URL_SAFE_NO_PAD.encode(serde_json::Value::Object(strings).to_string())
}

/// A position in the log: a day partition, and the last key read in it (none: its start).
pub(super) fn encode_log_cursor(pk: &str, sk: Option<&str>) -> String {
    let mut key: Item = [("pk".to_string(), s(pk))].into_iter().collect();
    if let Some(sk) = sk {
        key.insert("sk".into(), s(sk));
    }
    encode_cursor(&key)
}

/// The day partition and the bound a log cursor names; `day_of` reads the day off a
/// partition key of the caller's, and refuses any other (another account's, another webhook's).
pub(super) fn decode_log_cursor(
    cursor: &str,
    day_of: impl Fn(&str) -> Option<chrono::NaiveDate>,
) -> Result<(chrono::NaiveDate, String)> {
    let key = decode_cursor(cursor)?;
    if !key.keys().all(|name| name == "pk" || name == "sk") {
        return Err(invalid_cursor());
    }
    let day = key.get("pk").and_then(|pk| pk.as_s().ok()).and_then(|pk| day_of(pk)).ok_or_else(invalid_cursor)?;
    let below = key.get("sk").and_then(|sk| sk.as_s().ok()).ok_or_else(invalid_cursor)?;
    Ok((day, below.clone()))
}

pub(super) fn invalid_cursor() -> Error {
    Error::bad_param("page[cursor]", "invalid_cursor", "the cursor is not one this API gave")
}

pub(super) fn decode_cursor(cursor: &str) -> Result<Item> {
    let invalid = invalid_cursor;
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let strings: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let allowed = ["pk", "sk", "gsi1pk", "gsi1sk"];
    if strings.is_empty() || strings.keys().any(|name| !allowed.contains(&name.as_str())) {
        return Err(invalid());
    }
    Ok(strings.into_iter().map(|(name, value)| (name, AttributeValue::S(value))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_cursor_round_trips_should_give_the_same_key() {
        let key: Item = [("pk".to_string(), s("A")), ("sk".to_string(), s("B"))].into_iter().collect();
        assert_eq!(decode_cursor(&encode_cursor(&key)).expect("decodes"), key);
    }

    #[test]
    fn when_cursor_is_forged_should_be_a_bad_parameter() {
        assert_eq!(decode_cursor("!!!").expect_err("bad").status(), 400);
        let forged = URL_SAFE_NO_PAD.encode(br#"{"other":"x"}"#);
        assert_eq!(decode_cursor(&forged).expect_err("bad").status(), 400);
    }
}
