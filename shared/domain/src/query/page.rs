//! Page-numbered paging: the `page[number]` and `page[size]` parameters, and cutting a page out of a list.

use super::ListQuery;
use crate::error::Error;

fn is_digits(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn parse_page_number(name: &str, value: &str) -> Result<u32, Error> {
    match value.parse::<u32>() {
        Ok(number) if is_digits(value) && number >= 1 => Ok(number),
        _ => Err(Error::bad_param(
            name,
            "invalid_page_number",
            format!("page[number] must be an integer from 1 to {}", u32::MAX),
        )),
    }
}

pub(super) fn parse_page_size(name: &str, value: &str, max: u32) -> Result<u32, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::testing::{WEBHOOKS, bad, detail};
    use crate::query::{MAX_PAGE_SIZE, parse_query};
    use proptest::prelude::*;

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
    fn when_page_is_beyond_the_last_should_be_empty_not_an_error() {
        let query = ListQuery { page_number: 4, page_size: 2, ..ListQuery::default() };
        let page = paginate((0..5).collect::<Vec<_>>(), &query);
        assert_eq!(page, PageOf { items: vec![], total: 5, last_page: 3 });
        let query = ListQuery { page_number: 3, page_size: 2, ..ListQuery::default() };
        assert_eq!(paginate((0..5).collect::<Vec<_>>(), &query).items, vec![4]);
        assert_eq!(paginate(Vec::<u8>::new(), &ListQuery::default()).last_page, 1);
    }

    proptest! {
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
