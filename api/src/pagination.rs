//! Every list is paged the same way: `?limit=&offset=` in, `{items, next_offset}` out,
//! where `next_offset` is absent on the last page.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

#[derive(Clone, Copy, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<u32>,
}

impl PageParams {
    /// The limit and offset to query with; the query asks for one row more than the
    /// limit, so [`Page::from_rows`] can tell whether a next page exists.
    pub fn checked(self) -> Result<(i64, i64), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", "must be 1 to 200"));
        }
        let offset = self.offset.unwrap_or(0);
        if offset > 1_000_000 {
            return Err(ApiError::invalid("offset", "must be at most 1000000"));
        }
        Ok((i64::from(limit), i64::from(offset)))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The offset of the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<i64>,
}

impl<T> Page<T> {
    /// `rows` fetched with `LIMIT limit + 1 OFFSET offset`.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, offset: i64) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Self {
            items: rows,
            next_offset: more.then_some(offset + limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extra_row_tells_whether_a_next_page_exists() {
        let page = Page::from_rows(vec![1, 2, 3], 2, 10);
        assert_eq!((page.items, page.next_offset), (vec![1, 2], Some(12)));
        let last = Page::from_rows(vec![1, 2], 2, 10);
        assert_eq!((last.items, last.next_offset), (vec![1, 2], None));
    }

    #[test]
    fn limits_are_bounded() {
        let params = |limit, offset| PageParams { limit, offset };
        assert_eq!(params(None, None).checked().unwrap(), (50, 0));
        assert_eq!(params(Some(200), Some(5)).checked().unwrap(), (200, 5));
        assert!(params(Some(0), None).checked().is_err());
        assert!(params(Some(201), None).checked().is_err());
        assert!(params(None, Some(1_000_001)).checked().is_err());
    }
}
