//! The SQLite backend: [`SqliteSink`] writes, [`SqliteStore`] reads. Both
//! open the file the same way: owner-only files, WAL, and the migrations
//! applied under SQLite's own write lock.

mod sink;
mod sql;
mod store;

use std::path::{Path, PathBuf};

use observe_core::delivery::sink::files::{self, Access};
use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use sink::SqliteSink;
pub use store::SqliteStore;

use crate::StoreError;

/// Opens the database at `path` and brings its layout up to date.
///
/// With `create`, the file and its missing directories are created with
/// `access` (SQLite gives its `-wal` and `-shm` files the database's
/// permissions); without it, a missing file is an error.
fn open(path: &Path, create: Option<Access>) -> Result<Connection, StoreError> {
    match create {
        Some(access) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                files::create_dirs(parent, access).map_err(|source| StoreError::Io {
                    action: "create the directory of the event store",
                    path: path.to_path_buf(),
                    source,
                })?;
            }
            files::create_file(path, access).map_err(|source| StoreError::Io {
                action: "create the event store",
                path: path.to_path_buf(),
                source,
            })?;
        }
        None if !path.exists() => {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        None => {}
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| error(path, e))?;
    conn.execute_batch(sql::SETTINGS)
        .map_err(|e| error(path, e))?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Applies the missing migrations in one `BEGIN IMMEDIATE` transaction
/// (SQLite's write lock: two processes opening at once migrate once).
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| error(path, e))?;
    tx.execute(sql::CREATE_MIGRATIONS, [])
        .map_err(|e| error(path, e))?;
    let current: i64 = tx
        .query_row(sql::CURRENT_VERSION, [], |row| row.get(0))
        .map_err(|e| error(path, e))?;
    if current > sql::LATEST {
        return Err(StoreError::NewerLayout {
            store: format!("sqlite://{}", path.display()),
            found: current,
            supported: sql::LATEST,
        });
    }
    for (version, script) in sql::MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.execute_batch(script).map_err(|e| error(path, e))?;
        tx.execute(sql::RECORD_MIGRATION, [version])
            .map_err(|e| error(path, e))?;
    }
    tx.commit().map_err(|e| error(path, e))
}

/// A clear error for an SQLite failure on the store at `path`.
fn error(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
        _ => StoreError::Database {
            backend: "SQLite",
            store: format!("sqlite://{}", path.display()),
            message: e.to_string(),
        },
    }
}

/// Where a store lives, for its error messages.
#[derive(Clone, Debug)]
struct Location(PathBuf);

impl Location {
    fn error(&self, e: rusqlite::Error) -> StoreError {
        error(&self.0, e)
    }
}
