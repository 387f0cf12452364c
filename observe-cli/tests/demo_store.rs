//! Every reading command against the store the demo writes (`cargo run
//! --example chat_pipeline`): six requests, one failed, one panicked, one
//! cancelled by a timeout, each ending with `response_sent`. The demo's
//! binary is the one `cargo test --workspace` builds next to ours.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

/// `target/<profile>/examples/chat_pipeline[-hash]`, beside our binary's
/// `target/<profile>/observe`; the newest one if there are several.
fn demo_binary() -> PathBuf {
    let examples = std::path::Path::new(env!("CARGO_BIN_EXE_observe"))
        .parent()
        .unwrap()
        .join("examples");
    let newest = std::fs::read_dir(&examples)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (name == "chat_pipeline" || name.starts_with("chat_pipeline-")) && !name.contains('.')
        })
        .max_by_key(|entry| entry.metadata().and_then(|m| m.modified()).ok());
    newest.map(|e| e.path()).unwrap_or_else(|| {
        panic!(
            "no demo binary in {}: run the whole suite (`cargo test --workspace`) or `cargo build --example chat_pipeline` first",
            examples.display()
        )
    })
}

/// Runs the demo into a fresh SQLite store and returns its URL.
fn demo_store() -> String {
    let dir = temp_dir("demo");
    let store = format!("sqlite://{}", dir.join("events.db").display());
    let out = Command::new(demo_binary())
        .env("OBSERVE_STORE", &store)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_EXPORTER_ZIPKIN_ENDPOINT")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the demo failed: {stdout}");
    assert!(
        stdout.contains(&store),
        "the demo prints its store: {stdout}"
    );
    store
}

#[test]
fn every_command_reads_the_demo_store() {
    let store = demo_store();

    let traces = json_lines(&ok(&store, &["--json", "traces"]));
    assert_eq!(traces.len(), 6, "six requests");
    let mut outcomes: Vec<&str> = traces
        .iter()
        .map(|t| t["outcome"].as_str().unwrap())
        .collect();
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["cancelled", "error", "ok", "ok", "ok", "panic"]);
    assert!(traces.iter().all(|t| t["root"] == "message_received"));

    let errors = json_lines(&ok(&store, &["--json", "traces", "--errors"]));
    assert_eq!(errors.len(), 2, "the failed and the panicked request");

    // Every request ends with response_sent: no chain looks in flight.
    let events = json_lines(&ok(&store, &["--json", "tail", "-n", "10000"]));
    let responses = events
        .iter()
        .filter(|e| e["event_type"] == "response_sent")
        .count();
    assert_eq!(responses, 6);
    for trace in &traces {
        let id = trace["correlation_id"].as_str().unwrap();
        let spans = json_lines(&ok(&store, &["--json", "trace", id]));
        assert!(
            spans.iter().skip(1).all(|s| s["in_flight"] == false),
            "{id} has a span in flight: {spans:#?}"
        );
    }

    // The failed translation shows its error under the span.
    let failed = traces.iter().find(|t| t["outcome"] == "error").unwrap();
    let text = ok(
        &store,
        &["trace", failed["correlation_id"].as_str().unwrap()],
    );
    assert!(text.contains("translation"), "{text}");
    assert!(text.contains("no translation model for `tlh`"), "{text}");

    // The failed and the panicked request start within the same
    // millisecond or so: either may be the latest.
    let latest = ok(&store, &["trace", "latest-error"]);
    assert!(
        latest.contains("error ChatError: no translation model for `tlh`")
            || latest.contains("error panic: intent model returned an invalid label"),
        "{latest}"
    );

    let stats = json_lines(&ok(&store, &["--json", "stats"]));
    let processor = |p: &str| stats.iter().find(|s| s["processor"] == p).cloned();
    assert_eq!(processor("intent").unwrap()["calls"], 6);
    assert_eq!(processor("translation").unwrap()["failed"], 1);
    let rate = stats.iter().find(|s| s["type"] == "error_rate").unwrap();
    assert_eq!(rate["failed"], 2, "one error, one panic: {rate}");

    // The sanitizer ran before anything was stored.
    let all = ok(&store, &["--json", "tail", "-n", "10000"]);
    for secret in ["jane.doe@example.com", "555 0134", "sk-proj-Ab3d"] {
        assert!(!all.contains(secret), "{secret} reached the store");
    }
}
