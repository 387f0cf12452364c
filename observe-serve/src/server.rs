//! The router, its shared state, and the entry point that binds and runs
//! until Ctrl-C or SIGTERM.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use observe_core::delivery::pipeline::Stats;
use observe_store::Store;
use tokio::net::TcpListener;

use crate::follower::Follower;
use crate::metrics::Metrics;
use crate::{ServeError, ServeOptions, api, auth, dashboard, metrics, stream};

/// Where the in-process pipeline's totals come from, when the server runs
/// inside the application (for example `observe::pipeline::stats`).
pub type StatsSource = Arc<dyn Fn() -> Stats + Send + Sync>;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) follower: Arc<Follower>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) pipeline_stats: Option<StatsSource>,
    pub(crate) token: Option<Arc<str>>,
    pub(crate) cors: Arc<[HeaderValue]>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The routes over `store`, to mount in an axum application; spawns the
/// task that follows the store (call it inside a tokio runtime). `token`,
/// `cors_origins` and `stream_window` come from `options`; its `bind` and
/// `store` are not read (the caller binds, and passes the opened store).
pub fn router(store: Store, pipeline_stats: Option<StatsSource>, options: &ServeOptions) -> Router {
    let store = Arc::new(store);
    let follower = Follower::new(options.stream_window);
    let metrics = Arc::new(Metrics::default());
    tokio::spawn(follower.clone().run(store.clone(), metrics.clone()));
    let state = AppState {
        store,
        follower,
        metrics,
        pipeline_stats,
        token: options.token.as_deref().map(Arc::from),
        cors: options
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect(),
    };
    Router::new()
        .route("/", get(dashboard::index))
        .route("/assets/{name}", get(dashboard::asset))
        .route("/login", get(auth::login))
        .route("/api/v1/stream", get(stream::stream))
        .route("/api/v1/traces", get(api::traces))
        .route("/api/v1/traces/{correlation_id}", get(api::trace))
        .route("/api/v1/stats", get(api::stats))
        .route("/metrics", get(metrics::metrics))
        .layer(middleware::from_fn_with_state(state.clone(), auth::require))
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .with_state(state)
}

/// Adds CORS headers for the configured origins only; none by default.
async fn cors(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin.filter(|o| state.cors.iter().any(|a| a == o));
    if request.method() == Method::OPTIONS
        && let Some(origin) = &allowed
    {
        return (
            [
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()),
                (
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("authorization"),
                ),
                (
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET"),
                ),
            ],
            "",
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    if let Some(origin) = allowed {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}

/// Validates `options`, opens the store, binds and serves until Ctrl-C or
/// SIGTERM.
pub async fn serve(options: ServeOptions) -> Result<(), ServeError> {
    options.validate()?;
    let listener = TcpListener::bind(options.bind)
        .await
        .map_err(|source| ServeError::Io {
            addr: options.bind,
            source,
        })?;
    eprintln!(
        "observe serve: http://{} (store {})",
        options.bind, options.store
    );
    serve_on(listener, options, shutdown()).await
}

/// Serves on `listener` until `shutdown` completes (tests bind
/// `127.0.0.1:0` and pass their own signal).
pub async fn serve_on(
    listener: TcpListener,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    options.validate()?;
    let addr = listener.local_addr().unwrap_or(options.bind);
    let store = Store::open(&options.store)?.registry(options.types);
    let app = router(store, None, &options);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Io { addr, source })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
