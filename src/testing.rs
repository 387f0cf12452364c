//! Test support: capture the events of one test's requests, even when the
//! tests of a binary run in parallel in one process, and check their
//! chains.
//!
//! The pipeline is global to a process, so two tests that each call
//! [`init`](crate::init) collide. A [`Capture`] instead shares one
//! pipeline, installed on first use, and sees only the requests it started
//! (or was told to [`follow`](Capture::follow)):
//!
//! ```
//! use observe::EventType;
//!
//! #[observe::observed(processor = "intent", ret)]
//! fn classify(message: &str) -> &'static str {
//!     if message.contains("order") { "order_status" } else { "question" }
//! }
//!
//! let capture = observe::testing::capture();
//! capture.run(|| classify("where is my order?"));
//! capture.assert_well_formed();
//! let types: Vec<EventType> = capture.events().iter().map(|e| e.event_type).collect();
//! assert_eq!(types, [EventType::IntentStarted, EventType::IntentClassified]);
//! assert_eq!(capture.events()[1].payload["return"], "order_status");
//! ```
//!
//! An HTTP test sends the capture's request along, so the server's chain
//! joins it: `traceparent: TraceParent::from_context(&capture.request())`,
//! or `follow` the `x-correlation-id` the response carries.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crate::sink::{Sink, SinkError};
use uuid::Uuid;

use crate::chain::Chain;
use crate::{
    Config, CorrelationContext, Event, EventType, FlushOutcome, FutureExt, InitError, SpanId,
    WithContext,
};

/// How long [`Capture::events`] waits for the pipeline to write what was
/// emitted.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The events written by the shared test pipeline, by request.
type Store = Arc<Mutex<HashMap<Uuid, Vec<Event>>>>;

/// The sink of the shared test pipeline.
struct StoreSink(Store);

impl Sink for StoreSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        let mut store = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for event in batch {
            store
                .entry(event.correlation_id)
                .or_default()
                .push(event.clone());
        }
        Ok(())
    }
}

/// The shared pipeline's store, installing the pipeline on first use.
fn shared_store() -> Result<Store, InitError> {
    static STORE: OnceLock<Store> = OnceLock::new();
    static INSTALL: Mutex<()> = Mutex::new(());
    if let Some(store) = STORE.get() {
        return Ok(store.clone());
    }
    let _installing = INSTALL.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(store) = STORE.get() {
        return Ok(store.clone());
    }
    let store = Store::default();
    let guard = crate::init(Config::default().sink(StoreSink(store.clone())))?;
    // The pipeline lives as long as the test process.
    std::mem::forget(guard);
    Ok(STORE.get_or_init(|| store).clone())
}

/// The events of the requests one test started; see the
/// [module documentation](self).
#[derive(Clone)]
pub struct Capture {
    store: Store,
    requests: Arc<Mutex<Vec<Uuid>>>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("requests", &self.request_ids())
            .finish()
    }
}

/// A new capture, installing the shared test pipeline on first use.
///
/// # Panics
///
/// When the process already has a pipeline that is not the test one (code
/// under test called [`init`](crate::init)); [`try_capture`] says so as an
/// error instead.
pub fn capture() -> Capture {
    try_capture().unwrap_or_else(|error| {
        panic!("observe::testing::capture needs the process's pipeline for itself: {error}")
    })
}

/// A new capture, or why the shared test pipeline could not be installed
/// (another pipeline is installed already).
pub fn try_capture() -> Result<Capture, InitError> {
    Ok(Capture {
        store: shared_store()?,
        requests: Arc::default(),
    })
}

impl Capture {
    /// The root of a new request whose events this capture sees.
    pub fn request(&self) -> CorrelationContext {
        let request = CorrelationContext::new_root();
        self.follow(request.correlation_id);
        request
    }

    /// Sees the events of the request `correlation_id` too (one started
    /// elsewhere, such as by the HTTP layer for a request sent without
    /// trace headers; read it from the response's `x-correlation-id`).
    pub fn follow(&self, correlation_id: Uuid) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if !requests.contains(&correlation_id) {
            requests.push(correlation_id);
        }
    }

    /// Runs `f` in a new request of this capture.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        self.request().in_scope(f)
    }

    /// `future`, run in a new request of this capture wherever it is polled.
    pub fn scope<F: Future>(&self, future: F) -> WithContext<F> {
        future.with_context(self.request())
    }

    /// The correlation ids of this capture's requests, in the order they
    /// were started or followed.
    pub fn request_ids(&self) -> Vec<Uuid> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every event of this capture's requests, once the pipeline has
    /// written what was emitted so far: request by request, each in the
    /// order written.
    ///
    /// # Panics
    ///
    /// When the pipeline did not write everything within [`FLUSH_TIMEOUT`].
    pub fn events(&self) -> Vec<Event> {
        self.request_ids()
            .into_iter()
            .flat_map(|id| self.chain(id))
            .collect()
    }

    /// The events of one request (after a flush, as [`events`](Self::events)).
    pub fn chain(&self, correlation_id: Uuid) -> Vec<Event> {
        let flushed = crate::flush(FLUSH_TIMEOUT);
        assert_eq!(
            flushed,
            FlushOutcome::Flushed,
            "the pipeline did not write within {FLUSH_TIMEOUT:?}"
        );
        self.store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&correlation_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The events of this capture of one type.
    pub fn of_type(&self, event_type: impl Into<EventType>) -> Vec<Event> {
        let event_type = event_type.into();
        self.events()
            .into_iter()
            .filter(|e| e.event_type == event_type)
            .collect()
    }

    /// Checks every request of this capture with [`assert_well_formed`].
    pub fn assert_well_formed(&self) {
        for id in self.request_ids() {
            assert_well_formed(&self.chain(id));
        }
    }
}

/// Checks one request's chain (its events in the order written) and panics
/// with what is wrong. The chain is read by the chain model
/// ([`Chain::build`], what the `observe` command and the dashboard show),
/// so a request is well formed here when they would show it whole:
/// - one correlation id;
/// - no [`Problem`](crate::chain::Problem) (duplicate events, a span with
///   several terminal events or one that ends before it starts, parent
///   cycles);
/// - every span's first event is not a terminal one (no lone terminal:
///   its started event is there), and its terminal event names the
///   processor it started as;
/// - no span that began with a known started event (`message_received`,
///   `span_started`, a built-in processor's) is still in flight; a
///   request's own span ends with its `response_sent`;
/// - every parent is a span of the chain, but for one: the request's root,
///   which may have no events of its own.
pub fn assert_well_formed(events: &[Event]) {
    let Some(first) = events.first() else {
        return;
    };
    assert!(
        events
            .iter()
            .all(|e| e.correlation_id == first.correlation_id),
        "one correlation id per chain: {events:#?}"
    );
    let chain = Chain::build(events.to_vec());
    if let Some(problem) = chain.problems().first() {
        panic!("{problem}: {events:#?}");
    }
    for span in chain.spans() {
        let started = &chain.events()[span.events[0]];
        assert!(
            started.outcome.is_none(),
            "a terminal event without its started event: {started:#?}"
        );
        for &i in &span.events[1..] {
            let event = &chain.events()[i];
            assert!(
                event.outcome.is_none() || event.processor == started.processor,
                "a terminal event whose span started as another processor: {started:#?} and {event:#?}"
            );
        }
        if span.in_flight() && is_started_type(started.event_type) {
            let hint = if started.event_type == EventType::MessageReceived {
                " (a request's span ends with its `response_sent`: emit one when the request is answered; the HTTP layer emits both)"
            } else {
                ""
            };
            panic!("a span that started and never ended{hint}: {started:#?}");
        }
    }
    let missing: HashSet<SpanId> = chain.orphans().filter_map(|s| s.parent_span_id).collect();
    assert!(
        missing.len() <= 1,
        "parents that are not spans of the chain (only the root may be missing): {missing:?} in {events:#?}"
    );
}

fn is_started_type(event_type: EventType) -> bool {
    matches!(
        event_type,
        EventType::MessageReceived | EventType::SpanStarted
    ) || observe_core::model::registry::processors::ALL
        .iter()
        .any(|p| p.started == event_type)
}
