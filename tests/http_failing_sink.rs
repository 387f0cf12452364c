//! A sink that fails every write, behind a real axum server: 1,000 requests
//! all get the handler's own status (never a 500), the circuit breaker
//! opens, and every event still reaches the fallback writer.
#![cfg(feature = "http")]

mod common;
mod http_support;

use std::collections::HashSet;
use std::time::Duration;

use common::{Capture, Mode, ModeSink};
use http_support::{HANDLER_STATUS, client, fetch, of_request, serve, types};
use observe::breaker::BreakerState;
use observe::{Config, EventType, FlushOutcome, Outcome};

const REQUESTS: usize = 1_000;
const IN_FLIGHT: usize = 8;
const THRESHOLD: u32 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sink_never_turns_into_a_500() {
    let sink = ModeSink::new(Mode::Fail);
    let fallback = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .fallback(fallback.clone())
            .diagnostics(Capture::default())
            .breaker_threshold(THRESHOLD)
            // Small batches, written promptly: many writes, so the breaker
            // sees more than its threshold of failures during the run.
            .batch_size(16)
            .batch_linger(Duration::from_millis(2))
            .queue_capacity(8 * REQUESTS),
    )
    .unwrap();
    let addr = serve(http_support::app(None)).await;
    let client = client();

    let mut ids = HashSet::new();
    for _ in 0..REQUESTS / IN_FLIGHT {
        let mut batch = tokio::task::JoinSet::new();
        for _ in 0..IN_FLIGHT {
            let client = client.clone();
            batch.spawn(async move { fetch(&client, addr, "/accepted").await });
        }
        while let Some(reply) = batch.join_next().await {
            let reply = reply.unwrap();
            assert_eq!(reply.status, HANDLER_STATUS, "{reply:?}");
            assert_eq!(reply.body, "accepted");
            assert!(ids.insert(reply.correlation_id()));
        }
    }
    assert_eq!(ids.len(), REQUESTS);

    let flushed = tokio::task::spawn_blocking(|| observe::flush(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(flushed, FlushOutcome::Flushed);
    let stats = observe::stats();
    assert_eq!(stats.breaker_state, BreakerState::Open, "{stats:?}");
    assert!(stats.breaker_transitions.opened >= 1, "{stats:?}");
    assert_eq!(
        sink.calls(),
        u64::from(THRESHOLD),
        "once open (for 30 s) the breaker sends no more writes to the sink"
    );
    assert_eq!(stats.failed_writes, sink.calls());
    assert_eq!((stats.written, stats.dropped), (0, 0), "{stats:?}");
    assert_eq!(stats.emitted, 2 * REQUESTS as u64);
    assert_eq!(stats.fallen_back, stats.emitted, "{stats:?}");

    // Every request's chain is in the fallback, complete.
    let events = fallback.user_events();
    for &id in &ids {
        let chain = of_request(&events, id);
        assert_eq!(
            types(&chain),
            [EventType::MessageReceived, EventType::ResponseSent],
            "{chain:?}"
        );
        assert_eq!(chain[1].payload["status"], HANDLER_STATUS.as_u16());
        assert_eq!(chain[1].outcome, Some(Outcome::Ok));
    }
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap();
}
