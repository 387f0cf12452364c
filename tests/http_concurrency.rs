//! 200 requests in flight at once against a real axum server: no two share
//! a correlation id, each handler sees its own request's context, and the
//! `#[observed]` processor it calls nests under its request's span.
#![cfg(feature = "http")]

mod http_support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use http_support::{ONE_PROCESSOR_CHAIN, client, fetch, of_request, serve, types};
use observe::FlushOutcome;
use observe::sink::MemorySink;

const REQUESTS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_never_share_a_correlation_id() {
    let sink = MemorySink::new();
    let guard = observe::init(observe::Config::default().sink(sink.clone())).unwrap();
    // Every handler waits here until all 200 are in flight, so their
    // contexts are live at the same time, interleaved on two threads.
    let barrier = Arc::new(tokio::sync::Barrier::new(REQUESTS));
    let addr = serve(http_support::app(Some(barrier))).await;
    let client = client();

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..REQUESTS {
        let client = client.clone();
        requests.spawn(async move { fetch(&client, addr, "/together").await });
    }
    let replies = tokio::time::timeout(Duration::from_secs(120), requests.join_all())
        .await
        .expect("all requests were in flight together and completed");

    let mut ids = HashSet::new();
    let mut spans = HashSet::new();
    for reply in &replies {
        assert_eq!(reply.status, 200, "{reply:?}");
        let id = reply.correlation_id();
        assert!(ids.insert(id), "correlation id {id} shared");
        let seen = reply.whoami();
        assert_eq!(seen.correlation_id, id, "the handler saw its own request");
        assert_eq!(seen.nested_correlation_id, id);
        let span = reply.traceparent().parent_id;
        assert_eq!(seen.span_id, span);
        assert_eq!(seen.nested_parent, Some(span), "nested under the request");
        assert!(spans.insert(span));
    }
    assert_eq!(ids.len(), REQUESTS);

    let flushed = tokio::task::spawn_blocking(|| observe::flush(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(flushed, FlushOutcome::Flushed);
    let events = sink.events();
    assert_eq!(events.len(), 4 * REQUESTS);
    for reply in &replies {
        let chain = of_request(&events, reply.correlation_id());
        assert_eq!(types(&chain), ONE_PROCESSOR_CHAIN, "{chain:?}");
        let request_span = chain[0].span_id;
        assert_eq!(chain[0].parent_span_id, None);
        assert_eq!(chain[1].parent_span_id, Some(request_span));
        assert_eq!(chain[2].span_id, chain[1].span_id);
        assert_eq!(chain[3].span_id, request_span);
        assert_eq!(chain[1].processor.as_deref(), Some("retrieval"));
    }
    tokio::task::spawn_blocking(move || guard.shutdown())
        .await
        .unwrap();
}
