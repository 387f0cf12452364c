//! PostgreSQL stopped in the middle of a run of 200 requests, then
//! restarted: every request succeeds, the breaker opens and events go to
//! the fallback; after the restart the breaker's probe closes it, later
//! events land, and no event is in the table twice. The test runs its own
//! server (scripts/test-postgres.sh), since it stops it.
#![cfg(feature = "postgres")]

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::Capture;
use observe::store::{EventStore, PostgresSink, PostgresStore};
use observe::{Config, CorrelationContext, EventType, FutureExt};

#[observe::observed(processor = "retrieval", input = query)]
async fn retrieve(query: &str) -> Result<usize, std::io::Error> {
    Ok(query.len())
}

#[observe::observed(processor = "llm")]
async fn generate(docs: usize) -> Result<String, std::io::Error> {
    Ok(format!("{docs} documents"))
}

async fn handle(i: usize) -> Result<String, std::io::Error> {
    observe::emit!(EventType::MessageReceived, { "request": i });
    let docs = retrieve("refund policy").await?;
    generate(docs).await
}

/// The test's own server, stopped when the test ends however it ends.
struct Server {
    dir: PathBuf,
}

impl Server {
    fn script(action: &str, dir: &Path) -> String {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-postgres.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(action)
            .arg(dir)
            .output()
            .expect("the script runs");
        assert!(
            out.status.success(),
            "{action}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("text")
            .trim()
            .to_owned()
    }

    fn start(&self) -> String {
        Server::script("start", &self.dir)
    }

    fn stop(&self) {
        Server::script("stop", &self.dir);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn flush() {
    observe::flush(Duration::from_secs(30));
}

#[test]
fn postgres_stopped_mid_run_then_restarted() {
    if std::env::var_os("OBSERVE_TEST_POSTGRES_URL").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL tests: OBSERVE_TEST_POSTGRES_URL is not set"
        );
        eprintln!(
            "postgres_stopped_mid_run_then_restarted: SKIPPED, OBSERVE_TEST_POSTGRES_URL is not set"
        );
        return;
    }
    let server = Server {
        dir: std::env::temp_dir().join(format!("observe-pg-restart-{}", std::process::id())),
    };
    let url = server.start();
    let fallback = Capture::default();
    let guard = observe::init(
        Config::default()
            .sink(PostgresSink::connect(&url).expect("connects"))
            .fallback(fallback.clone())
            .breaker_threshold(2)
            .breaker_open_duration(Duration::from_millis(100))
            .batch_linger(Duration::from_millis(2)),
    )
    .expect("installs");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let request = |i: usize| {
        let root = CorrelationContext::new_root();
        let reply = runtime.block_on(handle(i).with_context(root));
        assert_eq!(reply.expect("no request fails"), "13 documents");
        flush();
        root
    };

    let mut landed_expected = Vec::new();
    for i in 0..50 {
        landed_expected.push(request(i));
    }
    server.stop();
    for i in 50..150 {
        request(i);
    }
    let down = observe::stats();
    assert!(down.breaker_transitions.opened >= 1, "{down:?}");
    assert!(down.fallen_back > 0, "{down:?}");
    assert!(fallback.user_events().len() as u64 >= down.fallen_back);

    server.start();
    // The breaker lets a probe through every 100 ms: requests until one
    // closes it (bounded; each waits a little so probes can come due).
    for i in 0.. {
        assert!(
            i < 500,
            "the breaker never closed after the restart: {:?}",
            observe::stats()
        );
        if observe::stats().breaker_transitions.closed >= 1 {
            break;
        }
        request(150);
        std::thread::sleep(Duration::from_millis(20));
    }
    for i in 150..200 {
        landed_expected.push(request(i));
    }
    flush();
    let stats = observe::stats();
    drop(guard);
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(
        stats.emitted,
        stats.written + stats.fallen_back,
        "{stats:?}"
    );

    let store = PostgresStore::connect(&url).expect("connects");
    let rows = common_block_on(store.after(0, 1_000_000)).expect("reads");
    let ids: HashSet<_> = rows.events.iter().map(|e| e.event.event_id).collect();
    assert_eq!(
        ids.len(),
        rows.events.len(),
        "an event is in the table twice"
    );
    for root in &landed_expected {
        let chain = common_block_on(store.chain(root.correlation_id)).expect("reads");
        assert_eq!(
            chain.events().len(),
            5,
            "request {} did not land whole",
            root.correlation_id
        );
    }
    let fell_back: HashSet<_> = fallback.user_events().iter().map(|e| e.event_id).collect();
    assert!(!fell_back.is_empty());
}

fn common_block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}
