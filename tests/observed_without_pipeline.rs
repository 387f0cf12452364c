//! `#[observed]` with no pipeline installed: calls behave exactly as without
//! the attribute, and a call that starts before `init` and ends after it
//! emits nothing, so consumers never see a terminal event without its
//! started event.

use std::time::Duration;

use observe::sink::MemorySink;
use observe::{Config, CorrelationContext, EventType, FlushOutcome, FutureExt};

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

#[observe::observed(processor = "llm")]
fn answer(question: &str) -> Result<usize, Refused> {
    if question.is_empty() {
        Err(Refused)
    } else {
        Ok(question.len())
    }
}

#[observe::observed(processor = "retrieval")]
async fn fetch(gate: tokio::sync::oneshot::Receiver<()>) -> u8 {
    let _ = gate.await;
    7
}

#[test]
fn without_a_pipeline_calls_behave_as_without_the_attribute_and_halves_are_never_emitted() {
    // No pipeline: results, errors and panics are the function's own.
    assert_eq!(answer("why").unwrap(), 3);
    assert!(answer("").is_err());
    assert!(std::panic::catch_unwind(answer_panics).is_err());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let request = CorrelationContext::new_root();
    let (open, gate) = tokio::sync::oneshot::channel();
    let call = runtime.spawn(fetch(gate).with_context(request));
    // Let the call start (its first poll) while no pipeline is installed.
    runtime.block_on(tokio::task::yield_now());
    runtime.block_on(async { tokio::time::sleep(Duration::from_millis(10)).await });

    let sink = MemorySink::new();
    let guard = observe::init(Config::default().sink(sink.clone())).unwrap();
    open.send(()).unwrap();
    assert_eq!(runtime.block_on(call).unwrap(), 7);
    let after = CorrelationContext::new_root();
    after.in_scope(|| answer("now")).unwrap();
    assert_eq!(
        observe::flush(Duration::from_secs(10)),
        FlushOutcome::Flushed
    );

    let events = sink.events();
    assert!(
        events
            .iter()
            .all(|e| e.correlation_id != request.correlation_id),
        "the call that started before init emitted nothing: {events:?}"
    );
    let kinds: Vec<_> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(kinds, [EventType::LlmStarted, EventType::LlmComplete]);
    drop(guard);
}

#[observe::observed(processor = "intent")]
fn answer_panics() -> u8 {
    panic!("no pipeline, still a normal panic")
}
