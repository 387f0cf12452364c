//! `GET /metrics`: Prometheus text format, from the events the follower
//! has read, the in-process pipeline's stats and the stream clients.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use observe_core::Event;

use crate::server::AppState;

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The counters, fed by the follower.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    inner: Mutex<Counts>,
    clients: AtomicI64,
}

#[derive(Debug, Default)]
struct Counts {
    /// (event type, outcome or "") -> count.
    events: BTreeMap<(String, String), u64>,
    /// processor -> histogram.
    durations: BTreeMap<String, Histogram>,
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_s: f64,
}

impl Metrics {
    /// Counts one event read from the store.
    pub(crate) fn count(&self, event: &Event) {
        let Ok(mut counts) = self.inner.lock() else {
            return;
        };
        let outcome = event.outcome.map_or("", |o| o.as_str());
        let key = (event.event_type.as_str().to_owned(), outcome.to_owned());
        *counts.events.entry(key).or_default() += 1;
        if let (Some(processor), Some(us)) = (&event.processor, event.duration_us) {
            let h = counts.durations.entry(processor.to_string()).or_default();
            let s = us as f64 / 1e6;
            for (slot, bound) in h.buckets.iter_mut().zip(BUCKETS) {
                if s <= bound {
                    *slot += 1;
                }
            }
            h.count += 1;
            h.sum_s += s;
        }
    }

    pub(crate) fn client_joined(&self) {
        self.clients.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn client_left(&self) {
        self.clients.fetch_sub(1, Ordering::Relaxed);
    }

    /// Stream clients connected now.
    pub(crate) fn clients(&self) -> i64 {
        self.clients.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String) {
        let Ok(counts) = self.inner.lock() else {
            return;
        };
        header_line(
            out,
            "observe_events_total",
            "counter",
            "Events read from the store.",
        );
        for ((event_type, outcome), n) in &counts.events {
            let _ = writeln!(
                out,
                "observe_events_total{{event_type=\"{}\",outcome=\"{}\"}} {n}",
                escape(event_type),
                escape(outcome)
            );
        }
        header_line(
            out,
            "observe_processor_duration_seconds",
            "histogram",
            "Durations of finished processor calls.",
        );
        for (processor, h) in &counts.durations {
            let p = escape(processor);
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "observe_processor_duration_seconds_bucket{{processor=\"{p}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "observe_processor_duration_seconds_bucket{{processor=\"{p}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "observe_processor_duration_seconds_sum{{processor=\"{p}\"}} {}",
                h.sum_s
            );
            let _ = writeln!(
                out,
                "observe_processor_duration_seconds_count{{processor=\"{p}\"}} {}",
                h.count
            );
        }
        header_line(
            out,
            "observe_stream_clients",
            "gauge",
            "Stream clients connected.",
        );
        let _ = writeln!(out, "observe_stream_clients {}", self.clients());
    }
}

fn header_line(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The handler.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    state.metrics.render(&mut out);
    if let Some(stats) = state.pipeline_stats.as_ref().map(|f| f()) {
        for (name, help, value) in [
            ("emitted", "Events handed to the pipeline.", stats.emitted),
            ("dropped", "Events lost, counted.", stats.dropped),
            ("written", "Events the sink stored.", stats.written),
            (
                "failed_writes",
                "Sink calls that failed.",
                stats.failed_writes,
            ),
            (
                "fallen_back",
                "Events written to the fallback.",
                stats.fallen_back,
            ),
        ] {
            header_line(
                &mut out,
                &format!("observe_pipeline_{name}_total"),
                "counter",
                help,
            );
            let _ = writeln!(out, "observe_pipeline_{name}_total {value}");
        }
        header_line(
            &mut out,
            "observe_pipeline_pending",
            "gauge",
            "Events queued.",
        );
        let _ = writeln!(out, "observe_pipeline_pending {}", stats.pending);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
