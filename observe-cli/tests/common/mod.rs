//! What the command tests share: a fixture of three requests (one fine,
//! one failed, one with every oddity a chain can have) as JSONL lines,
//! stores holding it, the real `observe` binary, and snapshot files.
#![allow(dead_code)]

pub mod collector;
#[path = "../../../observe-store/tests/common/postgres.rs"]
mod postgres;

#[allow(unused_imports)]
pub use postgres::postgres_database;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output};
use std::time::{Duration, Instant};

/// The fine request.
pub const OK: &str = "01938e5a-7b2c-7d4e-8f00-00000000000a";
/// The request whose translation failed.
pub const FAILED: &str = "01938e5a-7b2c-7d4e-8f00-00000000000b";
/// The request with an in-flight span, an orphan, a duplicate event, an
/// unknown event type and a terminal written before its start.
pub const ODD: &str = "01938e5a-7b2c-7d4e-8f00-00000000000c";

/// One event as a JSONL line: `n` makes the event id, `ms` the time after
/// 2026-11-27T11:14:15Z.
#[allow(clippy::too_many_arguments)]
fn line(
    n: u32,
    event_type: &str,
    cid: &str,
    span: &str,
    parent: Option<&str>,
    processor: Option<&str>,
    ms: u32,
    end: Option<(&str, u64)>,
    payload: &str,
) -> String {
    let parent = parent.map_or("null".to_owned(), |p| format!("\"{p}\""));
    let processor = processor.map_or("null".to_owned(), |p| format!("\"{p}\""));
    let (outcome, duration) = end.map_or(("null".to_owned(), "null".to_owned()), |(o, d)| {
        (format!("\"{o}\""), d.to_string())
    });
    format!(
        "{{\"schema_version\":1,\"event_id\":\"01938e5a-7b2c-7d4e-8f00-{n:012}\",\"event_type\":\"{event_type}\",\
\"timestamp\":\"2026-11-27T11:14:{:02}.{:06}Z\",\"correlation_id\":\"{cid}\",\"span_id\":\"{span}\",\
\"parent_span_id\":{parent},\"processor\":{processor},\"duration_us\":{duration},\"outcome\":{outcome},\
\"payload\":{payload}}}",
        15 + ms / 1000,
        (ms % 1000) * 1000
    )
}

const ROOT_A: &str = "000000000000a000";
const ROOT_B: &str = "000000000000b000";
const ROOT_C: &str = "000000000000c000";

/// The fixture's lines, in the order a writer might have appended them.
pub fn fixture_lines() -> Vec<String> {
    let frames =
        r#"["translate (examples/chat_pipeline.rs:97)","handle (examples/chat_pipeline.rs:120)"]"#;
    let error = format!(
        r#"{{"error_type":"UnsupportedLanguage","error_message":"no translation model for `tlh`","stack_frames":{frames},"stack_frames_omitted":0,"processor":"translation","input_preview":"tlh"}}"#
    );
    vec![
        line(
            1,
            "message_received",
            OK,
            ROOT_A,
            None,
            None,
            0,
            None,
            r#"{"channel":"web"}"#,
        ),
        line(
            2,
            "intent_started",
            OK,
            "000000000000a001",
            Some(ROOT_A),
            Some("intent"),
            1,
            None,
            "{}",
        ),
        line(
            3,
            "intent_classified",
            OK,
            "000000000000a001",
            Some(ROOT_A),
            Some("intent"),
            3,
            Some(("ok", 2_000)),
            "{}",
        ),
        line(
            4,
            "retrieval_started",
            OK,
            "000000000000a002",
            Some(ROOT_A),
            Some("retrieval"),
            4,
            None,
            "{}",
        ),
        line(
            5,
            "retrieval_complete",
            OK,
            "000000000000a002",
            Some(ROOT_A),
            Some("retrieval"),
            10,
            Some(("ok", 6_000)),
            "{}",
        ),
        line(
            6,
            "response_sent",
            OK,
            ROOT_A,
            None,
            None,
            12,
            None,
            r#"{"status":200}"#,
        ),
        line(
            7,
            "message_received",
            FAILED,
            ROOT_B,
            None,
            None,
            100,
            None,
            "{}",
        ),
        line(
            8,
            "translation_started",
            FAILED,
            "000000000000b001",
            Some(ROOT_B),
            Some("translation"),
            101,
            None,
            "{}",
        ),
        line(
            9,
            "error_occurred",
            FAILED,
            "000000000000b001",
            Some(ROOT_B),
            Some("translation"),
            102,
            Some(("error", 1_000)),
            &error,
        ),
        line(
            10,
            "response_sent",
            FAILED,
            ROOT_B,
            None,
            None,
            104,
            None,
            r#"{"status":503}"#,
        ),
        line(
            11,
            "message_received",
            ODD,
            ROOT_C,
            None,
            None,
            200,
            None,
            "{}",
        ),
        // The terminal is written before its started event.
        line(
            13,
            "retrieval_complete",
            ODD,
            "000000000000c001",
            Some(ROOT_C),
            Some("retrieval"),
            206,
            Some(("ok", 5_000)),
            "{}",
        ),
        line(
            12,
            "retrieval_started",
            ODD,
            "000000000000c001",
            Some(ROOT_C),
            Some("retrieval"),
            201,
            None,
            "{}",
        ),
        // In flight: no terminal event.
        line(
            14,
            "llm_started",
            ODD,
            "000000000000c002",
            Some(ROOT_C),
            Some("llm"),
            207,
            None,
            "{}",
        ),
        // An orphan: its parent span is nowhere.
        line(
            15,
            "intent_started",
            ODD,
            "000000000000c003",
            Some("00000000deadbeef"),
            Some("intent"),
            202,
            None,
            "{}",
        ),
        line(
            16,
            "intent_classified",
            ODD,
            "000000000000c003",
            Some("00000000deadbeef"),
            Some("intent"),
            203,
            Some(("ok", 1_000)),
            "{}",
        ),
        // A type this version does not know.
        line(
            17,
            "rerank_started",
            ODD,
            "000000000000c004",
            Some(ROOT_C),
            Some("rerank"),
            208,
            None,
            "{}",
        ),
        // A duplicate (a replayed batch): only a JSONL file keeps it.
        line(
            11,
            "message_received",
            ODD,
            ROOT_C,
            None,
            None,
            200,
            None,
            "{}",
        ),
    ]
}

/// A fresh directory for one test.
pub fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("observe-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the fixture as a JSONL file in `dir`.
pub fn fixture_file(dir: &Path) -> PathBuf {
    let path = dir.join("events.jsonl");
    std::fs::write(&path, fixture_lines().join("\n") + "\n").unwrap();
    path
}

/// A fresh SQLite store for `test` holding the fixture (loaded with
/// `observe import`): the test's directory and the store's URL.
pub fn imported_store(test: &str) -> (PathBuf, String) {
    let dir = temp_dir(test);
    let store = format!("sqlite://{}", dir.join("events.db").display());
    ok(&store, &["import", fixture_file(&dir).to_str().unwrap()]);
    (dir, store)
}

/// A port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `observe` expecting exit code `code` and one line on stderr;
/// returns that line.
pub fn one_line_error(store: &str, args: &[&str], code: i32) -> (Output, String) {
    let out = observe(store, args);
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(out.status.code(), Some(code), "observe {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    (out, stderr)
}

/// Sends SIGINT (Ctrl-C) to a running `observe` and waits for it to end:
/// its exit status and what it wrote on stderr.
pub fn interrupt(mut child: Child) -> (ExitStatus, String) {
    // SAFETY: kill(2) with the pid of our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "observe still runs 15 s after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).unwrap();
    }
    (status, stderr)
}

/// Runs the real `observe` binary with `args` against `store` (colour off:
/// the output is a pipe; `NO_COLOR` set as well).
pub fn observe(store: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_observe"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("OBSERVE_STORE")
        .output()
        .expect("the observe binary runs")
}

/// The standard output of a run that must succeed.
pub fn ok(store: &str, args: &[&str]) -> String {
    let out = observe(store, args);
    assert!(
        out.status.success(),
        "observe {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each line of `text` as JSON.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// Compares `actual` with `tests/snapshots/NAME.txt`; with
/// `UPDATE_SNAPSHOTS=1`, writes it instead.
pub fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/snapshots/{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "snapshot {name} differs");
}
