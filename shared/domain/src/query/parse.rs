//! Parsing of the raw query string into a [`ListQuery`]: dispatch by parameter name, duplicates, `count`,
//! `include`, unknown parameters, and the bracket syntax shared by `filter[...]` and `fields[...]`.

use super::fields::parse_fields;
use super::filter::parse_filter;
use super::page::{parse_page_number, parse_page_size};
use super::sort::parse_sort;
use super::{ListQuery, QuerySpec};
use crate::error::Error;
use std::collections::HashSet;

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

/// `[a][b]` → `["a", "b"]`; `None` unless the whole text is non-empty bracketed segments.
pub(super) fn bracket_segments(mut rest: &str) -> Option<Vec<&str>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Source;
    use crate::query::testing::{MESSAGES, WEBHOOKS, bad, equals};
    use crate::query::{DEFAULT_PAGE_SIZE, Filter, MAX_PAGE_SIZE, SortKey};
    use proptest::prelude::*;

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
    fn when_count_is_not_a_boolean_should_be_invalid_count() {
        assert_eq!(bad("count=yes", &WEBHOOKS), ("invalid_count", "count".to_owned()));
        assert_eq!(bad("count=", &WEBHOOKS).0, "invalid_count");
        assert_eq!(parse_query(Some("count=false"), &WEBHOOKS).map(|q| q.count).ok(), Some(false));
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
    }
}
