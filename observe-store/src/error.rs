//! [`StoreError`]: why a store could not be opened, written or read. Every
//! message names the store; a PostgreSQL password never appears in one.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL's scheme is not one this crate knows.
    #[error(
        "unknown store URL scheme `{scheme}` in `{url}`: use sqlite://<path>, postgres://user@host:port/db, or a path ending in .jsonl"
    )]
    UnknownScheme {
        /// The scheme found.
        scheme: String,
        /// The URL, its password masked.
        url: String,
    },
    /// The URL could not be understood.
    #[error("invalid store URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, its password masked.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The backend for this URL is not compiled in.
    #[error("`{url}` needs the `{feature}` feature of observe, which is not enabled")]
    NotCompiled {
        /// The URL, its password masked.
        url: String,
        /// The feature to enable.
        feature: &'static str,
    },
    /// There is no store at this path (reading never creates one).
    #[error("no event store at `{}`", path.display())]
    Missing {
        /// The path looked at.
        path: PathBuf,
    },
    /// The file system refused (a read-only or missing directory, no
    /// permission).
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The error from the operating system.
        source: std::io::Error,
    },
    /// The file is not an SQLite database, or its pages are damaged.
    #[error("`{}` is not a readable SQLite database (corrupt, or another kind of file): {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        reason: String,
    },
    /// The store was laid out by a newer version of observe; nothing was
    /// written to it.
    #[error(
        "the store `{store}` has schema layout {found}, newer than the {supported} this version of observe knows: upgrade observe to use it (nothing was written)"
    )]
    NewerLayout {
        /// The store, its password masked.
        store: String,
        /// The layout version recorded in the store.
        found: i64,
        /// The newest layout this crate knows.
        supported: i64,
    },
    /// A stored event has a schema version this reader cannot read.
    #[error("the event at seq {seq} has schema_version {found}; this reader reads {supported}")]
    UnsupportedSchemaVersion {
        /// The row's sequence number (or line number in a JSONL file).
        seq: i64,
        /// Its schema version.
        found: i64,
        /// The version this reader reads.
        supported: u32,
    },
    /// A stored row is not a valid event.
    #[error("the event at seq {seq} is malformed: {reason}")]
    BadRow {
        /// The row's sequence number (or line number).
        seq: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// The database reported an error.
    #[error("{backend} store `{store}`: {message}")]
    Database {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// The store, its password masked.
        store: String,
        /// The database's message.
        message: String,
    },
    /// The operation writes, and this store is read-only (a JSONL file).
    #[error("the store `{store}` is read-only: {operation} needs SQLite or PostgreSQL")]
    ReadOnly {
        /// The store.
        store: String,
        /// What was asked.
        operation: &'static str,
    },
    /// A cursor string could not be parsed.
    #[error("invalid page cursor `{0}`")]
    InvalidCursor(String),
}

impl From<StoreError> for observe_core::delivery::sink::SinkError {
    fn from(error: StoreError) -> Self {
        observe_core::delivery::sink::SinkError::new(error.to_string())
    }
}
