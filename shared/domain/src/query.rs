//! List queries of seed 003: parsing `page[...]`, `sort`, `count`, `filter[...]`, `fields[...]` and `include`,
//! and the pure logic that applies them (filtering, sorting, sparse fieldsets, pages and their links).

use crate::error::Error;
use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::collections::HashSet;

/// The page size used when `page[size]` is absent.
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

/// The largest `page[size]` accepted (documented); larger values are refused with `page_size_too_large`.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// What a list endpoint accepts.
#[derive(Debug, Clone, Copy)]
pub struct QuerySpec {
    /// The resource type, e.g. `webhooks`: the only key accepted in `fields[...]`.
    pub resource_type: &'static str,
    /// Attributes accepted in `sort`.
    pub sortable: &'static [&'static str],
    /// Attributes accepted in `filter[...]`.
    pub filterable: &'static [&'static str],
    /// Attribute names accepted in `fields[<resource_type>]`.
    pub fields: &'static [&'static str],
    /// `true`: pages by `page[cursor]` + `page[size]` (no `page[number]`, no `count`); `false`: by `page[number]`.
    pub cursor: bool,
    /// The page size when `page[size]` is absent.
    pub default_size: u32,
    /// The largest `page[size]` accepted.
    pub max_size: u32,
}

/// One key of `sort`: an attribute, ascending unless prefixed with `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The attribute sorted on.
    pub field: String,
    /// Whether the key was prefixed with `-`.
    pub descending: bool,
}

/// The condition of one `filter[...]` parameter on one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `filter[attr]=v`: the attribute equals `v` (for an array attribute: contains `v`).
    Equals(String),
    /// `filter[attr][key]=v`: the object attribute's `key` equals `v` (e.g. `filter[scopes][offering_id]=…`).
    Key(String, String),
}

/// A parsed, validated list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// The 1-based page number (`page[number]`, default 1).
    pub page_number: u32,
    /// The page size (`page[size]`, default [`DEFAULT_PAGE_SIZE`]).
    pub page_size: u32,
    /// The opaque cursor (`page[cursor]`) of a cursor-paged list; `None` for the first page.
    pub cursor: Option<String>,
    /// The sort keys, most significant first.
    pub sort: Vec<SortKey>,
    /// Whether the total is asked for (`count=true`).
    pub count: bool,
    /// The filters, as `(attribute, condition)`, in query order; all must hold.
    pub filters: Vec<(String, Filter)>,
    /// The sparse fieldset for the spec's resource type, if `fields[<type>]` was given.
    pub fields: Option<Vec<String>>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            page_number: 1,
            page_size: DEFAULT_PAGE_SIZE,
            cursor: None,
            sort: Vec::new(),
            count: false,
            filters: Vec::new(),
            fields: None,
        }
    }
}

/// Parses a raw query string (without the leading `?`) against what the endpoint accepts.
///
/// Every problem is a 400 whose `source.parameter` is the parameter name as sent (percent-decoded).
pub fn parse_query(raw: Option<&str>, spec: &QuerySpec) -> Result<ListQuery, Error> {
    let mut query = ListQuery { page_size: spec.default_size, ..ListQuery::default() };
    let mut seen: HashSet<String> = HashSet::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let (name, value) = (name.as_ref(), value.as_ref());
        let is_filter = name == "filter" || name.starts_with("filter[");
        if !is_filter && !seen.insert(name.to_owned()) {
            return Err(Error::bad_param(
                name,
                "duplicate_parameter",
                format!("{name} is given more than once; give it once"),
            ));
        }
        match name {
            "page[number]" => {
                if spec.cursor {
                    return Err(cursor_usage(name, "this list pages by page[cursor] and page[size], not page[number]"));
                }
                query.page_number = parse_page_number(name, value)?;
            }
            "page[size]" => query.page_size = parse_page_size(name, value, spec.max_size)?,
            "page[cursor]" => {
                if !spec.cursor {
                    return Err(cursor_usage(name, "this list pages by page[number] and page[size], not page[cursor]"));
                }
                query.cursor = (!value.is_empty()).then(|| value.to_owned());
            }
            "sort" => query.sort = parse_sort(name, value, spec)?,
            "count" => {
                if spec.cursor {
                    return Err(cursor_usage(name, "this list pages by page[cursor] and gives no count"));
                }
                query.count = match value {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(Error::bad_param(name, "invalid_count", "count must be true or false"));
                    }
                };
            }
            "include" => {
                if !value.is_empty() {
                    return Err(Error::bad_param(
                        name,
                        "include_not_supported",
                        "include is not supported by this endpoint; leave it out",
                    ));
                }
            }
            _ if is_filter => query.filters.push(parse_filter(name, value, spec)?),
            _ if name == "fields" || name.starts_with("fields[") => {
                query.fields = Some(parse_fields(name, value, spec)?);
            }
            _ => {
                return Err(Error::bad_param(
                    name,
                    "unknown_parameter",
                    format!("{name} is not a parameter of this list; accepted: {}", accepted_parameters(spec)),
                ));
            }
        }
    }
    Ok(query)
}

fn cursor_usage(name: &str, detail: &str) -> Error {
    Error::bad_param(name, "invalid_cursor_usage", detail)
}

fn accepted_parameters(spec: &QuerySpec) -> String {
    let paging = if spec.cursor { "page[cursor], page[size]" } else { "page[number], page[size], count" };
    format!("{paging}, sort, filter[<attribute>], fields[{}], include (empty)", spec.resource_type)
}

fn is_digits(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

fn parse_page_number(name: &str, value: &str) -> Result<u32, Error> {
    match value.parse::<u32>() {
        Ok(number) if is_digits(value) && number >= 1 => Ok(number),
        _ => Err(Error::bad_param(
            name,
            "invalid_page_number",
            format!("page[number] must be an integer from 1 to {}", u32::MAX),
        )),
    }
}

fn parse_page_size(name: &str, value: &str, max: u32) -> Result<u32, Error> {
    if !is_digits(value) {
        return Err(Error::bad_param(
            name,
            "invalid_page_size",
            format!("page[size] must be an integer from 1 to {max}"),
        ));
    }
    match value.parse::<u32>() {
        Ok(0) => {
            Err(Error::bad_param(name, "invalid_page_size", format!("page[size] must be an integer from 1 to {max}")))
        }
        Ok(size) if size <= max => Ok(size),
        // Digits only: a parse failure is an overflow, so larger than the maximum too.
        _ => Err(Error::bad_param(
            name,
            "page_size_too_large",
            format!("page[size] must be at most {max} (the maximum)"),
        )),
    }
}

fn parse_sort(name: &str, value: &str, spec: &QuerySpec) -> Result<Vec<SortKey>, Error> {
    let allowed = spec.sortable.join(", ");
    let mut keys: Vec<SortKey> = Vec::new();
    for part in value.split(',') {
        let (field, descending) = match part.strip_prefix('-') {
            Some(field) => (field, true),
            None => (part, false),
        };
        if field.is_empty() {
            return Err(Error::bad_param(
                name,
                "invalid_sort",
                format!("sort has an empty key; give a comma list of: {allowed} (prefix - for descending)"),
            ));
        }
        if !spec.sortable.contains(&field) {
            return Err(Error::bad_param(
                name,
                "invalid_sort",
                format!("cannot sort on {field}; sortable fields: {allowed} (prefix - for descending)"),
            ));
        }
        if keys.iter().any(|key| key.field == field) {
            return Err(Error::bad_param(
                name,
                "invalid_sort",
                format!("sort names {field} more than once; give each of {allowed} at most once"),
            ));
        }
        keys.push(SortKey { field: field.to_owned(), descending });
    }
    Ok(keys)
}

fn parse_filter(name: &str, value: &str, spec: &QuerySpec) -> Result<(String, Filter), Error> {
    let allowed = spec.filterable.join(", ");
    let segments = name.strip_prefix("filter").and_then(bracket_segments);
    let (attribute, key) = match segments.as_deref() {
        Some([attribute]) => (*attribute, None),
        Some([attribute, key]) => (*attribute, Some(*key)),
        _ => {
            return Err(Error::bad_param(
                name,
                "invalid_filter",
                format!("{name} is malformed; use filter[<attribute>] or filter[<attribute>][<key>] with: {allowed}"),
            ));
        }
    };
    if !spec.filterable.contains(&attribute) {
        return Err(Error::bad_param(
            name,
            "invalid_filter",
            format!("cannot filter on {attribute}; filterable fields: {allowed}"),
        ));
    }
    let filter = match key {
        None => Filter::Equals(value.to_owned()),
        Some(key) => Filter::Key(key.to_owned(), value.to_owned()),
    };
    Ok((attribute.to_owned(), filter))
}

/// `[a][b]` → `["a", "b"]`; `None` unless the whole text is non-empty bracketed segments.
fn bracket_segments(mut rest: &str) -> Option<Vec<&str>> {
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let end = inner.find(']')?;
        let segment = &inner[..end];
        if segment.is_empty() || segment.contains('[') {
            return None;
        }
        segments.push(segment);
        rest = &inner[end + 1..];
    }
    (!segments.is_empty()).then_some(segments)
}

fn parse_fields(name: &str, value: &str, spec: &QuerySpec) -> Result<Vec<String>, Error> {
    let allowed = spec.fields.join(", ");
    match name.strip_prefix("fields").and_then(bracket_segments).as_deref() {
        Some([kind]) if *kind == spec.resource_type => {}
        _ => {
            return Err(Error::bad_param(
                name,
                "invalid_fields",
                format!("{name} is not accepted; use fields[{}] with: {allowed}", spec.resource_type),
            ));
        }
    }
    // An empty value asks for no attributes at all (JSON:API).
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields: Vec<String> = Vec::new();
    for field in value.split(',') {
        if !spec.fields.contains(&field) {
            return Err(Error::bad_param(
                name,
                "invalid_fields",
                format!("{field:?} is not a field of {}; fields: {allowed}", spec.resource_type),
            ));
        }
        if !fields.iter().any(|known| known == field) {
            fields.push(field.to_owned());
        }
    }
    Ok(fields)
}

/// Whether the attributes satisfy every filter (AND). An absent attribute never matches.
pub fn matches(attributes: &Map<String, Value>, filters: &[(String, Filter)]) -> bool {
    filters.iter().all(|(attribute, filter)| match (attributes.get(attribute), filter) {
        (None, _) => false,
        (Some(Value::Array(elements)), Filter::Equals(wanted)) => {
            elements.iter().any(|element| element_equals(element, wanted))
        }
        (Some(value), Filter::Equals(wanted)) => text(value).as_deref() == Some(wanted.as_str()),
        (Some(Value::Object(object)), Filter::Key(key, wanted)) => {
            object.get(key).and_then(text).as_deref() == Some(wanted.as_str())
        }
        (Some(_), Filter::Key(..)) => false,
    })
}

/// An array element equals `wanted`: an object by its `event_type` string, anything else by its text.
fn element_equals(element: &Value, wanted: &str) -> bool {
    match element {
        Value::Object(object) => object.get("event_type").and_then(Value::as_str) == Some(wanted),
        other => text(other).as_deref() == Some(wanted),
    }
}

/// A value as filter text: strings as-is, other values as JSON text; null has none.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(string) => Some(string.clone()),
        other => Some(other.to_string()),
    }
}

/// Sorts by the keys, stably: items that tie on every key keep their incoming order.
///
/// Values order as: null or absent, then booleans, numbers (numerically), strings (lexicographically),
/// then arrays and objects (by JSON text). A descending key reverses that order for its key.
pub fn sort(items: &mut [Map<String, Value>], keys: &[SortKey]) {
    if keys.is_empty() {
        return;
    }
    items.sort_by(|a, b| {
        keys.iter()
            .map(|key| {
                let ordering = compare(a.get(&key.field), b.get(&key.field));
                if key.descending { ordering.reverse() } else { ordering }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
    });
}

fn rank(value: Option<&Value>) -> u8 {
    match value {
        None | Some(Value::Null) => 0,
        Some(Value::Bool(_)) => 1,
        Some(Value::Number(_)) => 2,
        Some(Value::String(_)) => 3,
        Some(Value::Array(_) | Value::Object(_)) => 4,
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                a.cmp(&b)
            } else if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
                a.cmp(&b)
            } else {
                let (a, b) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
        }
        (Some(Value::String(a)), Some(Value::String(b))) => a.cmp(b),
        (Some(a @ (Value::Array(_) | Value::Object(_))), Some(b @ (Value::Array(_) | Value::Object(_)))) => {
            a.to_string().cmp(&b.to_string())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Keeps only the attributes named in `fields` (all of them when `None`), in the map's order.
pub fn sparse(mut attributes: Map<String, Value>, fields: Option<&[String]>) -> Map<String, Value> {
    if let Some(fields) = fields {
        attributes.retain(|name, _| fields.iter().any(|field| field == name));
    }
    attributes
}

/// One page of a list, with what its links and `meta` need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOf<T> {
    /// The items of the page asked for (empty beyond the last page).
    pub items: Vec<T>,
    /// The number of items in the whole (filtered) list.
    pub total: usize,
    /// The last page number: at least 1, even for an empty list.
    pub last_page: u32,
}

/// Cuts the page `query.page_number` (1-based) of `query.page_size` items out of the list.
///
/// A page beyond the last is empty, not an error.
pub fn paginate<T>(items: Vec<T>, query: &ListQuery) -> PageOf<T> {
    let total = items.len();
    let size = usize::try_from(query.page_size.max(1)).unwrap_or(usize::MAX);
    let last_page = u32::try_from(total.div_ceil(size).max(1)).unwrap_or(u32::MAX);
    let skip = usize::try_from(query.page_number.max(1) - 1).unwrap_or(usize::MAX).saturating_mul(size);
    let items = items.into_iter().skip(skip).take(size).collect();
    PageOf { items, total, last_page }
}

/// The JSON:API pagination links of a page-numbered list: `self`, `first`, `prev` (null on page 1),
/// `next` (null on the last page or beyond) and `last`.
///
/// Each is `path?` + the request's query with `page[number]` replaced (at its place, or appended);
/// every other parameter is kept as it was sent.
pub fn page_links(path: &str, raw: Option<&str>, query: &ListQuery, last_page: u32) -> Value {
    let last_page = last_page.max(1);
    let (before, after) = split_around_page_number(raw.unwrap_or(""));
    let link = |number: u32| {
        let mut parts: Vec<String> = before.iter().map(|part| (*part).to_owned()).collect();
        parts.push(format!("page[number]={number}"));
        parts.extend(after.iter().map(|part| (*part).to_owned()));
        Value::String(format!("{path}?{}", parts.join("&")))
    };
    let current = query.page_number.max(1);
    let prev = if current > 1 { link((current - 1).min(last_page)) } else { Value::Null };
    let next = if current < last_page { link(current + 1) } else { Value::Null };
    json!({
        "self": link(current),
        "first": link(1),
        "prev": prev,
        "next": next,
        "last": link(last_page),
    })
}

/// The raw `&`-separated parts before and after the (first) `page[number]`, without any `page[number]`.
fn split_around_page_number(raw: &str) -> (Vec<&str>, Vec<&str>) {
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let mut found = false;
    for part in raw.split('&').filter(|part| !part.is_empty()) {
        let name = part.split('=').next().unwrap_or("");
        let is_page_number =
            url::form_urlencoded::parse(name.as_bytes()).next().is_some_and(|(name, _)| name == "page[number]");
        if is_page_number {
            found = true;
        } else if found {
            after.push(part);
        } else {
            before.push(part);
        }
    }
    (before, after)
}

/// The link to the page after `cursor`: the same query with `page[cursor]` replaced.
pub fn cursor_link(path: &str, raw: Option<&str>, cursor: &str) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if name != "page[cursor]" {
            serializer.append_pair(&name, &value);
        }
    }
    serializer.append_pair("page[cursor]", cursor);
    format!("{path}?{}", serializer.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Source;
    use proptest::prelude::*;

    const WEBHOOKS: QuerySpec = QuerySpec {
        default_size: DEFAULT_PAGE_SIZE,
        max_size: MAX_PAGE_SIZE,
        resource_type: "webhooks",
        sortable: &["id", "name", "url", "created_at", "updated_at"],
        filterable: &["id", "account_id", "name", "url", "events", "scopes", "created_at", "updated_at"],
        fields: &["id", "account_id", "name", "url", "secret", "events", "scopes", "created_at", "updated_at"],
        cursor: false,
    };

    const MESSAGES: QuerySpec = QuerySpec {
        default_size: DEFAULT_PAGE_SIZE,
        max_size: MAX_PAGE_SIZE,
        resource_type: "messages",
        sortable: &["created_at"],
        filterable: &["event_type"],
        fields: &["event_type", "created_at"],
        cursor: true,
    };

    /// The code and parameter of a 400, or a panic.
    fn bad(raw: &str, spec: &QuerySpec) -> (&'static str, String) {
        match parse_query(Some(raw), spec) {
            Err(Error::BadRequest(problem)) => match problem.source {
                Some(Source::Parameter(name)) => (problem.code, name),
                other => panic!("no parameter source: {other:?}"),
            },
            other => panic!("expected a 400 for {raw:?}, got {other:?}"),
        }
    }

    fn detail(raw: &str, spec: &QuerySpec) -> String {
        match parse_query(Some(raw), spec) {
            Err(Error::BadRequest(problem)) => problem.detail,
            other => panic!("expected a 400 for {raw:?}, got {other:?}"),
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn equals(attribute: &str, value: &str) -> (String, Filter) {
        (attribute.to_owned(), Filter::Equals(value.to_owned()))
    }

    #[test]
    fn when_query_is_absent_or_empty_should_use_defaults() {
        let expected = ListQuery::default();
        assert_eq!(expected.page_number, 1);
        assert_eq!(expected.page_size, DEFAULT_PAGE_SIZE);
        assert_eq!(parse_query(None, &WEBHOOKS).ok(), Some(expected.clone()));
        assert_eq!(parse_query(Some(""), &WEBHOOKS).ok(), Some(expected));
    }

    #[test]
    fn when_query_is_full_should_parse_every_parameter() {
        let raw = "page%5Bnumber%5D=2&page[size]=50&sort=-created_at,name&count=true&filter[name]=a+b%26c\
                   &filter[scopes][offering_id]=539b&fields[webhooks]=name,url&include=";
        let query = parse_query(Some(raw), &WEBHOOKS).expect("valid");
        assert_eq!(query.page_number, 2);
        assert_eq!(query.page_size, 50);
        assert_eq!(
            query.sort,
            vec![
                SortKey { field: "created_at".into(), descending: true },
                SortKey { field: "name".into(), descending: false }
            ]
        );
        assert!(query.count);
        assert_eq!(
            query.filters,
            vec![equals("name", "a b&c"), ("scopes".into(), Filter::Key("offering_id".into(), "539b".into()))]
        );
        assert_eq!(query.fields, Some(vec!["name".to_owned(), "url".to_owned()]));
    }

    #[test]
    fn when_page_number_is_not_a_positive_integer_should_be_invalid_page_number() {
        for raw in ["page[number]=0", "page[number]=-1", "page[number]=x", "page[number]=", "page[number]=+1"] {
            assert_eq!(bad(raw, &WEBHOOKS), ("invalid_page_number", "page[number]".to_owned()), "{raw}");
        }
        assert_eq!(bad("page[number]=99999999999", &WEBHOOKS).0, "invalid_page_number");
    }

    #[test]
    fn when_page_size_is_not_a_positive_integer_should_be_invalid_page_size() {
        for raw in ["page[size]=0", "page[size]=abc", "page[size]=", "page[size]=1.5"] {
            assert_eq!(bad(raw, &WEBHOOKS), ("invalid_page_size", "page[size]".to_owned()), "{raw}");
        }
    }

    #[test]
    fn when_page_size_exceeds_maximum_should_be_page_size_too_large_naming_the_maximum() {
        assert_eq!(bad("page[size]=1001", &WEBHOOKS), ("page_size_too_large", "page[size]".to_owned()));
        assert_eq!(bad("page[size]=123456789012345", &WEBHOOKS).0, "page_size_too_large");
        assert!(detail("page[size]=1001", &WEBHOOKS).contains("1000"));
        assert_eq!(parse_query(Some("page[size]=1000"), &WEBHOOKS).map(|q| q.page_size).ok(), Some(MAX_PAGE_SIZE));
    }

    #[test]
    fn when_sort_key_is_empty_or_unknown_should_be_invalid_sort_listing_sortable_fields() {
        for raw in ["sort=", "sort=name,", "sort=-", "sort=secret", "sort=name,-name"] {
            assert_eq!(bad(raw, &WEBHOOKS), ("invalid_sort", "sort".to_owned()), "{raw}");
        }
        let detail = detail("sort=secret", &WEBHOOKS);
        assert!(detail.contains("secret") && detail.contains("created_at"), "{detail}");
    }

    #[test]
    fn when_count_is_not_a_boolean_should_be_invalid_count() {
        assert_eq!(bad("count=yes", &WEBHOOKS), ("invalid_count", "count".to_owned()));
        assert_eq!(bad("count=", &WEBHOOKS).0, "invalid_count");
        assert_eq!(parse_query(Some("count=false"), &WEBHOOKS).map(|q| q.count).ok(), Some(false));
    }

    #[test]
    fn when_filter_field_is_unknown_should_be_invalid_filter_listing_filterable_fields() {
        assert_eq!(bad("filter[secret]=x", &WEBHOOKS), ("invalid_filter", "filter[secret]".to_owned()));
        let detail = detail("filter[secret]=x", &WEBHOOKS);
        assert!(detail.contains("scopes") && detail.contains("account_id"), "{detail}");
    }

    #[test]
    fn when_filter_brackets_are_malformed_should_be_invalid_filter() {
        for name in
            ["filter", "filter[]", "filter[name", "filter[name]x", "filter[a][b][c]", "filter[scopes][]", "filterx"]
        {
            let raw = format!("{name}=v");
            let (code, parameter) =
                if name == "filterx" { ("unknown_parameter", name) } else { ("invalid_filter", name) };
            assert_eq!(bad(&raw, &WEBHOOKS), (code, parameter.to_owned()), "{raw}");
        }
    }

    #[test]
    fn when_fields_type_or_name_is_unknown_should_be_invalid_fields() {
        assert_eq!(bad("fields[messages]=name", &WEBHOOKS), ("invalid_fields", "fields[messages]".to_owned()));
        assert_eq!(bad("fields[webhooks]=name,password", &WEBHOOKS), ("invalid_fields", "fields[webhooks]".to_owned()));
        assert_eq!(bad("fields[webhooks]=name,", &WEBHOOKS).0, "invalid_fields");
        assert_eq!(bad("fields=name", &WEBHOOKS).0, "invalid_fields");
        assert_eq!(parse_query(Some("fields[webhooks]="), &WEBHOOKS).map(|q| q.fields).ok(), Some(Some(vec![])));
    }

    #[test]
    fn when_parameter_is_unknown_should_be_unknown_parameter() {
        assert_eq!(bad("limit=10", &WEBHOOKS), ("unknown_parameter", "limit".to_owned()));
        assert_eq!(bad("page[offset]=10", &WEBHOOKS), ("unknown_parameter", "page[offset]".to_owned()));
        assert_eq!(bad("=x", &WEBHOOKS), ("unknown_parameter", String::new()));
    }

    #[test]
    fn when_non_filter_parameter_repeats_should_be_duplicate_parameter() {
        assert_eq!(bad("sort=id&sort=name", &WEBHOOKS), ("duplicate_parameter", "sort".to_owned()));
        assert_eq!(bad("page[size]=1&page%5Bsize%5D=2", &WEBHOOKS), ("duplicate_parameter", "page[size]".to_owned()));
        let query = parse_query(Some("filter[events]=a&filter[events]=b"), &WEBHOOKS).expect("filters may repeat");
        assert_eq!(query.filters, vec![equals("events", "a"), equals("events", "b")]);
    }

    #[test]
    fn when_paging_style_does_not_fit_the_list_should_be_invalid_cursor_usage() {
        assert_eq!(bad("page[number]=2", &MESSAGES), ("invalid_cursor_usage", "page[number]".to_owned()));
        assert_eq!(bad("count=true", &MESSAGES), ("invalid_cursor_usage", "count".to_owned()));
        assert_eq!(bad("page[cursor]=abc", &WEBHOOKS), ("invalid_cursor_usage", "page[cursor]".to_owned()));
        let query = parse_query(Some("page[cursor]=abc&page[size]=10"), &MESSAGES).expect("valid");
        assert_eq!((query.cursor.as_deref(), query.page_size), (Some("abc"), 10));
    }

    #[test]
    fn when_include_has_a_value_should_be_include_not_supported() {
        assert_eq!(bad("include=account", &WEBHOOKS), ("include_not_supported", "include".to_owned()));
        assert!(parse_query(Some("include="), &WEBHOOKS).is_ok());
    }

    #[test]
    fn when_filters_match_should_require_all_of_them() {
        let attributes = object(json!({
            "id": 3, "name": "orders", "enabled": true, "gone": null,
            "events": ["order.created", {"event_type": "order.paid", "filters": {"status": ["open"]}}, 7],
            "scopes": {"offering_id": "539b", "tier": 2},
        }));
        let yes = |filters: &[(String, Filter)]| matches(&attributes, filters);
        assert!(yes(&[]));
        assert!(yes(&[equals("id", "3"), equals("name", "orders"), equals("enabled", "true")]));
        assert!(yes(&[equals("events", "order.created")]));
        assert!(yes(&[equals("events", "order.paid")]));
        assert!(yes(&[equals("events", "7")]));
        assert!(yes(&[("scopes".into(), Filter::Key("offering_id".into(), "539b".into()))]));
        assert!(yes(&[("scopes".into(), Filter::Key("tier".into(), "2".into()))]));
        assert!(!yes(&[equals("id", "3"), equals("name", "other")]));
        assert!(!yes(&[equals("events", "order.refunded")]));
        assert!(!yes(&[equals("gone", "null")]));
        assert!(!yes(&[equals("missing", "")]));
        assert!(!yes(&[("scopes".into(), Filter::Key("absent".into(), "539b".into()))]));
        assert!(!yes(&[("name".into(), Filter::Key("x".into(), "orders".into()))]));
    }

    #[test]
    fn when_sorting_should_order_by_type_then_value_and_keep_ties_stable() {
        let mut items: Vec<Map<String, Value>> = vec![
            object(json!({"id": 1, "name": "b", "n": 10})),
            object(json!({"id": 2, "name": "a", "n": 9})),
            object(json!({"id": 3, "name": null, "n": 2.5})),
            object(json!({"id": 4, "n": -1})),
            object(json!({"id": 5, "name": "b", "n": true})),
        ];
        let ids = |items: &[Map<String, Value>]| items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>();
        sort(&mut items, &[SortKey { field: "name".into(), descending: false }]);
        assert_eq!(ids(&items), vec![json!(3), json!(4), json!(2), json!(1), json!(5)]);
        sort(&mut items, &[SortKey { field: "n".into(), descending: false }]);
        assert_eq!(ids(&items), vec![json!(5), json!(4), json!(3), json!(2), json!(1)]);
        sort(
            &mut items,
            &[SortKey { field: "name".into(), descending: true }, SortKey { field: "id".into(), descending: true }],
        );
        assert_eq!(ids(&items), vec![json!(5), json!(1), json!(2), json!(4), json!(3)]);
    }

    #[test]
    fn when_sorting_timestamps_should_order_them_in_time() {
        let mut items = vec![
            object(json!({"created_at": "2026-03-01T00:00:00Z"})),
            object(json!({"created_at": "2025-12-31T23:59:59Z"})),
        ];
        sort(&mut items, &[SortKey { field: "created_at".into(), descending: false }]);
        assert_eq!(items[0]["created_at"], json!("2025-12-31T23:59:59Z"));
    }

    #[test]
    fn when_fieldset_is_given_should_keep_only_those_attributes() {
        let attributes = object(json!({"name": "a", "url": "https://x", "secret": "s"}));
        assert_eq!(sparse(attributes.clone(), None), attributes);
        let fields = vec!["url".to_owned(), "name".to_owned()];
        let kept: Vec<String> = sparse(attributes, Some(&fields)).keys().cloned().collect();
        assert_eq!(kept, vec!["name".to_owned(), "url".to_owned()]);
    }

    #[test]
    fn when_cursor_link_built_should_replace_only_the_cursor() {
        let link = cursor_link("/m", Some("page[size]=2&page[cursor]=old&filter[a]=b"), "new");
        assert_eq!(link, "/m?page%5Bsize%5D=2&filter%5Ba%5D=b&page%5Bcursor%5D=new");
        assert_eq!(cursor_link("/m", None, "c1"), "/m?page%5Bcursor%5D=c1");
    }

    #[test]
    fn when_page_is_beyond_the_last_should_be_empty_not_an_error() {
        let query = ListQuery { page_number: 4, page_size: 2, ..ListQuery::default() };
        let page = paginate((0..5).collect::<Vec<_>>(), &query);
        assert_eq!(page, PageOf { items: vec![], total: 5, last_page: 3 });
        let query = ListQuery { page_number: 3, page_size: 2, ..ListQuery::default() };
        assert_eq!(paginate((0..5).collect::<Vec<_>>(), &query).items, vec![4]);
        assert_eq!(paginate(Vec::<u8>::new(), &ListQuery::default()).last_page, 1);
    }

    #[test]
    fn when_on_a_middle_page_should_link_every_page_keeping_other_parameters() {
        let raw = "filter[name]=a%20b&page[number]=2&page[size]=10";
        let query = parse_query(Some(raw), &WEBHOOKS).expect("valid");
        let links = page_links("/api/v3/notification/webhooks", Some(raw), &query, 3);
        let at = |n: u32| format!("/api/v3/notification/webhooks?filter[name]=a%20b&page[number]={n}&page[size]=10");
        assert_eq!(links, json!({"self": at(2), "first": at(1), "prev": at(1), "next": at(3), "last": at(3)}));
    }

    #[test]
    fn when_on_the_only_page_should_have_null_prev_and_next() {
        let links = page_links("/w", Some("sort=-id"), &ListQuery::default(), 1);
        assert_eq!(
            links,
            json!({
                "self": "/w?sort=-id&page[number]=1", "first": "/w?sort=-id&page[number]=1",
                "prev": null, "next": null, "last": "/w?sort=-id&page[number]=1",
            })
        );
        let links = page_links("/w", None, &ListQuery::default(), 1);
        assert_eq!(links["self"], json!("/w?page[number]=1"));
    }

    #[test]
    fn when_on_the_last_page_should_have_null_next() {
        let query = ListQuery { page_number: 3, ..ListQuery::default() };
        let links = page_links("/w", Some("page%5Bnumber%5D=3&count=true"), &query, 3);
        assert_eq!(links["next"], Value::Null);
        assert_eq!(links["prev"], json!("/w?page[number]=2&count=true"));
        assert_eq!(links["self"], json!("/w?page[number]=3&count=true"));
    }

    /// A valid query for WEBHOOKS, and the ListQuery it must parse to.
    fn valid_query() -> impl Strategy<Value = (String, ListQuery)> {
        let sort = proptest::sample::subsequence(WEBHOOKS.sortable.to_vec(), 0..=WEBHOOKS.sortable.len())
            .prop_shuffle()
            .prop_flat_map(|fields| {
                let n = fields.len();
                (Just(fields), proptest::collection::vec(any::<bool>(), n))
            });
        let filter = (
            proptest::sample::select(WEBHOOKS.filterable.to_vec()),
            proptest::option::of("[a-z_]{1,12}"),
            any::<String>(),
        );
        (
            proptest::option::of(1..=u32::MAX),
            proptest::option::of(1..=MAX_PAGE_SIZE),
            sort,
            proptest::option::of(any::<bool>()),
            proptest::collection::vec(filter, 0..5),
        )
            .prop_map(|(number, size, (sort_fields, descending), count, filters)| {
                let mut serializer = url::form_urlencoded::Serializer::new(String::new());
                let mut expected = ListQuery::default();
                if let Some(number) = number {
                    serializer.append_pair("page[number]", &number.to_string());
                    expected.page_number = number;
                }
                if let Some(size) = size {
                    serializer.append_pair("page[size]", &size.to_string());
                    expected.page_size = size;
                }
                if !sort_fields.is_empty() {
                    let keys: Vec<SortKey> = sort_fields
                        .iter()
                        .zip(&descending)
                        .map(|(field, descending)| SortKey { field: (*field).to_owned(), descending: *descending })
                        .collect();
                    let text: Vec<String> = keys
                        .iter()
                        .map(|key| format!("{}{}", if key.descending { "-" } else { "" }, key.field))
                        .collect();
                    serializer.append_pair("sort", &text.join(","));
                    expected.sort = keys;
                }
                if let Some(count) = count {
                    serializer.append_pair("count", &count.to_string());
                    expected.count = count;
                }
                for (attribute, key, value) in filters {
                    match key {
                        Some(key) => {
                            serializer.append_pair(&format!("filter[{attribute}][{key}]"), &value);
                            expected.filters.push((attribute.to_owned(), Filter::Key(key, value)));
                        }
                        None => {
                            serializer.append_pair(&format!("filter[{attribute}]"), &value);
                            expected.filters.push((attribute.to_owned(), Filter::Equals(value)));
                        }
                    }
                }
                (serializer.finish(), expected)
            })
    }

    proptest! {
        #[test]
        fn when_query_is_arbitrary_should_never_panic_and_fail_only_with_a_400(
            raw in prop_oneof![any::<String>(), "[a-z\\[\\]=&%0-9A-F,+\\-]{0,80}"],
        ) {
            for spec in [&WEBHOOKS, &MESSAGES] {
                if let Err(error) = parse_query(Some(&raw), spec) {
                    prop_assert_eq!(error.status(), 400);
                    let is_parameter_problem = matches!(
                        &error,
                        Error::BadRequest(problem) if matches!(problem.source, Some(Source::Parameter(_)))
                    );
                    prop_assert!(is_parameter_problem);
                }
            }
        }

        #[test]
        fn when_query_is_valid_should_parse_back_to_what_was_generated((raw, expected) in valid_query()) {
            let parsed = parse_query(Some(&raw), &WEBHOOKS);
            prop_assert_eq!(parsed.ok(), Some(expected), "{}", raw);
        }

        #[test]
        fn when_paging_through_every_page_should_give_back_the_whole_list(
            items in proptest::collection::vec(any::<u16>(), 0..200),
            size in 1..=50u32,
        ) {
            let mut query = ListQuery { page_size: size, ..ListQuery::default() };
            let last_page = paginate(items.clone(), &query).last_page;
            let mut all = Vec::new();
            for number in 1..=last_page {
                query.page_number = number;
                let page = paginate(items.clone(), &query);
                prop_assert_eq!(page.total, items.len());
                prop_assert_eq!(page.last_page, last_page);
                prop_assert!(page.items.len() <= size as usize);
                all.extend(page.items);
            }
            query.page_number = last_page + 1;
            prop_assert!(paginate(items.clone(), &query).items.is_empty());
            prop_assert_eq!(all, items);
        }
    }
}
