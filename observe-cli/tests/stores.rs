//! Every reading command against the same three requests in a JSONL file,
//! an SQLite store and a PostgreSQL store (both loaded with `observe
//! import`): the human format by snapshot (colour off, UTC), `--json` field
//! by field, and the odd chain (in flight, orphan, duplicate, unknown type,
//! terminal written before its start) shown as it is.

mod common;

use common::*;

/// The reading commands whose text is the same whatever the store.
fn same_everywhere(store: &str) {
    snapshot("traces", &ok(store, &["--utc", "traces"]));
    snapshot(
        "trace_failed",
        &ok(store, &["--utc", "trace", "latest-error"]),
    );
    snapshot("trace_ok", &ok(store, &["--utc", "trace", OK]));
    snapshot(
        "tail_failed",
        &ok(store, &["--utc", "tail", "--correlation", FAILED]),
    );
    snapshot(
        "traces_errors",
        &ok(
            store,
            &["--utc", "traces", "--errors", "--processor", "translation"],
        ),
    );
}

fn json_fields(store: &str) {
    let traces = json_lines(&ok(store, &["--json", "traces"]));
    assert_eq!(traces.len(), 3);
    let failed = traces
        .iter()
        .find(|t| t["correlation_id"] == FAILED)
        .unwrap();
    assert_eq!(failed["root"], "message_received");
    assert_eq!(failed["spans"], 2);
    assert_eq!(failed["outcome"], "error");
    assert_eq!(failed["duration_us"], 4_000);
    assert_eq!(failed["start"], "2026-11-27T11:14:15.100000Z");
    assert_eq!(traces[0]["correlation_id"], ODD, "newest first");

    let spans = json_lines(&ok(store, &["--json", "trace", ODD]));
    assert_eq!(spans[0]["type"], "trace");
    assert_eq!(spans[0]["correlation_id"], ODD);
    let span = |id: &str| spans.iter().find(|s| s["span_id"] == id).unwrap().clone();
    let llm = span("000000000000c002");
    assert_eq!(
        (llm["in_flight"].clone(), llm["outcome"].clone()),
        (true.into(), serde_json::Value::Null)
    );
    let orphan = span("000000000000c003");
    assert_eq!(orphan["orphan"], true);
    assert_eq!(orphan["depth"], 0);
    assert_eq!(orphan["parent_span_id"], "00000000deadbeef");
    let retrieval = span("000000000000c001");
    assert_eq!(retrieval["outcome"], "ok");
    assert_eq!(retrieval["duration_us"], 5_000);
    assert_eq!(retrieval["offset_us"], 1_000, "starts at its started event");
    assert_eq!(retrieval["depth"], 1);
    assert!(
        spans.iter().all(|s| s["span_id"] != "000000000000c004"),
        "unknown type skipped"
    );

    let failed = json_lines(&ok(store, &["--json", "trace", FAILED]));
    let translation = &failed[2];
    assert_eq!(translation["label"], "translation");
    assert_eq!(translation["error"]["error_type"], "UnsupportedLanguage");
    assert_eq!(
        translation["error"]["stack_frames"][0],
        "translate (examples/chat_pipeline.rs:97)"
    );

    let tail = json_lines(&ok(store, &["--json", "tail", "--correlation", FAILED]));
    let types: Vec<&str> = tail
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "message_received",
            "translation_started",
            "error_occurred",
            "response_sent"
        ]
    );
    assert!(
        tail.windows(2)
            .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64())
    );
    assert_eq!(tail[2]["outcome"], "error");
    let errors = json_lines(&ok(store, &["--json", "tail", "--outcome", "error"]));
    assert_eq!(errors.len(), 1);
    let intents = json_lines(&ok(
        store,
        &[
            "--json",
            "tail",
            "--processor",
            "intent",
            "--type",
            "intent_classified",
        ],
    ));
    assert_eq!(intents.len(), 2);

    let stats = json_lines(&ok(store, &["--json", "stats"]));
    let processor = |p: &str| stats.iter().find(|s| s["processor"] == p).unwrap().clone();
    assert_eq!(processor("retrieval")["calls"], 2);
    assert_eq!(processor("retrieval")["p99_us"], 6_000);
    assert_eq!(processor("translation")["failed"], 1);
    let rate = stats.iter().find(|s| s["type"] == "error_rate").unwrap();
    assert_eq!(
        (rate["failed"].clone(), rate["calls"].clone()),
        (1.into(), 5.into())
    );
    let count = |t: &str| {
        stats
            .iter()
            .filter(|s| s["event_type"] == t)
            .map(|s| s["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(count("response_sent"), 2);
    assert_eq!(count("rerank_started"), 0);
}

/// Loads the fixture into `store` twice (the second time changes nothing).
fn import_twice(dir: &std::path::Path, store: &str) {
    let file = fixture_file(dir);
    let file = file.to_str().unwrap();
    for _ in 0..2 {
        let text = ok(store, &["import", file]);
        assert!(text.contains("imported 17 events"), "{text}");
        assert!(
            text.contains("skipped 1 event(s) of unknown type `rerank_started`"),
            "{text}"
        );
    }
    let all = json_lines(&ok(store, &["--json", "tail", "-n", "1000"]));
    assert_eq!(all.len(), 16, "17 events, one of them twice: stored once");
}

/// What a database store (SQLite or PostgreSQL) must do with the fixture:
/// load it twice, answer every reading command, and let retention empty it.
fn a_database(dir: &std::path::Path, store: &str) {
    import_twice(dir, store);
    same_everywhere(store);
    json_fields(store);
    snapshot("trace_odd_db", &ok(store, &["--utc", "trace", ODD]));
    snapshot("stats_db", &ok(store, &["stats"]));
    let retained = ok(store, &["--json", "retain", "--older-than", "1d"]);
    assert_eq!(json_lines(&retained)[0]["deleted"], 16);
    assert_eq!(ok(store, &["--json", "traces"]), "");
}

#[test]
fn a_jsonl_file() {
    let dir = temp_dir("jsonl");
    let file = fixture_file(&dir);
    let store = file.to_str().unwrap();
    same_everywhere(store);
    json_fields(store);
    snapshot("trace_odd_jsonl", &ok(store, &["--utc", "trace", ODD]));
    snapshot("stats_jsonl", &ok(store, &["stats"]));
}

#[test]
fn an_sqlite_store() {
    let dir = temp_dir("sqlite");
    let store = format!("sqlite://{}", dir.join("events.db").display());
    a_database(&dir, &store);
}

#[test]
fn a_postgres_store() {
    let Some(store) = postgres_database("stores") else {
        return;
    };
    let dir = temp_dir("postgres");
    assert!(ok(&store, &["migrate"]).contains("is up to date"));
    a_database(&dir, &store);
}

#[test]
fn custom_types_are_read_when_asked() {
    let dir = temp_dir("custom-types");
    let file = fixture_file(&dir);
    let jsonl = file.to_str().unwrap();
    let rerank = |store: &str| {
        json_lines(&ok(store, &["--json", "--custom-types", "trace", ODD]))
            .into_iter()
            .find(|s| s["span_id"] == "000000000000c004")
    };
    let span = rerank(jsonl).expect("the application's own type is read");
    assert_eq!(span["label"], "rerank");
    let plain = json_lines(&ok(jsonl, &["--json", "trace", ODD]));
    assert!(plain.iter().all(|s| s["span_id"] != "000000000000c004"));

    let store = format!("sqlite://{}", dir.join("events.db").display());
    let text = ok(&store, &["--custom-types", "import", jsonl]);
    assert!(text.contains("imported 18 events"), "{text}");
    assert!(!text.contains("unknown type"), "{text}");
    assert!(rerank(&store).is_some(), "stored and read back");
    let tail = json_lines(&ok(&store, &["--json", "tail", "-n", "100"]));
    assert_eq!(tail.len(), 16, "without --custom-types it is skipped again");
}
