//! `observe tail --follow`: the latest events first, then each event
//! written by another process after it started, within a second of the
//! write; Ctrl-C (SIGINT) ends it with exit code 0.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

/// The bound: a new event shows within one second of its write.
const WITHIN: Duration = Duration::from_secs(1);

#[test]
fn follow_prints_new_events_and_ends_cleanly_on_sigint() {
    let dir = temp_dir("follow");
    let store = format!("sqlite://{}", dir.join("events.db").display());
    let lines = fixture_lines();
    // The first request is in the store before tail starts; the others
    // are written while it follows.
    let (first, later) = lines.split_at(5);
    let file = dir.join("first.jsonl");
    std::fs::write(&file, first.join("\n")).unwrap();
    ok(&store, &["import", file.to_str().unwrap()]);

    let mut tail = Command::new(env!("CARGO_BIN_EXE_observe"))
        .args(["--store", &store, "--json", "tail", "--follow"])
        .env_remove("OBSERVE_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(tail.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let line = line.unwrap();
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            if tx.send(value).is_err() {
                return;
            }
        }
    });
    let next = |bound: Duration| rx.recv_timeout(bound).expect("a line from tail --follow");
    let printed: Vec<_> = (0..5).map(|_| next(Duration::from_secs(10))).collect();
    let id = |v: &serde_json::Value| v["event_id"].as_str().unwrap().to_owned();
    let ids_of = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .map(|l| id(&serde_json::from_str(l).unwrap()))
            .collect()
    };
    assert_eq!(
        printed.iter().map(id).collect::<Vec<_>>(),
        ids_of(first),
        "the events already stored, oldest first"
    );

    // Each later event, one write (one process) at a time.
    for (n, line) in later.iter().take(4).enumerate() {
        let file = dir.join(format!("later-{n}.jsonl"));
        std::fs::write(&file, line).unwrap();
        ok(&store, &["import", file.to_str().unwrap()]);
        let written = Instant::now();
        let shown = next(Duration::from_secs(10));
        let waited = written.elapsed();
        assert_eq!(id(&shown), ids_of(std::slice::from_ref(line))[0]);
        assert!(
            waited <= WITHIN,
            "event {n} showed {waited:?} after its write"
        );
    }

    let (status, stderr) = interrupt(tail);
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert_eq!(stderr, "", "nothing on stderr after a clean stop");
    assert!(
        rx.try_recv().is_err(),
        "nothing printed that was not written"
    );
}
