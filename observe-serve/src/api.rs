//! The JSON API: `/api/v1/traces`, `/api/v1/traces/{id}`, `/api/v1/stats`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use observe_core::{Outcome, Timestamp};
use observe_store::{Cursor, EventStore, TraceFilter};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::json;
use crate::server::AppState;

/// The filters of `/api/v1/traces`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TracesQuery {
    from: Option<String>,
    to: Option<String>,
    processor: Option<String>,
    outcome: Option<String>,
    #[serde(default)]
    errors_only: bool,
    limit: Option<usize>,
    cursor: Option<String>,
}

impl TracesQuery {
    fn filter(&self) -> Result<TraceFilter, String> {
        let time = |text: &Option<String>| {
            text.as_deref()
                .map(|t| Timestamp::parse_rfc3339(t).map_err(|e| format!("`{t}`: {e}")))
                .transpose()
        };
        let mut filter = TraceFilter::new()
            .between(time(&self.from)?, time(&self.to)?)
            .limit(self.limit.unwrap_or(50));
        if let Some(p) = &self.processor {
            filter = filter.processor(p.clone());
        }
        if let Some(o) = &self.outcome {
            filter = filter.outcome(parse_outcome(o)?);
        }
        if self.errors_only {
            filter = filter.errors_only();
        }
        if let Some(c) = &self.cursor {
            let cursor: Cursor = c.parse().map_err(|e| format!("{e}"))?;
            filter = filter.after(Some(cursor));
        }
        Ok(filter)
    }
}

fn parse_outcome(text: &str) -> Result<Outcome, String> {
    [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Panic,
        Outcome::Cancelled,
    ]
    .into_iter()
    .find(|o| o.as_str() == text)
    .ok_or_else(|| format!("unknown outcome `{text}` (ok, error, panic, cancelled)"))
}

/// `GET /api/v1/traces`.
pub(crate) async fn traces(
    State(state): State<AppState>,
    Query(query): Query<TracesQuery>,
) -> Response {
    let filter = match query.filter() {
        Ok(filter) => filter,
        Err(message) => return json::error(StatusCode::BAD_REQUEST, message),
    };
    match state.store.traces(&filter).await {
        Ok(page) => Json(json::page(&page)).into_response(),
        Err(e) => json::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /api/v1/traces/{correlation_id}`.
pub(crate) async fn trace(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return json::error(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not a correlation id"),
        );
    };
    match state.store.chain(id).await {
        Ok(chain) if chain.events().is_empty() => {
            json::error(StatusCode::NOT_FOUND, format!("no events for {id}"))
        }
        Ok(chain) => Json(json::chain(&chain)).into_response(),
        Err(e) => json::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /api/v1/stats`.
pub(crate) async fn stats(State(state): State<AppState>) -> Response {
    match state.store.processor_stats(None, None).await {
        Ok(processors) => {
            let pipeline = state.pipeline_stats.as_ref().map(|f| {
                let s = f();
                json!({
                    "emitted": s.emitted, "dropped": s.dropped, "written": s.written,
                    "failed_writes": s.failed_writes, "fallen_back": s.fallen_back,
                    "pending": s.pending,
                })
            });
            Json(json!({
                "processors": json::processors(&processors),
                "pipeline": pipeline,
                "stream_clients": state.metrics.clients(),
                "schema_version": observe_core::SCHEMA_VERSION,
            }))
            .into_response()
        }
        Err(e) => json::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
