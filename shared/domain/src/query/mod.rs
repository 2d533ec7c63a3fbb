//! List queries of seed 003: what a list endpoint accepts ([`QuerySpec`]), the parsed query ([`ListQuery`]),
//! and the public API of the submodules, re-exported here.
//!
//! Parsing `page[...]`, `sort`, `count`, `filter[...]`, `fields[...]` and `include`, and the pure logic that
//! applies them (filtering, sorting, sparse fieldsets, pages and their links), one concern per module:
//! `parse` (the query string), `page` (page parameters and cutting pages), `links` (pagination and cursor
//! links), `filter`, `sort` and `fields`.

mod fields;
mod filter;
mod links;
mod page;
mod parse;
mod sort;
#[cfg(test)]
mod testing;

pub use fields::sparse;
pub use filter::{Filter, matches};
pub use links::{cursor_link, open_page_links, page_links};
pub use page::{PageOf, paginate};
pub use parse::parse_query;
pub use sort::{SortKey, sort};

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
