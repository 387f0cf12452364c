//! A process killed with SIGKILL while writing to SQLite: the file opens
//! afterwards, `PRAGMA integrity_check` is ok, and every batch the writer
//! reported committed before the kill is there, whole.
//!
//! The writer is this test binary run again (`current_exe`) with
//! `OBSERVE_KILL_TEST_DB` set, running only `writer_child`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{block_on, request, tmp_dir};
use observe_core::Outcome;
use observe_core::delivery::sink::Sink;
use observe_store::{EventStore, SqliteSink, SqliteStore};

const SPANS: usize = 48;
const EVENTS_PER_BATCH: usize = 2 + 2 * SPANS;

/// The child's part: write batches (one request each) forever, printing
/// each request's correlation id once its transaction committed. Does
/// nothing in a normal test run.
#[test]
fn writer_child() {
    let Some(path) = std::env::var_os("OBSERVE_KILL_TEST_DB") else {
        return;
    };
    let sink = SqliteSink::open(path).expect("opens");
    let spans = vec![("retrieval", Outcome::Ok); SPANS];
    let mut out = std::io::stdout().lock();
    for i in 0.. {
        let batch = request(1_764_000_000_000_000 + i * 1_000, &spans);
        block_on(sink.write_batch(&batch)).expect("writes");
        writeln!(out, "committed {}", batch[0].correlation_id).expect("prints");
        out.flush().expect("prints");
    }
}

#[test]
fn sigkill_while_writing_leaves_a_sound_file_with_every_committed_batch() {
    let path = tmp_dir("sigkill").join("events.db");
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
        .env("OBSERVE_KILL_TEST_DB", &path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the writer starts");
    let mut committed = Vec::new();
    // Kept open until after the kill, so the writer never sees a closed pipe.
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    for line in lines.by_ref() {
        let line = line.expect("reads");
        if let Some(id) = line.strip_prefix("committed ") {
            committed.push(id.parse::<uuid::Uuid>().expect("an id"));
        }
        if committed.len() == 40 {
            break;
        }
    }
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    let status = child.wait().expect("reaped");
    drop(lines);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the writer died of SIGKILL, not otherwise: {status}"
    );
    assert_eq!(
        committed.len(),
        40,
        "the writer committed 40 batches before the kill"
    );

    let conn = rusqlite::Connection::open(&path).expect("the file opens");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("checks");
    assert_eq!(check, "ok");
    drop(conn);
    let store = SqliteStore::open(&path).expect("the store opens");
    for id in committed {
        let chain = block_on(store.chain(id)).expect("reads");
        assert_eq!(
            chain.events().len(),
            EVENTS_PER_BATCH,
            "batch {id} is not whole"
        );
    }
}
