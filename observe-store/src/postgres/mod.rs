//! The PostgreSQL backend: [`PostgresSink`] writes, [`PostgresStore`]
//! reads. Each owns a small runtime (one worker thread) that drives its
//! connection, so neither needs nor uses the application's runtime; a lost
//! connection is re-established on the next call.

mod sink;
mod sql;
mod store;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, NoTls, Statement};

pub use sink::PostgresSink;
pub use store::PostgresStore;

use crate::StoreError;
use crate::url::mask_password;

/// The connection of a sink or store, and how to get it back.
struct Backend {
    runtime: OwnedRuntime,
    shared: Arc<Shared>,
}

struct Shared {
    config: tokio_postgres::Config,
    store: String,
    live: Mutex<Option<Live>>,
}

/// An open connection with the statements used on every batch.
struct Live {
    client: Client,
    insert: Statement,
    upsert: Statement,
}

/// A runtime that may be dropped anywhere, even inside another runtime.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("store", &self.shared.store)
            .finish()
    }
}

impl Backend {
    /// Connects to `url` and brings the layout up to date, blocking the
    /// calling thread (any thread, on a runtime or not) until done.
    fn connect(url: &str) -> Result<Backend, StoreError> {
        let store = mask_password(url);
        let mut config: tokio_postgres::Config =
            url.parse()
                .map_err(|e: tokio_postgres::Error| StoreError::InvalidUrl {
                    url: store.clone(),
                    reason: e.to_string(),
                })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("observe-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Database {
                backend: "PostgreSQL",
                store: store.clone(),
                message: format!("cannot start the connection's runtime: {e}"),
            })?;
        let backend = Backend {
            runtime: OwnedRuntime(Some(runtime)),
            shared: Arc::new(Shared {
                config,
                store,
                live: Mutex::new(None),
            }),
        };
        let shared = backend.shared.clone();
        backend.block_on(async move { shared.live().await.map(drop) })?;
        Ok(backend)
    }

    /// Runs `work` on the backend's runtime and waits for it from any
    /// executor.
    async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(runtime) = &self.runtime.0 else {
            return Err(self.shared.error_text("the connection's runtime is gone"));
        };
        runtime.spawn(work).await.map_err(|e| {
            self.shared
                .error_text(&format!("the database task failed: {e}"))
        })?
    }

    /// Runs `work` to completion, blocking the calling thread (on a fresh
    /// thread, so this works inside another runtime too).
    fn block_on<T: Send>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send,
    ) -> Result<T, StoreError> {
        let Some(runtime) = &self.runtime.0 else {
            return Err(self.shared.error_text("the connection's runtime is gone"));
        };
        std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(work))
                .join()
                .unwrap_or_else(|_| Err(self.shared.error_text("the connection task panicked")))
        })
    }
}

impl Shared {
    /// The live connection, connecting (and migrating) first if there is
    /// none or the last one was lost.
    async fn live(&self) -> Result<MutexGuard<'_, Option<Live>>, StoreError> {
        let mut live = self.live.lock().await;
        if live.as_ref().is_none_or(|l| l.client.is_closed()) {
            *live = None;
            let (mut client, connection) = self
                .config
                .connect(NoTls)
                .await
                .map_err(|e| self.error(&e))?;
            tokio::spawn(connection);
            migrate(&mut client, &self.store).await?;
            *live = Some(Live {
                insert: client
                    .prepare(sql::INSERT_EVENTS)
                    .await
                    .map_err(|e| self.error(&e))?,
                upsert: client
                    .prepare(sql::UPSERT_TRACES)
                    .await
                    .map_err(|e| self.error(&e))?,
                client,
            });
        }
        Ok(live)
    }

    /// A clear error for a database failure; forgets a lost connection.
    fn error(&self, e: &tokio_postgres::Error) -> StoreError {
        self.error_text(&message(e))
    }

    fn error_text(&self, message: &str) -> StoreError {
        StoreError::Database {
            backend: "PostgreSQL",
            store: self.store.clone(),
            message: message.to_owned(),
        }
    }
}

/// Applies the missing migrations in one transaction under an advisory
/// lock, so that two processes starting together migrate once.
async fn migrate(client: &mut Client, store: &str) -> Result<(), StoreError> {
    let fail = |e: tokio_postgres::Error| StoreError::Database {
        backend: "PostgreSQL",
        store: store.to_owned(),
        message: format!("migrating: {}", message(&e)),
    };
    let tx = client.transaction().await.map_err(fail)?;
    tx.execute(sql::LOCK, &[&sql::MIGRATION_LOCK])
        .await
        .map_err(fail)?;
    tx.execute(sql::CREATE_MIGRATIONS, &[])
        .await
        .map_err(fail)?;
    let current: i64 = tx
        .query_one(sql::CURRENT_VERSION, &[])
        .await
        .map_err(fail)?
        .get(0);
    if current > sql::LATEST {
        return Err(StoreError::NewerLayout {
            store: store.to_owned(),
            found: current,
            supported: sql::LATEST,
        });
    }
    for (version, script) in sql::MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(script).await.map_err(fail)?;
        tx.execute(sql::RECORD_MIGRATION, &[version])
            .await
            .map_err(fail)?;
    }
    tx.commit().await.map_err(fail)
}

/// The server's words for a database error, or the client's error with its
/// cause ("error connecting to server: Connection refused").
fn message(e: &tokio_postgres::Error) -> String {
    match (e.as_db_error(), std::error::Error::source(e)) {
        (Some(db), _) => format!("{}: {}", db.severity(), db.message()),
        (None, Some(cause)) => format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    }
}
