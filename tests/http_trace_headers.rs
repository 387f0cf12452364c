//! Incoming correlation headers against a real axum server: a W3C
//! `traceparent` continues the caller's chain, a valid `x-correlation-id`
//! is kept, and garbage in either header never breaks the request: it is
//! replaced and noted in `message_received`.
#![cfg(feature = "http")]

use std::time::Duration;

mod http_support;

use http_support::{Reply, client, fetch_with, of_request, serve, types};
use observe::{Event, EventType, FlushOutcome, Outcome, SpanId};
use uuid::Uuid;

mod common;
use common::process_sink as sink;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// Sends `GET /whoami` with `headers`; returns the reply and the events of
/// its request (those of its span and of the spans nested in it).
async fn whoami(headers: &[(&str, &[u8])]) -> (Reply, Vec<Event>) {
    let sink = sink();
    let addr = serve(http_support::app(None)).await;
    let reply = fetch_with(&client(), addr, "/whoami", headers).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let flushed = tokio::task::spawn_blocking(|| observe::flush(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(flushed, FlushOutcome::Flushed);
    // Tests may send the same correlation id: keep this request's spans.
    let span = reply.traceparent().parent_id;
    let events = of_request(&sink.events(), reply.correlation_id())
        .into_iter()
        .filter(|e| e.span_id == span || e.parent_span_id == Some(span))
        .collect();
    (reply, events)
}

/// The request's chain is whole: received, the handler's observed call
/// nested under the request span, sent; returns (received, sent).
fn whole_chain(reply: &Reply, events: &[Event]) -> (Event, Event) {
    assert_eq!(
        types(events),
        [
            EventType::MessageReceived,
            EventType::RetrievalStarted,
            EventType::RetrievalComplete,
            EventType::ResponseSent
        ],
        "{events:?}"
    );
    let (received, sent) = (events[0].clone(), events[3].clone());
    let span = reply.traceparent().parent_id;
    assert_eq!(
        received.span_id, span,
        "the response names the request span"
    );
    assert_eq!(sent.span_id, span);
    assert_eq!(sent.parent_span_id, received.parent_span_id);
    assert_eq!(events[1].parent_span_id, Some(span));
    assert_eq!(events[2].span_id, events[1].span_id);
    assert_eq!(sent.payload["status"], 200);
    assert_eq!(sent.outcome, Some(Outcome::Ok));
    assert!(sent.duration_us.is_some());
    assert_eq!(received.payload["method"], "GET");
    assert_eq!(received.payload["path"], "/whoami");
    assert_eq!(received.payload["route"], "/whoami");
    // Repeated on the terminal event, which names the request's span.
    assert_eq!(sent.payload["method"], "GET");
    assert_eq!(sent.payload["route"], "/whoami");
    let seen = reply.whoami();
    assert_eq!(seen.correlation_id, reply.correlation_id());
    assert_eq!(seen.span_id, span);
    assert_eq!(seen.nested_parent, Some(span));
    assert_eq!(seen.nested_correlation_id, reply.correlation_id());
    (received, sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_traceparent_continues_the_chain() {
    let header = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let (reply, events) = whoami(&[
        ("traceparent", header.as_bytes()),
        ("user-agent", b"observe-tests/1.0"),
    ])
    .await;
    let trace_id = Uuid::from_u128(u128::from_str_radix(TRACE_ID, 16).unwrap());
    assert_eq!(reply.correlation_id(), trace_id);
    let outgoing = reply.traceparent();
    assert_eq!(outgoing.trace_id, trace_id);
    assert_ne!(
        outgoing.parent_id.to_string(),
        PARENT_ID,
        "a span of its own"
    );

    let (received, _) = whole_chain(&reply, &events);
    assert_eq!(received.correlation_id, trace_id);
    assert_eq!(received.parent_span_id, SpanId::parse(PARENT_ID));
    assert_eq!(received.payload["context_source"], "traceparent");
    assert_eq!(received.payload["user_agent"], "observe-tests/1.0");
    assert!(received.payload.get("traceparent_invalid").is_none());
    assert!(received.payload.get("correlation_id_replaced").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_trace_flags_are_passed_on_as_received() {
    for flags in ["00", "01", "03"] {
        let header = format!("00-{TRACE_ID}-{PARENT_ID}-{flags}");
        let (reply, events) = whoami(&[("traceparent", header.as_bytes())]).await;
        whole_chain(&reply, &events);
        let echoed = reply.headers["traceparent"].to_str().unwrap();
        assert!(
            echoed.ends_with(&format!("-{flags}")),
            "{header} -> {echoed}"
        );
    }
    // A trace that starts here is sampled.
    let (reply, events) = whoami(&[]).await;
    whole_chain(&reply, &events);
    assert!(reply.traceparent().sampled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traceparent_of_a_later_version_continues_the_chain() {
    let header = format!("cc-{TRACE_ID}-{PARENT_ID}-00-what-a-later-version-adds");
    let (reply, events) = whoami(&[("traceparent", header.as_bytes())]).await;
    let (received, _) = whole_chain(&reply, &events);
    let trace_id = Uuid::from_u128(u128::from_str_radix(TRACE_ID, 16).unwrap());
    assert_eq!(reply.correlation_id(), trace_id);
    assert_eq!(received.parent_span_id, SpanId::parse(PARENT_ID));
    assert_eq!(received.payload["context_source"], "traceparent");
    assert!(received.payload.get("traceparent_invalid").is_none());
    let echoed = reply.headers["traceparent"].to_str().unwrap();
    assert!(
        echoed.starts_with(&format!("00-{TRACE_ID}-")) && echoed.ends_with("-00"),
        "answered in version 00, unsampled as received: {echoed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_correlation_id_is_kept() {
    let id = "0190f3a6-1c2b-7d4e-8f00-123456789abc";
    let (reply, events) = whoami(&[("x-correlation-id", id.as_bytes())]).await;
    assert_eq!(reply.correlation_id().to_string(), id);
    let (received, _) = whole_chain(&reply, &events);
    assert_eq!(received.parent_span_id, None);
    assert_eq!(received.payload["context_source"], "x-correlation-id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_traceparent_falls_back_and_is_noted() {
    let too_long = "0".repeat(4_096);
    let zero_trace = format!("00-{}-{PARENT_ID}-01", "0".repeat(32));
    for garbage in [
        &b"garbage"[..],
        zero_trace.as_bytes(),
        too_long.as_bytes(),
        b"00-\xff\xfe",
    ] {
        let (reply, events) = whoami(&[("traceparent", garbage)]).await;
        let (received, _) = whole_chain(&reply, &events);
        assert_eq!(
            reply.correlation_id().get_version_num(),
            7,
            "a fresh UUIDv7"
        );
        assert_eq!(received.parent_span_id, None);
        assert_eq!(received.payload["traceparent_invalid"], true);
        assert_eq!(received.payload["context_source"], "new");
    }

    // With a good x-correlation-id beside it, that one is used.
    let id = "0190f3a6-1c2b-7d4e-8f00-123456789abc";
    let (reply, events) = whoami(&[
        ("traceparent", b"garbage"),
        ("x-correlation-id", id.as_bytes()),
    ])
    .await;
    assert_eq!(reply.correlation_id().to_string(), id);
    let (received, _) = whole_chain(&reply, &events);
    assert_eq!(received.payload["traceparent_invalid"], true);
    assert_eq!(received.payload["context_source"], "x-correlation-id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_correlation_id_is_replaced_and_noted() {
    let too_long = "0190f3a6-1c2b-7d4e-8f00-123456789abc".repeat(200);
    for garbage in [
        &b"not-a-uuid"[..],
        b"00000000-0000-0000-0000-000000000000",
        b"\xff\xfe\xfd",
        too_long.as_bytes(),
        b"'; DROP TABLE events; --",
    ] {
        let (reply, events) = whoami(&[("x-correlation-id", garbage)]).await;
        assert_ne!(reply.headers["x-correlation-id"].as_bytes(), garbage);
        assert_eq!(
            reply.correlation_id().get_version_num(),
            7,
            "a fresh UUIDv7"
        );
        let (received, _) = whole_chain(&reply, &events);
        assert_eq!(received.payload["correlation_id_replaced"], true);
        assert_eq!(received.payload["context_source"], "new");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_user_agents_and_paths_are_recorded_safely() {
    let agent = [b'a'; 20_000];
    let (reply, events) = whoami(&[("user-agent", &agent[..])]).await;
    let (received, _) = whole_chain(&reply, &events);
    let recorded = received.payload["user_agent"].as_str().unwrap();
    assert_eq!(recorded.len(), observe::http::MAX_FIELD_LEN);

    let (reply, events) = whoami(&[("user-agent", b"bot \xff\xfe")]).await;
    let (received, _) = whole_chain(&reply, &events);
    assert_eq!(received.payload["user_agent"], "bot \u{fffd}\u{fffd}");
}
