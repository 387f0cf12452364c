//! Bad input: each mistake is one line on stderr that says what to do,
//! with exit code 2 for a usage error and 1 for a failed operation; and
//! nothing already accepted is lost (a corrupt JSONL line costs that line
//! only).

mod common;

use common::*;

/// Runs `observe` expecting `code`; returns its one-line stderr.
fn fails(store: &str, args: &[&str], code: i32) -> String {
    let (out, stderr) = one_line_error(store, args, code);
    assert_eq!(out.stdout, b"", "observe {args:?} printed on stdout");
    assert!(stderr.starts_with("observe: error: "), "{stderr}");
    stderr
}

#[test]
fn a_malformed_correlation_id_is_a_usage_error() {
    let (_dir, store) = imported_store("bad-id");
    for args in [
        &["trace", "0193-not-a-uuid"][..],
        &["tail", "--correlation", "xyz"],
        &[
            "export",
            "zipkin",
            "--endpoint",
            "http://127.0.0.1:9",
            "--correlation",
            "42",
        ],
    ] {
        let stderr = fails(&store, args, 2);
        assert!(stderr.contains("is not a correlation id"), "{stderr}");
        assert!(
            stderr.contains("observe traces"),
            "says where ids are: {stderr}"
        );
    }
}

#[test]
fn an_unknown_correlation_id_says_where_to_look() {
    let (_dir, store) = imported_store("unknown-id");
    let stderr = fails(
        &store,
        &["trace", "01938e5a-7b2c-7d4e-8f00-0000000000ff"],
        1,
    );
    assert!(stderr.contains("no events with correlation id"), "{stderr}");
    assert!(stderr.contains("observe traces"), "{stderr}");
}

#[test]
fn bad_spans_of_time_are_usage_errors() {
    let (_dir, store) = imported_store("bad-span");
    for args in [
        &["traces", "--since", "5x"][..],
        &["stats", "--since", "soon"],
        &["retain", "--older-than", ""],
    ] {
        fails(&store, args, 2);
    }
}

#[test]
fn a_missing_store_or_file_is_named() {
    let dir = temp_dir("missing");
    let db = dir.join("nowhere.db");
    let store = format!("sqlite://{}", db.display());
    let stderr = fails(&store, &["traces"], 1);
    assert!(stderr.contains("nowhere.db"), "{stderr}");
    assert!(
        stderr.contains("cargo run --example chat_pipeline"),
        "{stderr}"
    );
    assert!(!db.exists(), "reading never creates a store");

    let jsonl = dir.join("nowhere.jsonl");
    let stderr = fails(jsonl.to_str().unwrap(), &["traces"], 1);
    assert!(stderr.contains("nowhere.jsonl"), "{stderr}");

    let (_dir, store) = imported_store("missing-import");
    let stderr = fails(&store, &["import", "/no/such/file.jsonl"], 1);
    assert!(stderr.contains("/no/such/file.jsonl"), "{stderr}");
}

#[test]
fn an_unknown_scheme_is_a_usage_error() {
    let stderr = fails("mysql://localhost/events", &["traces"], 2);
    assert!(stderr.contains("mysql"), "{stderr}");
}

#[test]
fn an_unreachable_postgres_is_named_without_its_password() {
    // Port 1 on loopback: nothing listens there.
    let stderr = fails(
        "postgres://observe:hunter2-secret@127.0.0.1:1/events",
        &["traces"],
        1,
    );
    assert!(
        stderr.contains("is the PostgreSQL server running"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
}

#[test]
fn a_store_of_a_newer_layout_is_refused_untouched() {
    let (dir, store) = imported_store("newer");
    let db = dir.join("events.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "INSERT INTO observe_migrations (version, applied_at) VALUES (99, 0)",
            [],
        )
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    for args in [&["traces"][..], &["migrate"]] {
        let stderr = fails(&store, args, 1);
        assert!(stderr.contains("newer"), "{stderr}");
        assert!(stderr.contains("upgrade observe"), "{stderr}");
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing was written");
}

#[test]
fn corrupt_jsonl_lines_are_reported_by_number_and_the_rest_imported() {
    let dir = temp_dir("corrupt");
    let store = format!("sqlite://{}", dir.join("events.db").display());
    let lines = fixture_lines();
    let text = [
        lines[0].as_str(),
        "this is not JSON",
        lines[1].as_str(),
        &lines[2][..lines[2].len() / 2], // cut in the middle
        "",
        lines[3].as_str(),
        r#"{"schema_version":1,"event_type":"message_received"}"#, // fields missing
    ]
    .join("\n");
    let file = dir.join("corrupt.jsonl");
    std::fs::write(&file, text).unwrap();

    let out = observe(&store, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let reported: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(&format!("observe: {}:", file.display())))
        .collect();
    assert_eq!(reported.len(), 3, "{stderr}");
    for (line, number) in reported.iter().zip([2, 4, 7]) {
        assert!(
            line.starts_with(&format!("observe: {}:{number}: ", file.display())),
            "{line}"
        );
    }
    assert!(
        stderr.contains("3 corrupt line(s)") && stderr.contains("the other events were"),
        "{stderr}"
    );
    assert!(stdout.contains("imported 3 events"), "{stdout}");

    let stored = json_lines(&ok(&store, &["--json", "tail"]));
    let ids: Vec<&str> = stored
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = [0, 1, 3]
        .iter()
        .map(|&n| {
            let v: serde_json::Value = serde_json::from_str(&lines[n]).unwrap();
            v["event_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids, expected, "the good lines are stored, in order");
}
