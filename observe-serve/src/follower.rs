//! The one task that follows the store by `seq` and fans new events out to
//! every stream client (one poll for all clients, not one per client).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use observe_store::{EventStore, Store, StoredEvent};
use tokio::sync::broadcast;

use crate::metrics::Metrics;

/// Events read per store query.
pub(crate) const BATCH: usize = 1000;
/// How many events a client may fall behind before it is told it lagged.
const CHANNEL: usize = 8192;
/// The pause between polls when the store had nothing new.
const IDLE: Duration = Duration::from_millis(50);

/// One stored event, prepared once for every client.
#[derive(Debug)]
pub(crate) struct Frame {
    /// The store's sequence number (the SSE id).
    pub seq: i64,
    /// The event type's wire name (the SSE event field).
    pub event_type: String,
    /// For the filters.
    pub correlation_id: String,
    /// For the filters.
    pub processor: Option<String>,
    /// For the filters.
    pub outcome: Option<&'static str>,
    /// The event as schema-versioned JSON.
    pub json: String,
}

impl Frame {
    /// Prepares `stored`; `None` if it does not serialize (not expected).
    pub(crate) fn new(stored: &StoredEvent) -> Option<Frame> {
        let event = &stored.event;
        Some(Frame {
            seq: stored.seq,
            event_type: event.event_type.as_str().to_owned(),
            correlation_id: event.correlation_id.to_string(),
            processor: event.processor.as_deref().map(str::to_owned),
            outcome: event.outcome.map(|o| o.as_str()),
            json: serde_json::to_string(event).ok()?,
        })
    }
}

/// The fan-out: subscribe, and the `seq` published last.
#[derive(Debug)]
pub(crate) struct Follower {
    sender: broadcast::Sender<Arc<Frame>>,
    head: AtomicI64,
    /// Set once the follower has caught up with the store the first time.
    ready: tokio::sync::watch::Sender<bool>,
}

impl Follower {
    /// A follower that has published nothing yet.
    pub(crate) fn new() -> Arc<Follower> {
        let (sender, _) = broadcast::channel(CHANNEL);
        Arc::new(Follower {
            sender,
            head: AtomicI64::new(0),
            ready: tokio::sync::watch::Sender::new(false),
        })
    }

    /// A receiver of every frame published from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.sender.subscribe()
    }

    /// The last `seq` published, once the follower has caught up with the
    /// store (so that "from now on" does not start at an old event).
    pub(crate) async fn head(&self) -> i64 {
        let mut ready = self.ready.subscribe();
        // An error means the follower is gone; the head is then as good as
        // it gets.
        let _ = ready.wait_for(|r| *r).await;
        self.head.load(Ordering::Acquire)
    }

    /// Follows `store` until the process ends: reads what is new, counts it
    /// for `/metrics`, publishes it.
    pub(crate) async fn run(self: Arc<Follower>, store: Arc<Store>, metrics: Arc<Metrics>) {
        let mut seq = 0;
        loop {
            match store.after(seq, BATCH).await {
                Ok(tail) => {
                    for stored in &tail.events {
                        metrics.count(&stored.event);
                        if let Some(frame) = Frame::new(stored) {
                            // No receiver is not an error: nobody listens yet.
                            let _ = self.sender.send(Arc::new(frame));
                        }
                    }
                    let more = tail.events.len() == BATCH || tail.next_seq > seq + BATCH as i64;
                    seq = tail.next_seq.max(seq);
                    self.head.store(seq, Ordering::Release);
                    if !more {
                        self.ready.send_replace(true);
                        tokio::time::sleep(IDLE).await;
                    }
                }
                Err(error) => {
                    eprintln!("observe serve: reading the store failed: {error}");
                    tokio::time::sleep(IDLE * 20).await;
                }
            }
        }
    }
}
