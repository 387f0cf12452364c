//! The JSON renderings of the store's values: chains, summaries, stats,
//! and the error bodies.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use observe_core::read::chain::Chain;
use observe_store::{Page, ProcessorStats, TraceSummary};
use serde_json::{Value, json};

/// A chain: its spans in tree order (with their depth) and its events.
pub(crate) fn chain(chain: &Chain) -> Value {
    let spans: Vec<Value> = chain
        .walk()
        .map(|(depth, span)| {
            json!({
                "span_id": span.span_id,
                "parent_span_id": span.parent_span_id,
                "label": span.label(chain),
                "processor": span.processor,
                "depth": depth,
                "start": span.start,
                "start_us": span.start.unix_micros(),
                "outcome": span.outcome.map(|o| o.as_str()),
                "in_flight": span.in_flight(),
                "duration_us": span.duration_us,
                "error_message": span.error_message,
                "events": span.events,
                "orphan": span.orphan,
            })
        })
        .collect();
    json!({
        "correlation_id": chain.correlation_id(),
        "start_us": chain.start().map(|t| t.unix_micros()),
        "duration_us": chain.duration_us(),
        "outcome": chain.outcome().map(|o| o.as_str()),
        "spans": spans,
        "events": chain.events(),
    })
}

/// One page of summaries and the cursor of the next.
pub(crate) fn page(page: &Page<TraceSummary>) -> Value {
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|s| {
            json!({
                "correlation_id": s.correlation_id,
                "root": s.root,
                "start": s.start,
                "start_us": s.start.unix_micros(),
                "duration_us": s.duration_us,
                "spans": s.spans,
                "events": s.events,
                "outcome": s.outcome.map(|o| o.as_str()),
            })
        })
        .collect();
    json!({ "items": items, "next": page.next.map(|c| c.to_string()) })
}

/// Per-processor figures.
pub(crate) fn processors(stats: &[ProcessorStats]) -> Value {
    stats
        .iter()
        .map(|p| {
            json!({
                "processor": p.processor, "calls": p.calls, "ok": p.ok, "error": p.error,
                "panic": p.panic, "cancelled": p.cancelled, "p50_us": p.p50_us,
                "p90_us": p.p90_us, "p99_us": p.p99_us, "max_us": p.max_us,
            })
        })
        .collect()
}

/// An error as `{"error": message}` with `status`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// 406: the schema version asked for is not the one served.
pub(crate) fn version_error(wanted: u32) -> Response {
    let body = json!({
        "error": format!("schema version {wanted} is not served"),
        "requested": wanted,
        "supported": [observe_core::SCHEMA_VERSION],
    });
    (StatusCode::NOT_ACCEPTABLE, Json(body)).into_response()
}
