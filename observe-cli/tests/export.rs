//! `observe export` against a real collector on 127.0.0.1: the stored
//! requests arrive as spans of the right traces (OTLP protobuf decoded with
//! the OpenTelemetry types, Zipkin JSON parsed), one request alone with
//! `--correlation`, and an unreachable collector is a one-line error.

mod common;

use common::collector::Collector;
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

/// The trace id a request's spans carry: its correlation id's 32 hex digits.
fn trace_hex(correlation_id: &str) -> String {
    correlation_id.replace('-', "")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn otlp_carries_every_stored_request_as_its_own_trace() {
    let (_dir, store) = imported_store("export-otlp");
    let collector = Collector::start();
    let text = ok(&store, &["export", "otlp", "--endpoint", &collector.url]);
    assert!(text.starts_with("exported 16 events to "), "{text}");

    let received = collector.received();
    assert!(!received.is_empty());
    let mut traces = std::collections::BTreeMap::<String, Vec<(String, i32)>>::new();
    for request in &received {
        assert_eq!(request.path, "/v1/traces");
        assert_eq!(request.content_type, "application/x-protobuf");
        let decoded = ExportTraceServiceRequest::decode(request.body.as_slice())
            .expect("an OTLP protobuf body");
        for span in decoded
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            let status = span.status.as_ref().map_or(0, |s| s.code);
            traces
                .entry(hex(&span.trace_id))
                .or_default()
                .push((span.name.clone(), status));
        }
    }
    let expected: std::collections::BTreeSet<String> =
        [OK, FAILED, ODD].iter().map(|id| trace_hex(id)).collect();
    assert_eq!(
        traces
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        expected
    );
    // STATUS_CODE_ERROR is 2: the failed request's translation span only.
    let errors: Vec<_> = traces
        .iter()
        .flat_map(|(trace, spans)| spans.iter().map(move |s| (trace, s)))
        .filter(|(_, (_, status))| *status == 2)
        .map(|(trace, (name, _))| (trace.clone(), name.clone()))
        .collect();
    assert_eq!(errors, [(trace_hex(FAILED), "translation".to_owned())]);
}

#[test]
fn zipkin_with_correlation_sends_that_request_only() {
    let (_dir, store) = imported_store("export-zipkin");
    let collector = Collector::start();
    let text = ok(
        &store,
        &[
            "export",
            "zipkin",
            "--endpoint",
            &format!("{}/api/v2/spans", collector.url),
            "--correlation",
            FAILED,
        ],
    );
    assert!(text.starts_with("exported 4 events to "), "{text}");
    let spans: Vec<serde_json::Value> = collector
        .received()
        .iter()
        .flat_map(|r| {
            assert_eq!(r.path, "/api/v2/spans");
            serde_json::from_slice::<Vec<serde_json::Value>>(&r.body).expect("a Zipkin JSON array")
        })
        .collect();
    assert!(!spans.is_empty());
    assert!(spans.iter().all(|s| s["traceId"] == trace_hex(FAILED)));
    let failed: Vec<_> = spans
        .iter()
        .filter(|s| s["tags"]["error"].is_string())
        .collect();
    assert_eq!(failed.len(), 1, "{spans:#?}");
    assert_eq!(failed[0]["name"], "translation");
}

#[test]
fn an_unreachable_collector_is_a_one_line_error() {
    let (_dir, store) = imported_store("export-down");
    // Nothing listens there now.
    let port = free_port();
    let (_, stderr) = one_line_error(
        &store,
        &[
            "export",
            "zipkin",
            "--endpoint",
            &format!("http://127.0.0.1:{port}/api/v2/spans"),
        ],
        1,
    );
    assert!(
        stderr.contains("is the collector running there?"),
        "{stderr}"
    );
}
