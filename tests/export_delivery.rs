//! The OTLP exporter against receivers that misbehave, each a real HTTP
//! server on 127.0.0.1: a 503 with `Retry-After` then 200 is delivered
//! once; a hanging receiver or one that is down times out or fails, opens
//! the exporter's own breaker after five writes, while emitting is
//! unaffected and the other sinks keep delivering; a 400 fails at once,
//! not retried; a partial success is counted; gzip is what it says.

mod common;
mod export_support;

use std::collections::HashSet;
use std::time::Duration;

use common::{Capture, serial};
use export_support::{Answer, Receiver, closed_port, hex, protobuf_spans};
use observe::breaker::BreakerState;
use observe::sink::MemorySink;
use observe::{
    Config, CorrelationContext, Event, EventType, FlushOutcome, Outcome, SinkOptions, SinkStats,
    flush, stats,
};
use observe_export::{OtlpProtocol, OtlpSink};

/// Emits one finished `llm` span (a started and a complete event).
fn emit_span(n: u64) {
    let ctx = CorrelationContext::new_root();
    let mut record = observe::record::Record::new(EventType::LlmComplete, ctx)
        .processor("llm")
        .outcome(Outcome::Ok, 10);
    record = record.json(serde_json::json!({ "n": n }));
    observe::record::submit(record);
}

fn otlp(receiver: &Receiver) -> OtlpSink {
    OtlpSink::new(&receiver.base())
        .unwrap()
        .service_name("tests")
}

/// Installs a pipeline with `sink` alone, `fallback` and a captured
/// diagnostics writer (returned).
fn install(sink: OtlpSink, fallback: Capture) -> (observe::Guard, Capture) {
    let diagnostics = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink)
            .fallback(fallback)
            .diagnostics(diagnostics.clone()),
    )
    .unwrap();
    (guard, diagnostics)
}

/// Emits `n` spans, flushes, shuts down; the stats before the shutdown.
fn emit_and_stop(guard: observe::Guard, n: u64) -> observe::Stats {
    for i in 0..n {
        emit_span(i);
    }
    assert_eq!(flush(Duration::from_secs(20)), FlushOutcome::Flushed);
    let s = stats();
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    s
}

fn adds_up(s: &SinkStats) {
    assert_eq!(
        s.received,
        s.written + s.fallen_back + s.dropped + s.pending,
        "{s:?}"
    );
}

fn span_ids(requests: &[export_support::Received]) -> Vec<String> {
    protobuf_spans(requests)
        .iter()
        .map(|s| hex(&s.span_id))
        .collect()
}

#[test]
fn a_503_with_retry_after_then_200_is_delivered_once() {
    let _serial = serial();
    let receiver = Receiver::start(
        vec![Answer::Status {
            status: 503,
            retry_after: Some(1),
            body: Vec::new(),
        }],
        Answer::ok(),
    );
    let (guard, diagnostics) = install(otlp(&receiver), Capture::default());
    let s = emit_and_stop(guard, 10);

    assert_eq!(
        (s.written, s.failed_writes, s.fallen_back),
        (10, 0, 0),
        "{s:?}"
    );
    let received = receiver.received();
    assert_eq!(received.len(), 2, "one 503, one retry");
    assert_eq!(received[0].body, received[1].body, "the same request again");
    let delivered = span_ids(&receiver.accepted());
    assert_eq!(delivered.len(), 10);
    assert_eq!(
        delivered.iter().collect::<HashSet<_>>().len(),
        10,
        "no span twice"
    );
    assert!(diagnostics.text().is_empty(), "{}", diagnostics.text());
}

/// Runs the breaker scenario: an OTLP sink to `url` that never succeeds,
/// between a store and a healthy OTLP receiver; one event per batch.
fn failing_exporter_scenario(failing: OtlpSink) {
    let healthy = Receiver::accepting();
    let store = MemorySink::new();
    let diagnostics = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(store.clone())
            .add_sink_with(
                failing,
                SinkOptions::new()
                    .write_timeout(Duration::from_millis(300))
                    .fallback(false),
            )
            .add_sink(otlp(&healthy))
            .fallback(Capture::default())
            .diagnostics(diagnostics.clone()),
    )
    .unwrap();
    const BATCHES: u64 = 8;
    for n in 0..BATCHES {
        // Emitting returns at once, whatever the exporter does.
        emit_span(n);
        assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    }
    let s = stats();
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);

    let (first, failing, other) = (&s.sinks[0], &s.sinks[1], &s.sinks[2]);
    assert_eq!(first.written, BATCHES, "the store has everything: {s:?}");
    assert_eq!(store.len() as u64, BATCHES);
    assert_eq!(failing.name, "otlp");
    assert_eq!(failing.failed_writes, 5, "{failing:?}");
    assert_eq!(failing.breaker_state, BreakerState::Open);
    assert_eq!(failing.breaker_transitions.opened, 1);
    assert_eq!(
        (failing.written, failing.dropped),
        (0, BATCHES),
        "{failing:?}"
    );
    assert_eq!(
        other.written, BATCHES,
        "the other exporter keeps delivering"
    );
    assert_eq!(span_ids(&healthy.accepted()).len() as u64, BATCHES);
    for sink in &s.sinks {
        adds_up(sink);
    }
    let text = diagnostics.text();
    assert!(
        text.contains("sink otlp (#2): circuit breaker closed -> open"),
        "{text}"
    );
}

#[test]
fn a_hanging_receiver_times_out_and_opens_only_its_own_breaker() {
    let _serial = serial();
    let hanging = Receiver::start(Vec::new(), Answer::Hang);
    failing_exporter_scenario(otlp(&hanging));
    assert_eq!(
        hanging.received().len(),
        5,
        "one request per write, none after the breaker opened"
    );
}

#[test]
fn a_receiver_that_is_down_opens_only_its_own_breaker() {
    let _serial = serial();
    let down = OtlpSink::new(&format!("http://{}", closed_port())).unwrap();
    failing_exporter_scenario(down);
}

#[test]
fn a_400_counts_as_failed_and_is_not_retried() {
    let _serial = serial();
    let receiver = Receiver::start(
        Vec::new(),
        Answer::Status {
            status: 400,
            retry_after: None,
            body: b"bad span".to_vec(),
        },
    );
    let fallback = Capture::default();
    let (guard, diagnostics) = install(otlp(&receiver), fallback.clone());
    let s = emit_and_stop(guard, 1);
    assert_eq!(
        (s.failed_writes, s.fallen_back, s.written),
        (1, 1, 0),
        "{s:?}"
    );
    assert_eq!(receiver.received().len(), 1, "not retried");
    assert_eq!(fallback.user_events().len(), 1);
    let text = diagnostics.text();
    assert!(text.contains("400 (not retried): bad span"), "{text}");
}

#[test]
fn a_partial_success_is_counted_and_reported() {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    use prost::Message;
    let _serial = serial();
    let body = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "spans too old".into(),
        }),
    }
    .encode_to_vec();
    let receiver = Receiver::start(
        Vec::new(),
        Answer::Status {
            status: 200,
            retry_after: None,
            body,
        },
    );
    let (guard, diagnostics) = install(otlp(&receiver), Capture::default());
    let s = emit_and_stop(guard, 3);
    assert_eq!((s.written, s.sinks[0].rejected), (3, 2), "{s:?}");
    let text = diagnostics.text();
    assert!(text.contains("rejected 2 items"), "{text}");
    assert!(text.contains("spans too old"), "{text}");
}

#[test]
fn gzip_and_json_are_sent_as_configured() {
    let _serial = serial();
    let receiver = Receiver::accepting();
    let sink = otlp(&receiver).gzip(true).protocol(OtlpProtocol::Json);
    let (guard, _) = install(sink, Capture::default());
    emit_and_stop(guard, 1);
    let received = receiver.accepted();
    assert_eq!(received.len(), 1);
    assert!(received[0].gzipped);
    assert_eq!(received[0].content_type, "application/json");
    let spans = export_support::json_spans(&received);
    assert_eq!(spans[0]["name"], "llm");
}

/// The facade re-exports the exporters.
#[cfg(feature = "otlp")]
#[test]
fn the_facade_re_exports_the_sinks() {
    let sink: observe::export::OtlpSink =
        observe::export::OtlpSink::new("http://127.0.0.1:1").unwrap();
    let _: &dyn Fn(&[Event]) -> _ = &|batch| sink.encode(batch).map(|b| b.is_some());
}

/// 100,000 events through OTLP to a receiver that takes 20 ms per request,
/// next to a store: every event is accounted for, per sink, and what the
/// receiver accepted is exactly what the exporter counts as written.
#[test]
fn a_hundred_thousand_events_to_a_slow_receiver_are_all_accounted_for() {
    let _serial = serial();
    const EVENTS: u64 = 100_000;
    let slow = Receiver::start(Vec::new(), Answer::Slow(Duration::from_millis(20)));
    let store = MemorySink::new();
    let guard = observe::init(
        Config::default()
            .sink(store.clone())
            .add_sink_with(otlp(&slow), SinkOptions::new().fallback(false))
            .fallback(Capture::default())
            .diagnostics(Capture::default()),
    )
    .unwrap();
    for n in 0..EVENTS {
        emit_span(n);
    }
    assert_eq!(flush(Duration::from_secs(120)), FlushOutcome::Flushed);
    let s = stats();
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);

    // Top level: nothing pending, nothing unaccounted for.
    assert_eq!(s.emitted, EVENTS);
    assert_eq!(s.pending, 0, "{s:?}");
    assert_eq!(s.emitted, s.written + s.fallen_back + s.dropped, "{s:?}");
    let accepted = EVENTS - s.dropped_queue_full - s.dropped_over_budget;
    let (first, exporter) = (&s.sinks[0], &s.sinks[1]);
    for sink in [first, exporter] {
        assert_eq!(sink.received, accepted, "{sink:?}");
        assert_eq!(sink.pending, 0, "{sink:?}");
        adds_up(sink);
    }
    assert_eq!(first.written, accepted);
    // The exporter fell behind: what it could not take is counted as
    // dropped for it alone; what it wrote, the receiver has, once each.
    // (The pipeline's own drop notice goes out too: not an `llm` span.)
    let delivered: Vec<String> = protobuf_spans(&slow.accepted())
        .iter()
        .filter(|s| s.name == "llm")
        .map(|s| hex(&s.span_id))
        .collect();
    assert_eq!(delivered.len() as u64, exporter.written, "{exporter:?}");
    assert_eq!(
        delivered.iter().collect::<HashSet<_>>().len(),
        delivered.len()
    );
    assert!(exporter.written > 0, "{exporter:?}");
    assert_eq!(exporter.failed_writes, 0, "{exporter:?}");
}

/// HTTPS goes through the TLS stack: against a plain-HTTP receiver the
/// handshake fails (a certificate-less peer), the scheme is not refused.
#[test]
fn https_endpoints_go_through_tls() {
    use observe::sink::Sink;
    let plain = Receiver::accepting();
    let sink = OtlpSink::new(&format!("https://{}", plain.addr))
        .unwrap()
        .timeout(Duration::from_millis(500));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let ctx = CorrelationContext::new_root();
    let mut event = Event::new(EventType::LlmComplete, &ctx).with_processor("llm");
    event.outcome = Some(Outcome::Ok);
    let error = runtime
        .block_on(sink.write_batch(&[event]))
        .unwrap_err()
        .to_string();
    // rustls's error for a peer that does not answer with TLS records.
    assert!(error.contains("InvalidContentType"), "{error}");
    assert!(
        plain.accepted().is_empty(),
        "nothing was accepted over plain HTTP"
    );
}
