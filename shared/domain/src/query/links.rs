//! Pagination links: the JSON:API `self`/`first`/`prev`/`next`/`last` links of a page-numbered list, and the
//! next-page link of a cursor-paged list.

use super::ListQuery;
use serde_json::{Value, json};

/// The JSON:API pagination links of a page-numbered list: `self`, `first`, `prev` (null on page 1),
/// `next` (null on the last page or beyond) and `last`.
///
/// Each is `path?` + the request's query with `page[number]` replaced (at its place, or appended);
/// every other parameter is kept as it was sent.
pub fn page_links(path: &str, raw: Option<&str>, query: &ListQuery, last_page: u32) -> Value {
    let last_page = last_page.max(1);
    let link = number_link(path, raw);
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

/// The links of a page-numbered list read only up to its page: as [`page_links`], but `last`
/// is null (unknown without reading the rest) and `next` is there when `more` items follow.
pub fn open_page_links(path: &str, raw: Option<&str>, query: &ListQuery, more: bool) -> Value {
    let link = number_link(path, raw);
    let current = query.page_number.max(1);
    json!({
        "self": link(current),
        "first": link(1),
        "prev": if current > 1 { link(current - 1) } else { Value::Null },
        "next": if more { link(current + 1) } else { Value::Null },
        "last": Value::Null,
    })
}

/// The link to page `number`: `path?` + the request's query with `page[number]` replaced.
fn number_link<'r>(path: &'r str, raw: Option<&'r str>) -> impl Fn(u32) -> Value + 'r {
    let (before, after) = split_around_page_number(raw.unwrap_or(""));
    move |number: u32| {
        let mut parts: Vec<String> = before.iter().map(|part| (*part).to_owned()).collect();
        parts.push(format!("page[number]={number}"));
        parts.extend(after.iter().map(|part| (*part).to_owned()));
        Value::String(format!("{path}?{}", parts.join("&")))
    }
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
    use crate::query::parse_query;
    use crate::query::testing::WEBHOOKS;

    #[test]
    fn when_only_read_up_to_its_page_should_leave_last_unknown_and_link_next_only_if_more() {
        let query = parse_query(Some("page[size]=2&page[number]=3"), &WEBHOOKS).expect("valid");
        let links = open_page_links("/w", Some("page[size]=2&page[number]=3"), &query, true);
        assert_eq!(links["self"], "/w?page[size]=2&page[number]=3");
        assert_eq!(links["prev"], "/w?page[size]=2&page[number]=2");
        assert_eq!(links["next"], "/w?page[size]=2&page[number]=4");
        assert_eq!(links["last"], Value::Null);
        let first = parse_query(None, &WEBHOOKS).expect("valid");
        let links = open_page_links("/w", None, &first, false);
        assert_eq!(
            (&links["prev"], &links["next"], &links["first"]),
            (&Value::Null, &Value::Null, &json!("/w?page[number]=1"))
        );
    }

    #[test]
    fn when_cursor_link_built_should_replace_only_the_cursor() {
        let link = cursor_link("/m", Some("page[size]=2&page[cursor]=old&filter[a]=b"), "new");
        assert_eq!(link, "/m?page%5Bsize%5D=2&filter%5Ba%5D=b&page%5Bcursor%5D=new");
        assert_eq!(cursor_link("/m", None, "c1"), "/m?page%5Bcursor%5D=c1");
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
}
