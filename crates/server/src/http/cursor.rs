//! Opaque page cursors: base64url of a small JSON value. Clients pass them back unchanged;
//! anything else is answered with `invalid_query`.

use crate::app::error::ApiError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use conclave_domain::PageLimit;
use conclave_protocol::{ErrorCode, Page};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The longest cursor read; every cursor this server gives out is far shorter.
const MAX_CURSOR_BYTES: usize = 1024;

pub fn encode<T: Serialize>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

pub fn decode<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>, ApiError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let invalid = || ApiError::new(ErrorCode::InvalidQuery, "the cursor is not one this server gave out");
    if cursor.len() > MAX_CURSOR_BYTES {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| invalid())
}

/// Parses `limit` for a list with the given bounds, as a 422 on `limit` when out of bounds.
pub fn limit(input: Option<u32>, bounds: (u32, u32)) -> Result<u32, ApiError> {
    PageLimit::parse(input, bounds).map(PageLimit::get).map_err(|e| ApiError::field("limit", e.0))
}

/// Builds a page from up to `limit + 1` fetched items: the extra one only says that more exist.
/// `key` makes the cursor from the last item kept.
pub fn page<R, T, K: Serialize>(
    mut fetched: Vec<R>,
    limit: u32,
    key: impl Fn(&R) -> K,
    view: impl FnMut(&R) -> T,
) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = fetched.len() > limit;
    fetched.truncate(limit);
    let next_cursor = if more { fetched.last().map(|last| encode(&key(last))) } else { None };
    Page::new(fetched.iter().map(view).collect(), next_cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let cursor = encode(&("name", 42));
        assert_eq!(decode::<(String, u32)>(Some(&cursor)).ok().flatten(), Some(("name".into(), 42)));
        assert!(decode::<(String, u32)>(Some("!!!")).is_err());
        assert!(decode::<(String, u32)>(Some(&encode(&"other shape"))).is_err());
        assert_eq!(decode::<(String, u32)>(None).ok().flatten(), None);
    }

    #[test]
    fn pages_say_when_more_exist() {
        let full = page(vec![1, 2, 3], 2, |n| *n, |n| *n);
        assert_eq!(full.items, [1, 2]);
        assert_eq!(decode::<i32>(full.next_cursor.as_deref()).ok().flatten(), Some(2));
        let last = page(vec![1, 2], 2, |n| *n, |n| *n);
        assert_eq!(last.next_cursor, None);
    }
}
