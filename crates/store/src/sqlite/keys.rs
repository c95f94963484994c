//! The wrapped data keys, for a key rotation (SPEC R-OPS-7): rooms keep theirs in `rooms`,
//! the store's own scopes in `data_keys`.

use super::rows::backend;
use crate::error::StoreResult;
use crate::model::WrappedKey;
use rusqlite::{Connection, params};

pub fn wrapped_keys(c: &Connection, after: &str, limit: u32) -> StoreResult<Vec<WrappedKey>> {
    let mut statement = c
        .prepare_cached(
            "SELECT scope, wrapped FROM (
                 SELECT id AS scope, data_key AS wrapped FROM rooms WHERE data_key IS NOT NULL
                 UNION ALL SELECT scope, wrapped FROM data_keys
             ) WHERE scope > ?1 ORDER BY scope LIMIT ?2",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(params![after, limit], |row| Ok(WrappedKey { scope: row.get(0)?, wrapped: row.get(1)? }))
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub fn replace_wrapped_key(c: &Connection, scope: &str, old: &[u8], new: &[u8]) -> StoreResult<bool> {
    let in_rooms = c
        .execute("UPDATE rooms SET data_key = ?3 WHERE id = ?1 AND data_key = ?2", params![scope, old, new])
        .map_err(backend)?;
    if in_rooms > 0 {
        return Ok(true);
    }
    let in_data_keys = c
        .execute("UPDATE data_keys SET wrapped = ?3 WHERE scope = ?1 AND wrapped = ?2", params![scope, old, new])
        .map_err(backend)?;
    Ok(in_data_keys > 0)
}
