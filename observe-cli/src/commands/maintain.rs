//! `observe migrate` and `observe retain --older-than`: the store's
//! upkeep.

use observe::Timestamp;
use observe::store::{EventStore, Store, StoreSink, StoreUrl};

use crate::args::Globals;
use crate::error::CliError;

/// Creates the store if it is missing and applies its migrations (opening
/// a store for writing does both).
pub fn migrate(globals: &Globals) -> Result<(), CliError> {
    let out = &globals.output;
    if matches!(globals.store, StoreUrl::Jsonl(_)) {
        return Ok(out.line(&format!(
            "`{}` is a JSONL file: it has no schema layout to migrate",
            globals.store
        ))?);
    }
    drop(StoreSink::open(&globals.store)?);
    Ok(out.line(&format!("the store `{}` is up to date", globals.store))?)
}

/// Deletes the events older than `older_than`.
pub async fn retain(
    globals: &Globals,
    store: &Store,
    older_than: Timestamp,
) -> Result<(), CliError> {
    let deleted = store.retain(older_than).await?;
    let out = &globals.output;
    if out.json {
        return Ok(out.json_line(&serde_json::json!({
            "deleted": deleted, "older_than": older_than.to_string(),
        }))?);
    }
    Ok(out.line(&format!(
        "deleted {deleted} events older than {} from `{}`",
        out.time(older_than),
        globals.store
    ))?)
}
