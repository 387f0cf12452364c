//! Event stores for `observe`: SQLite (embedded, the default) and
//! PostgreSQL sinks, one table layout for both (the `events` table: a
//! column per field of event schema version 1, layout 2 since events carry
//! their service) with its migrations, and the query API ([`EventStore`]) that the CLI, the live
//! stream and the dashboard read through. A JSONL file can be read through
//! the same API.
//!
//! A store is named by one URL ([`StoreUrl`]): `sqlite://<path>`,
//! `postgres://user@host:port/db`, or a path ending in `.jsonl`; the
//! environment variable `OBSERVE_STORE` holds one.
//!
//! ```
//! use observe::store::{EventStore, Store, StoreSink, StoreUrl, TraceFilter};
//!
//! let dir = std::env::temp_dir().join(format!("observe-doc-lib-{}", std::process::id()));
//! let url = StoreUrl::sqlite(dir.join("events.db"));
//! let sink = StoreSink::open(&url)?; // give it to observe::Config::sink
//! let store = Store::open(&url)?;
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let page = runtime.block_on(store.traces(&TraceFilter::new().errors_only()))?;
//! assert!(page.items.is_empty());
//! # drop(sink);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), observe::store::StoreError>(())
//! ```
//!
//! PostgreSQL is reached over plain TCP (no TLS): run it on the same host
//! or a trusted network, or put a TLS tunnel in front.
#![deny(missing_docs)]

mod any;
mod error;
mod jsonl;
#[cfg(feature = "postgres")]
mod postgres;
mod query;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod row;
#[cfg(feature = "sqlite")]
mod sqlite;
mod summary;
mod url;

pub use any::{Store, StoreSink};
pub use error::StoreError;
pub use jsonl::JsonlStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresSink, PostgresStore};
pub use query::{
    Cursor, EventCount, EventStore, Page, ProcessorStats, StoredEvent, Tail, TraceFilter,
    TraceSummary,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteSink, SqliteStore};
pub use url::{ENV_VAR, StoreUrl};
