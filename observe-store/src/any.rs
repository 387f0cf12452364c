//! [`Store`] and [`StoreSink`]: whichever backend a [`StoreUrl`] names,
//! behind one type.

use std::collections::BTreeMap;

use observe_core::delivery::sink::{JsonlSink, Sink, SinkError};
use observe_core::read::chain::Chain;
use observe_core::read::reader::TypeLookup;
use observe_core::{Event, Timestamp};
use uuid::Uuid;

use crate::query::{EventCount, EventStore, Page, ProcessorStats, Tail, TraceFilter, TraceSummary};
use crate::{JsonlStore, StoreError, StoreUrl};

/// The store a URL names, for reading.
///
/// ```
/// use observe::store::{Store, StoreUrl};
///
/// let err = Store::open(&"sqlite:///nonexistent/dir/events.db".parse()?).err().unwrap();
/// assert!(err.to_string().contains("no event store at `/nonexistent/dir/events.db`"));
/// # Ok::<(), observe::store::StoreError>(())
/// ```
#[non_exhaustive]
pub enum Store {
    /// An SQLite file.
    #[cfg(feature = "sqlite")]
    Sqlite(crate::SqliteStore),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(crate::PostgresStore),
    /// A JSONL file (read-only).
    Jsonl(JsonlStore),
}

/// The sink a URL names, for writing (a `.jsonl` path appends to the
/// file).
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreSink {
    /// An SQLite file.
    #[cfg(feature = "sqlite")]
    Sqlite(crate::SqliteSink),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(crate::PostgresSink),
    /// A JSONL file.
    Jsonl(JsonlSink),
}

#[allow(unused_variables)]
fn not_compiled(url: &StoreUrl, feature: &'static str) -> StoreError {
    StoreError::NotCompiled {
        url: url.to_string(),
        feature,
    }
}

impl Store {
    /// Opens the existing store named by `url`.
    pub fn open(url: &StoreUrl) -> Result<Store, StoreError> {
        match url {
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(path) => crate::SqliteStore::open(path).map(Store::Sqlite),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(text) => crate::PostgresStore::connect(text).map(Store::Postgres),
            StoreUrl::Jsonl(path) => JsonlStore::open(path).map(Store::Jsonl),
            #[allow(unreachable_patterns)]
            StoreUrl::Sqlite(_) => Err(not_compiled(url, "sqlite")),
            #[allow(unreachable_patterns)]
            StoreUrl::Postgres(_) => Err(not_compiled(url, "postgres")),
        }
    }

    /// Reads the event types of an application's registry too: pass the
    /// `EventType::parse` that `observe::registry!` generated, and the
    /// application's own events are read instead of skipped as unknown.
    ///
    /// ```
    /// # mod events { pub fn parse(name: &str) -> Option<observe::EventType> { observe::EventType::parse(name).ok() } }
    /// use observe::store::{Store, StoreUrl};
    ///
    /// let path = std::env::temp_dir().join(format!("observe-doc-registry-{}.jsonl", std::process::id()));
    /// std::fs::write(&path, "")?;
    /// let store = Store::open(&StoreUrl::Jsonl(path.clone()))?.registry(events::parse);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn registry(self, types: TypeLookup) -> Store {
        match self {
            #[cfg(feature = "sqlite")]
            Store::Sqlite(store) => Store::Sqlite(store.registry(types)),
            #[cfg(feature = "postgres")]
            Store::Postgres(store) => Store::Postgres(store.registry(types)),
            Store::Jsonl(store) => Store::Jsonl(store.registry(types)),
        }
    }
}

impl StoreSink {
    /// Opens (creating an SQLite file or a JSONL file if missing) the store
    /// named by `url` for writing.
    pub fn open(url: &StoreUrl) -> Result<StoreSink, StoreError> {
        match url {
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(path) => crate::SqliteSink::open(path).map(StoreSink::Sqlite),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(text) => crate::PostgresSink::connect(text).map(StoreSink::Postgres),
            StoreUrl::Jsonl(path) => {
                JsonlSink::open(path)
                    .map(StoreSink::Jsonl)
                    .map_err(|e| StoreError::Database {
                        backend: "JSONL",
                        store: url.to_string(),
                        message: e.to_string(),
                    })
            }
            #[allow(unreachable_patterns)]
            StoreUrl::Sqlite(_) => Err(not_compiled(url, "sqlite")),
            #[allow(unreachable_patterns)]
            StoreUrl::Postgres(_) => Err(not_compiled(url, "postgres")),
        }
    }
}

impl Sink for StoreSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        match self {
            #[cfg(feature = "sqlite")]
            StoreSink::Sqlite(sink) => sink.write_batch(batch).await,
            #[cfg(feature = "postgres")]
            StoreSink::Postgres(sink) => sink.write_batch(batch).await,
            StoreSink::Jsonl(sink) => sink.write_batch(batch).await,
        }
    }
}

/// Calls the same method on whichever store `self` is.
macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            Store::Sqlite($store) => $call,
            #[cfg(feature = "postgres")]
            Store::Postgres($store) => $call,
            Store::Jsonl($store) => $call,
        }
    };
}

impl EventStore for Store {
    async fn chain(&self, correlation_id: Uuid) -> Result<Chain, StoreError> {
        dispatch!(self, s => s.chain(correlation_id).await)
    }

    async fn traces(&self, filter: &TraceFilter) -> Result<Page<TraceSummary>, StoreError> {
        dispatch!(self, s => s.traces(filter).await)
    }

    async fn after(&self, seq: i64, limit: usize) -> Result<Tail, StoreError> {
        dispatch!(self, s => s.after(seq, limit).await)
    }

    async fn before(&self, seq: i64, limit: usize) -> Result<Tail, StoreError> {
        dispatch!(self, s => s.before(seq, limit).await)
    }

    async fn event_counts(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<EventCount>, StoreError> {
        dispatch!(self, s => s.event_counts(from, to).await)
    }

    async fn processor_stats(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<ProcessorStats>, StoreError> {
        dispatch!(self, s => s.processor_stats(from, to).await)
    }

    async fn retain(&self, older_than: Timestamp) -> Result<u64, StoreError> {
        dispatch!(self, s => s.retain(older_than).await)
    }

    fn unknown_types(&self) -> BTreeMap<String, u64> {
        dispatch!(self, s => s.unknown_types())
    }
}
