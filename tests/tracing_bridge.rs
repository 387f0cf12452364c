//! The bridge from `tracing`: an axum app with `tower-http`'s `TraceLayer`
//! and `#[observed]` processors gives one chain per request in which both
//! kinds of span nest in the right order (1,000 concurrent requests keep
//! every trace invariant); ERROR events and `error` fields fail a span; a
//! sink whose own code logs through `tracing` feeds nothing back; spans
//! below the layer's filter do not appear.
//!
//! One process-wide subscriber (the layer behind an INFO filter) and one
//! pipeline, whose sink logs through `tracing` on every write.
#![cfg(all(feature = "tracing", feature = "http"))]

mod http_support;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use observe::http::CorrelationLayer;
use observe::sink::{MemorySink, Sink, SinkError};
use observe::{Config, CorrelationContext, Event, EventType, FlushOutcome, Outcome, SpanId};
use tower_http::trace::{DefaultMakeSpan, TraceLayer};
use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;

/// A sink that logs through `tracing` (a span and an event) on every write,
/// as a sink whose client library is instrumented would.
#[derive(Clone)]
struct LoggingSink(MemorySink);

impl Sink for LoggingSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        let span = tracing::info_span!("sink_write", events = batch.len());
        let _entered = span.enter();
        tracing::info!(target: "sink_client", "wrote a batch");
        self.0.write_batch(batch).await
    }
}

/// Installs the subscriber and the pipeline once; every test holds the
/// returned lock, so that counts of the whole sink are exact.
fn setup() -> (MutexGuard<'static, ()>, &'static MemorySink) {
    static SINK: OnceLock<MemorySink> = OnceLock::new();
    static SERIAL: Mutex<()> = Mutex::new(());
    let sink = SINK.get_or_init(|| {
        let subscriber = tracing_subscriber::registry()
            .with(observe::tracing::ObserveLayer::new().with_filter(LevelFilter::INFO));
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        let sink = MemorySink::new();
        let guard = observe::init(Config::default().sink(LoggingSink(sink.clone())))
            .expect("the pipeline installs once");
        std::mem::forget(guard);
        sink
    });
    (SERIAL.lock().unwrap_or_else(PoisonError::into_inner), sink)
}

fn flushed() {
    assert_eq!(
        observe::flush(Duration::from_secs(30)),
        FlushOutcome::Flushed
    );
}

fn chain(sink: &MemorySink, id: Uuid) -> Vec<Event> {
    sink.events()
        .into_iter()
        .filter(|e| e.correlation_id == id)
        .collect()
}

fn started<'a>(chain: &'a [Event], event_type: EventType, processor: &str) -> &'a Event {
    chain
        .iter()
        .find(|e| e.event_type == event_type && e.processor.as_deref() == Some(processor))
        .unwrap_or_else(|| panic!("no {event_type} of {processor}: {chain:#?}"))
}

#[observe::observed(processor = "retrieval")]
async fn retrieve(query: String) -> Result<usize, std::convert::Infallible> {
    let span = tracing::info_span!("db_query", table = "orders");
    let rows = span.in_scope(|| {
        tracing::info!(rows = 3, "fetched");
        3
    });
    tokio::task::yield_now().await;
    tracing::debug_span!("below_the_filter").in_scope(|| tracing::debug!("hidden"));
    Ok(rows + query.len())
}

fn app() -> Router {
    Router::new()
        .route(
            "/chat",
            get(|| async {
                let n = retrieve("where is my order".to_owned()).await.unwrap();
                n.to_string()
            }),
        )
        .layer(TraceLayer::new_for_http().make_span_with(DefaultMakeSpan::new().level(Level::INFO)))
        .layer(CorrelationLayer::new())
}

/// Request -> tower-http's `request` span -> `retrieval` -> `db_query`
/// (with its `log_recorded`), and nothing below the filter.
fn check_nesting(chain: &[Event]) {
    observe::testing::assert_well_formed(chain);
    let spans: std::collections::HashSet<SpanId> = chain.iter().map(|e| e.span_id).collect();
    let request = chain
        .iter()
        .find(|e| e.event_type == EventType::MessageReceived)
        .expect("message_received")
        .span_id;
    let traced = started(chain, EventType::SpanStarted, "request");
    assert_eq!(traced.parent_span_id, Some(request), "{chain:#?}");
    assert_eq!(traced.payload["target"], "tower_http::trace::make_span");
    let retrieval = started(chain, EventType::RetrievalStarted, "retrieval");
    assert_eq!(retrieval.parent_span_id, Some(traced.span_id), "{chain:#?}");
    let query = started(chain, EventType::SpanStarted, "db_query");
    assert_eq!(query.parent_span_id, Some(retrieval.span_id), "{chain:#?}");
    assert_eq!(query.payload["table"], "orders");
    let log = chain
        .iter()
        .find(|e| e.event_type == EventType::LogRecorded && e.span_id == query.span_id)
        .unwrap_or_else(|| panic!("the event inside db_query: {chain:#?}"));
    assert_eq!(log.payload["message"], "fetched");
    assert_eq!(log.payload["rows"], 3);
    assert_eq!(log.payload["level"], "INFO");
    assert_eq!(
        spans.len(),
        4,
        "below_the_filter is not bridged: {chain:#?}"
    );
}

#[test]
fn tracing_spans_and_observed_calls_nest_in_one_chain_for_1000_concurrent_requests() {
    let (_serial, sink) = setup();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ids: Vec<Uuid> = runtime.block_on(async {
        let addr = http_support::serve(app()).await;
        let client = http_support::client();
        let requests = (0..1000).map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let reply = http_support::fetch(&client, addr, "/chat").await;
                assert_eq!(reply.status, 200);
                reply.correlation_id()
            })
        });
        let mut ids = Vec::new();
        for request in requests.collect::<Vec<_>>() {
            ids.push(request.await.unwrap());
        }
        ids
    });
    flushed();
    let events = sink.events();
    let mut by_request: HashMap<Uuid, Vec<Event>> = HashMap::new();
    for event in events {
        by_request
            .entry(event.correlation_id)
            .or_default()
            .push(event);
    }
    let distinct: std::collections::HashSet<&Uuid> = ids.iter().collect();
    assert_eq!(distinct.len(), 1000, "one correlation id per request");
    for id in &ids {
        check_nesting(&by_request[id]);
    }
}

#[test]
fn an_error_event_or_an_error_field_fails_the_span() {
    let (_serial, sink) = setup();
    let request = CorrelationContext::new_root();
    request.in_scope(|| {
        tracing::info_span!("charge").in_scope(|| tracing::error!("card declined"));
        let span = tracing::info_span!("refund", error = tracing::field::Empty);
        span.record("error", "ledger locked");
        span.in_scope(|| tracing::warn!("retrying"));
        tracing::info_span!("receipt").in_scope(|| tracing::info!("sent"));
    });
    flushed();
    let chain = chain(sink, request.correlation_id);
    let ended = |name: &str| {
        let id = started(&chain, EventType::SpanStarted, name).span_id;
        chain
            .iter()
            .find(|e| e.span_id == id && e.outcome.is_some())
            .unwrap_or_else(|| panic!("{name} ended: {chain:#?}"))
            .clone()
    };
    let charge = ended("charge");
    assert_eq!(charge.event_type, EventType::ErrorOccurred);
    assert_eq!(charge.outcome, Some(Outcome::Error));
    assert_eq!(charge.payload["error_message"], "card declined");
    assert_eq!(charge.payload["error_type"], "tracing");
    assert_eq!(charge.payload["processor"], "charge");
    let refund = ended("refund");
    assert_eq!(refund.outcome, Some(Outcome::Error));
    assert_eq!(refund.payload["error_message"], "ledger locked");
    let receipt = ended("receipt");
    assert_eq!(receipt.event_type, EventType::SpanComplete);
    assert_eq!(receipt.outcome, Some(Outcome::Ok));
    assert!(receipt.duration_us.is_some());
}

#[test]
fn a_sink_that_logs_through_tracing_feeds_nothing_back() {
    let (_serial, sink) = setup();
    flushed();
    let before = sink.events().len();
    for round in 0..3 {
        let request = CorrelationContext::new_root();
        request.in_scope(|| {
            tracing::info_span!("work", round).in_scope(|| tracing::info!("step"));
        });
        // Each flush makes the sink write (and log) a batch; a second
        // round would carry anything that logging fed back.
        flushed();
    }
    flushed();
    let events = sink.events();
    let added = &events[before..];
    assert_eq!(
        added.len(),
        3 * 3,
        "span_started, log_recorded and span_complete per round only: {added:#?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e.processor.as_deref() != Some("sink_write")
                && e.payload.get("target").and_then(|t| t.as_str()) != Some("sink_client")),
        "nothing of the sink's own logging was bridged"
    );
}

#[test]
fn spans_and_events_below_the_filter_do_not_appear() {
    let (_serial, sink) = setup();
    let request = CorrelationContext::new_root();
    request.in_scope(|| {
        tracing::debug_span!("verbose").in_scope(|| tracing::info!("inside verbose"));
        tracing::info_span!("visible").in_scope(|| tracing::debug!("too detailed"));
    });
    flushed();
    let chain = chain(sink, request.correlation_id);
    let names: Vec<(EventType, Option<&str>)> = chain
        .iter()
        .map(|e| (e.event_type, e.processor.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            // The INFO event inside the filtered span belongs to the request.
            (EventType::LogRecorded, None),
            (EventType::SpanStarted, Some("visible")),
            (EventType::SpanComplete, Some("visible")),
        ],
        "{chain:#?}"
    );
    assert_eq!(chain[0].span_id, request.span_id);
}
