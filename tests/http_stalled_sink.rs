//! A sink that stalls, behind a real axum server: requests complete while
//! the sink holds its first batch (no request waits for storage), and the
//! events are delivered once the sink moves again.
//!
//! No wall-clock timing: the bounds are on how many writes the sink has
//! accepted or finished while the requests were served, which no design
//! that waited on storage could meet.
#![cfg(feature = "http")]

mod common;
mod http_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{Capture, serial};
use http_support::{ONE_PROCESSOR_CHAIN, client, fetch, of_request, serve, types};
use observe::sink::{Sink, SinkError};
use observe::{Config, Event, FlushOutcome};
use tokio::sync::Semaphore;

const REQUESTS: usize = 200;

/// A sink whose writes wait until it is opened (every write, while it is
/// closed) or sleep for a while each (see the tests); counts the writes it
/// began and finished and keeps the events it stored.
#[derive(Clone)]
struct StallingSink {
    /// Closed when the sink may go on: a write waits for a permit that
    /// never comes, until the semaphore is closed.
    gate: Arc<Semaphore>,
    /// When set, each write sleeps this long (while `slow` holds).
    sleep: Option<Duration>,
    slow: Arc<AtomicBool>,
    begun: Arc<AtomicU64>,
    finished: Arc<AtomicU64>,
    events: Arc<std::sync::Mutex<Vec<Event>>>,
}

impl StallingSink {
    fn new(sleep: Option<Duration>) -> StallingSink {
        StallingSink {
            gate: Arc::new(Semaphore::new(0)),
            sleep,
            slow: Arc::new(AtomicBool::new(true)),
            begun: Arc::default(),
            finished: Arc::default(),
            events: Arc::default(),
        }
    }

    /// Lets every write, waiting or future, go through at full speed.
    fn release(&self) {
        self.slow.store(false, Ordering::SeqCst);
        self.gate.close();
    }

    fn begun(&self) -> u64 {
        self.begun.load(Ordering::SeqCst)
    }

    fn finished(&self) -> u64 {
        self.finished.load(Ordering::SeqCst)
    }

    fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

impl Sink for StallingSink {
    async fn write_batch(&self, batch: &[Event]) -> Result<(), SinkError> {
        self.begun.fetch_add(1, Ordering::SeqCst);
        if self.slow.load(Ordering::SeqCst) {
            match self.sleep {
                Some(pause) => tokio::time::sleep(pause).await,
                // Err once closed: then go on.
                None => drop(self.gate.acquire().await),
            }
        }
        self.events.lock().unwrap().extend_from_slice(batch);
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn install(sink: &StallingSink) -> observe::Guard {
    observe::init(
        Config::default()
            .sink(sink.clone())
            .fallback(Capture::default())
            .diagnostics(Capture::default())
            // One event per write and no lingering: if a request waited for
            // storage, it would wait for at least one whole write.
            .batch_size(1)
            .batch_linger(Duration::from_millis(1))
            .write_timeout(Duration::from_secs(600))
            .queue_capacity(16 * REQUESTS),
    )
    .unwrap()
}

/// Sends `REQUESTS` sequential requests; returns their correlation ids.
async fn sequential_requests() -> Vec<uuid::Uuid> {
    let addr = serve(http_support::app(None)).await;
    let client = client();
    let mut ids = Vec::new();
    for _ in 0..REQUESTS {
        let reply = fetch(&client, addr, "/whoami").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        ids.push(reply.correlation_id());
    }
    ids
}

/// After release: everything arrives, each request's chain complete.
async fn delivered(sink: &StallingSink, ids: &[uuid::Uuid], guard: observe::Guard) {
    let flushed = tokio::task::spawn_blocking(|| observe::flush(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(flushed, FlushOutcome::Flushed);
    let stats = observe::stats();
    assert_eq!((stats.dropped, stats.fallen_back), (0, 0), "{stats:?}");
    assert_eq!(stats.written, stats.emitted, "{stats:?}");
    let events = sink.events();
    for &id in ids {
        let chain = of_request(&events, id);
        assert_eq!(types(&chain), ONE_PROCESSOR_CHAIN, "{chain:?}");
    }
    assert_eq!(
        tokio::task::spawn_blocking(move || guard.shutdown())
            .await
            .unwrap(),
        FlushOutcome::Flushed
    );
}

/// Runs `test` on its own two-thread runtime, alone in this binary (the
/// pipeline is global).
fn alone<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) {
    let _serial = serial();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test());
}

#[test]
fn requests_complete_while_the_sink_is_blocked() {
    alone(blocked);
}

#[test]
fn requests_do_not_wait_for_a_sink_that_sleeps_100_ms_per_write() {
    alone(sleeping);
}

async fn blocked() {
    let sink = StallingSink::new(None);
    let guard = install(&sink);

    // A generous watchdog, not a timing: a server that waited for the
    // blocked sink would never finish, and this turns the hang into a
    // failure.
    let ids = tokio::time::timeout(Duration::from_secs(120), sequential_requests())
        .await
        .expect("requests complete while the sink is blocked");

    // 200 requests, 800 events, and the sink has not finished one write:
    // it took the first batch and has held it all along.
    assert_eq!(sink.finished(), 0, "the sink was blocked all along");
    assert!(sink.begun() <= 1, "one write at a time: {}", sink.begun());
    let stats = observe::stats();
    assert_eq!(stats.emitted, 4 * REQUESTS as u64, "{stats:?}");
    assert_eq!(stats.written, 0, "{stats:?}");

    sink.release();
    delivered(&sink, &ids, guard).await;
}

async fn sleeping() {
    let sink = StallingSink::new(Some(Duration::from_millis(100)));
    let guard = install(&sink);

    let ids = sequential_requests().await;

    // Each request emits four events, one write each: a server that waited
    // for storage would have seen 4 * 200 finished writes (80 s) by now.
    // Requests that do not wait leave the sink a few writes behind per
    // 100 ms of serving; the bound leaves room for a slow machine (requests
    // averaging up to ~50 ms each).
    let finished = sink.finished();
    assert!(
        finished < (REQUESTS / 2) as u64,
        "{finished} writes finished while {REQUESTS} requests were served"
    );

    sink.release();
    delivered(&sink, &ids, guard).await;
}
