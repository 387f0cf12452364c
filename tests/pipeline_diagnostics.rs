//! Diagnostics pass through the sanitizer: a sink's error or panic message
//! that holds a connection string or an API key is printed with the secret
//! redacted.

mod common;

use std::time::Duration;

use common::Capture;
use observe::Event;
use observe::sink::{Sink, SinkError};
use observe::{Config, EventType, FlushOutcome, emit_event, flush};

const LEAK: &str =
    "cannot reach postgres://admin:Hunter2Secret@db.example.com/app (api_key=abc123def456ghi)";

/// Fails its first write with an error naming secrets, takes the second,
/// and panics with the secrets in the third (each failure starts a new run
/// of failures, so each is reported).
struct LeakySink(std::sync::atomic::AtomicU64);

impl Sink for LeakySink {
    async fn write_batch(&self, _batch: &[Event]) -> Result<(), SinkError> {
        match self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Err(SinkError::new(LEAK)),
            1 => Ok(()),
            _ => panic!("{LEAK}"),
        }
    }
}

#[test]
fn sink_errors_and_panics_are_sanitized_before_they_reach_diagnostics() {
    let diagnostics = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(LeakySink(Default::default()))
            .fallback(Capture::default())
            .diagnostics(diagnostics.clone()),
    )
    .unwrap();
    for n in 0..3 {
        emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
        assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    }
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);

    let text = diagnostics.text();
    for secret in ["Hunter2Secret", "abc123def456ghi"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(
        text.contains("the sink returned an error: cannot reach"),
        "{text}"
    );
    assert!(text.contains("the sink panicked: cannot reach"), "{text}");
    assert!(text.contains("[REDACTED]"), "{text}");
}
