//! The pipeline's life cycle and API: one pipeline at a time, emitting
//! without one is a no-op, events reach the sink sanitized and complete, the
//! JSONL sink, and shutdown inside a current-thread tokio runtime.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{Capture, Mode, ModeSink, serial};
use observe::record::Record;
use observe::sink::{JsonlSink, MemorySink};
use observe::{
    Config, CorrelationContext, ErrorPayload, EventType, FlushOutcome, InitError, Outcome,
    emit_event, flush, stats,
};

#[test]
fn emitting_without_a_pipeline_does_nothing() {
    let _serial = serial();
    let before = stats();
    emit_event(EventType::MessageReceived, serde_json::json!({}));
    assert!(!observe::record::enabled());
    assert_eq!(flush(Duration::from_millis(10)), FlushOutcome::NotInstalled);
    assert_eq!(stats(), before);
}

#[test]
fn one_pipeline_at_a_time_and_init_again_after_the_guard_is_dropped() {
    let _serial = serial();
    let guard = observe::init(Config::default().sink(MemorySink::new())).unwrap();
    let second = observe::init(Config::default().sink(MemorySink::new()));
    assert!(matches!(second, Err(InitError::AlreadyInstalled)));
    assert!(
        second
            .unwrap_err()
            .to_string()
            .contains("already installed")
    );
    drop(guard);

    let sink = MemorySink::new();
    let guard = observe::init(Config::default().sink(sink.clone())).unwrap();
    emit_event(
        EventType::ResponseSent,
        serde_json::json!({ "status": 200 }),
    );
    assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    assert_eq!(sink.len(), 1);
    // Counters belong to the new pipeline.
    assert_eq!(stats().emitted, 1);
    drop(guard);
}

#[test]
fn records_become_complete_events_on_the_worker() {
    let _serial = serial();
    let sink = MemorySink::new();
    let guard = observe::init(Config::default().sink(sink.clone())).unwrap();

    let request = CorrelationContext::new_root();
    let child = request.child();
    observe::record::submit(Record::new(EventType::RetrievalStarted, child).processor("retrieval"));
    observe::record::submit(
        Record::new(EventType::ErrorOccurred, child)
            .processor("retrieval")
            .outcome(Outcome::Error, 1_500)
            .error(
                ErrorPayload::new("TimeoutError", "upstream timed out", "retrieval"),
                Some(observe::record::CapturedStack::capture()),
            ),
    );
    request.in_scope(|| {
        emit_event(
            EventType::MessageReceived,
            serde_json::json!({ "channel": "web" }),
        )
    });
    assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);

    let events = sink.events();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].event_type, EventType::RetrievalStarted);
    assert_eq!(events[0].processor.as_deref(), Some("retrieval"));
    assert_eq!(events[0].context(), child);
    let error = &events[1];
    assert_eq!(
        (error.outcome, error.duration_us),
        (Some(Outcome::Error), Some(1_500))
    );
    assert_eq!(error.payload["error_type"], "TimeoutError");
    let frames = error.payload["stack_frames"].as_array().unwrap();
    assert!(!frames.is_empty() && frames.len() <= 10);
    // emit_event in a context: the event sits in that span.
    assert_eq!(events[2].context(), request);
    assert_ne!(events[0].event_id, events[1].event_id);
    drop(guard);
}

#[test]
fn no_planted_secret_reaches_the_sink_or_the_fallback() {
    let _serial = serial();
    let sink = ModeSink::new(Mode::Ok).keeping();
    let fallback = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(sink.clone())
            .breaker_threshold(1)
            .fallback(fallback.clone())
            .diagnostics(Capture::default()),
    )
    .unwrap();
    let secret = "sk-live-0123456789abcdef0123456789abcdef";
    let emit_secrets = || {
        emit_event(
            EventType::LlmStarted,
            serde_json::json!({ "api_key": secret, "nested": { "list": ["ok", format!("Bearer {secret}")] } }),
        );
        observe::record::submit(
            Record::new(EventType::ErrorOccurred, CorrelationContext::new_root()).error(
                ErrorPayload::new("AuthError", format!("key {secret} rejected"), "llm"),
                None,
            ),
        );
        assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
    };
    emit_secrets();
    sink.set(Mode::Fail);
    emit_secrets();
    drop(guard);

    let written = sink.events();
    let fallen = fallback.user_events();
    assert_eq!((written.len(), fallen.len()), (2, 2));
    for event in written.iter().chain(&fallen) {
        let json = serde_json::to_string(event).unwrap();
        assert!(!json.contains("sk-"), "secret leaked: {json}");
    }
    // The sanitizer's report rides along.
    assert!(
        written[0].payload["_redactions"]
            .as_object()
            .is_some_and(|r| !r.is_empty())
    );
    assert!(fallback.text().lines().all(|l| !l.contains("sk-")));
    assert_eq!(stats().redacted_events, 4);
}

#[test]
fn jsonl_sink_appends_lines_and_reports_a_bad_path_clearly() {
    let _serial = serial();
    let dir = std::env::temp_dir().join(format!("observe-jsonl-{}", std::process::id()));
    let path = dir.join("nested/dir/events.jsonl");
    let guard = observe::init(Config::default().sink(JsonlSink::open(&path).unwrap())).unwrap();
    for n in 0..3 {
        emit_event(EventType::MessageReceived, serde_json::json!({ "n": n }));
    }
    drop(guard);
    let text = std::fs::read_to_string(&path).unwrap();
    let events: Vec<_> = observe::reader::JsonlReader::new(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(events.len(), 3);
    assert!(
        text.lines()
            .all(|l| l.starts_with(r#"{"schema_version":1,"#))
    );

    // A path below a regular file cannot be opened.
    let bad = path.join("below-a-file.jsonl");
    let error = JsonlSink::open(&bad).unwrap_err().to_string();
    assert!(error.contains("below-a-file.jsonl"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shutdown_inside_a_current_thread_runtime_does_not_deadlock() {
    let _serial = serial();
    for mode in [Mode::Ok, Mode::Hang, Mode::Block] {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let outcome = runtime.block_on(async {
                let guard = observe::init(
                    Config::default()
                        .sink(ModeSink::new(mode))
                        .shutdown_timeout(Duration::from_millis(500))
                        .fallback(Capture::default())
                        .diagnostics(Capture::default()),
                )
                .unwrap();
                emit_event(EventType::MessageReceived, serde_json::json!({}));
                tokio::task::yield_now().await;
                guard.shutdown()
            });
            let _ = done.send(outcome);
        });
        let outcome = finished
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("shutdown with a {mode:?} sink deadlocked"));
        assert_eq!(outcome, FlushOutcome::Flushed, "{mode:?}");
    }
}

#[test]
fn every_delivered_event_carries_the_service() {
    let _serial = serial();
    for (config, expected) in [
        (Config::default().service_name("chat"), "chat".to_owned()),
        (Config::default(), executable_name()),
    ] {
        let sink = MemorySink::new();
        let guard = observe::init(config.sink(sink.clone())).unwrap();
        emit_event(EventType::MessageReceived, serde_json::json!({}));
        emit_event(
            EventType::ResponseSent,
            serde_json::json!({ "status": 200 }),
        );
        assert_eq!(flush(Duration::from_secs(10)), FlushOutcome::Flushed);
        drop(guard);
        let events = sink.events();
        assert_eq!(events.len(), 2);
        for event in &events {
            assert_eq!(event.service_name.as_deref(), Some(expected.as_str()));
            let json = serde_json::to_value(event).unwrap();
            assert_eq!(json["service_name"], expected.as_str(), "on the wire too");
        }
    }
}

fn executable_name() -> String {
    let exe = std::env::current_exe().unwrap();
    exe.file_stem().unwrap().to_string_lossy().into_owned()
}
