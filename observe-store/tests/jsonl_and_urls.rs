//! The read-only JSONL store through the shared checks, and store URLs:
//! what each scheme opens and the clear errors for the rest.

mod common;

use common::{block_on, conformance, request, tmp_dir};
use observe_core::Outcome;
use observe_core::delivery::sink::{JsonlSink, Sink};
use observe_store::{EventStore, JsonlStore, Store, StoreError, StoreSink, StoreUrl};

fn open(name: &str) -> (JsonlSink, JsonlStore) {
    let path = tmp_dir(name).join("events.jsonl");
    let sink = JsonlSink::open(&path).expect("the sink opens");
    let store = JsonlStore::open(&path).expect("the store opens");
    (sink, store)
}

macro_rules! conformance {
    ($($check:ident),*) => {$(
        #[test]
        fn $check() {
            let (sink, store) = open(stringify!($check));
            conformance::$check(&sink, &store);
        }
    )*};
}

// Not `idempotent` (a JSONL file appends whatever it is given) nor
// `retain` (read-only).
conformance!(
    round_trip,
    chain,
    traces,
    tail,
    tail_backwards,
    event_counts,
    processor_stats
);

#[test]
fn jsonl_retention_is_refused_as_read_only() {
    let (_sink, store) = open("read_only");
    let error = block_on(store.retain(common::at(0))).expect_err("read-only");
    assert!(
        error
            .to_string()
            .contains("is read-only: retain needs SQLite or PostgreSQL"),
        "{error}"
    );
}

#[test]
fn jsonl_unknown_types_are_skipped_counted_and_newer_versions_reported() {
    let path = tmp_dir("jsonl_compat").join("events.jsonl");
    let sink = JsonlSink::open(&path).expect("opens");
    let events = request(1, &[("llm", Outcome::Ok)]);
    block_on(sink.write_batch(&events)).expect("writes");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[1] = lines[1].replace("\"llm_started\"", "\"rerank_started\"");
    std::fs::write(&path, lines.join("\n") + "\n\n").unwrap();
    let store = JsonlStore::open(&path).expect("opens");
    let tail = block_on(store.after(0, 100)).expect("reads");
    assert_eq!(tail.events.len(), events.len() - 1);
    assert_eq!(tail.events[1].seq, 3, "seq is the line number");
    assert_eq!(store.unknown_types()["rerank_started"], 1);
    lines[2] = lines[2].replacen("\"schema_version\":1", "\"schema_version\":2", 1);
    std::fs::write(&path, lines.join("\n")).unwrap();
    let error = block_on(store.after(0, 100)).expect_err("refused");
    assert!(
        matches!(
            error,
            StoreError::UnsupportedSchemaVersion {
                seq: 3,
                found: 2,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn jsonl_files_and_directories_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let root = tmp_dir("jsonl_modes");
    let _sink = JsonlSink::open(root.join("logs/events.jsonl")).expect("opens");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&root.join("logs/events.jsonl")), 0o600);
    assert_eq!(mode(&root.join("logs")), 0o700);
    assert_eq!(mode(&root), 0o700);
}

#[test]
fn each_scheme_names_its_backend() {
    let dir = tmp_dir("urls");
    let sqlite: StoreUrl = format!("sqlite://{}", dir.join("e.db").display())
        .parse()
        .unwrap();
    assert!(matches!(
        StoreSink::open(&sqlite).unwrap(),
        StoreSink::Sqlite(_)
    ));
    assert!(matches!(Store::open(&sqlite).unwrap(), Store::Sqlite(_)));
    let jsonl: StoreUrl = dir.join("e.jsonl").display().to_string().parse().unwrap();
    assert!(matches!(
        StoreSink::open(&jsonl).unwrap(),
        StoreSink::Jsonl(_)
    ));
    assert!(matches!(Store::open(&jsonl).unwrap(), Store::Jsonl(_)));
    let relative: StoreUrl = "sqlite://data/events.db".parse().unwrap();
    assert_eq!(relative, StoreUrl::sqlite("data/events.db"));
    assert!(matches!(
        "postgresql://u@h/db".parse().unwrap(),
        StoreUrl::Postgres(_)
    ));
}

#[test]
fn an_unknown_scheme_is_a_clear_error_that_masks_the_password() {
    let error = "mysql://root:hunter2@localhost/events"
        .parse::<StoreUrl>()
        .expect_err("refused");
    let text = error.to_string();
    assert!(text.contains("unknown store URL scheme `mysql`"), "{text}");
    assert!(text.contains("mysql://root:***@localhost/events"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    let error = "events.db".parse::<StoreUrl>().expect_err("refused");
    assert!(
        error.to_string().contains("write sqlite://events.db"),
        "{error}"
    );
    let error = "sqlite://".parse::<StoreUrl>().expect_err("refused");
    assert!(
        error.to_string().contains("no path after sqlite://"),
        "{error}"
    );
}

#[test]
fn a_password_in_parameters_is_masked_too() {
    let url: StoreUrl = "postgres://h/db?user=app&password=hunter2&sslmode=disable"
        .parse()
        .unwrap();
    assert_eq!(
        url.to_string(),
        "postgres://h/db?user=app&password=***&sslmode=disable"
    );
}
