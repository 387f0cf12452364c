//! Destructors of a cancelled future run inside its context: a guard in an
//! `#[observed]` async fn that emits from `Drop` when a timeout cancels the
//! call belongs to the call's span, and so does one in a task started with
//! `observe::spawn` and aborted.

use std::time::Duration;

use observe::{CorrelationContext, Event, EventType, FutureExt, Outcome};

mod common;
use common::process_sink as sink;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Every event delivered so far, after a flush.
fn events() -> Vec<Event> {
    assert_eq!(
        observe::flush(Duration::from_secs(30)),
        observe::FlushOutcome::Flushed
    );
    sink().events()
}

/// Emits `message_received` with `{"dropped": tag}` when dropped.
struct EmitsOnDrop(&'static str);

impl Drop for EmitsOnDrop {
    fn drop(&mut self) {
        observe::emit!(EventType::MessageReceived, { "dropped": self.0 });
    }
}

fn dropped(events: &[Event], tag: &str) -> Event {
    let found: Vec<&Event> = events
        .iter()
        .filter(|e| e.payload.get("dropped").and_then(|v| v.as_str()) == Some(tag))
        .collect();
    assert_eq!(found.len(), 1, "{events:?}");
    found[0].clone()
}

#[observe::observed(processor = "retrieval")]
async fn slow_lookup() -> u8 {
    let _guard = EmitsOnDrop("observed");
    tokio::time::sleep(Duration::from_secs(3600)).await;
    1
}

#[test]
fn destructors_of_a_cancelled_span_run_inside_it() {
    sink();
    let request = CorrelationContext::new_root();
    let timed_out = runtime().block_on(async {
        tokio::time::timeout(Duration::from_millis(10), slow_lookup())
            .with_context(request)
            .await
    });
    assert!(timed_out.is_err());
    let events = events();
    let span: Vec<&Event> = events
        .iter()
        .filter(|e| e.event_type == EventType::RetrievalStarted)
        .filter(|e| e.correlation_id == request.correlation_id)
        .collect();
    assert_eq!(span.len(), 1, "{events:?}");
    let span_id = span[0].span_id;

    let guard = dropped(&events, "observed");
    assert_eq!(guard.correlation_id, request.correlation_id);
    assert_eq!(guard.span_id, span_id, "emitted inside the cancelled span");

    let cancelled: Vec<&Event> = events
        .iter()
        .filter(|e| e.span_id == span_id && e.event_type == EventType::RetrievalComplete)
        .collect();
    assert_eq!(cancelled.len(), 1, "{events:?}");
    assert_eq!(cancelled[0].outcome, Some(Outcome::Cancelled));
}

#[test]
fn destructors_of_an_aborted_spawned_task_run_in_its_context() {
    sink();
    let request = CorrelationContext::new_root();
    runtime().block_on(async {
        let task = {
            let _entered = request.enter();
            observe::spawn(async {
                let _guard = EmitsOnDrop("spawned");
                tokio::time::sleep(Duration::from_secs(3600)).await;
            })
        };
        tokio::task::yield_now().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    let guard = dropped(&events(), "spawned");
    assert_eq!(guard.correlation_id, request.correlation_id);
    assert_eq!(guard.span_id, request.span_id);
}
