//! Reading a whole store in `seq` order, a page at a time, for the
//! commands that look at every event (tail, stats, export).

use observe::store::{EventStore, StoredEvent};

use crate::error::CliError;

/// Rows per page.
pub const PAGE: usize = 10_000;

/// Calls `each` for every event after `seq`, in `seq` order; returns the
/// `seq` to continue from.
pub async fn each_after(
    store: &impl EventStore,
    mut seq: i64,
    mut each: impl FnMut(StoredEvent) -> Result<(), CliError>,
) -> Result<i64, CliError> {
    loop {
        let tail = store.after(seq, PAGE).await?;
        let done = tail.next_seq == seq;
        seq = tail.next_seq;
        for event in tail.events {
            each(event)?;
        }
        if done {
            return Ok(seq);
        }
    }
}
