//! Helpers shared by the store tests: temporary directories, requests of
//! known shape, a runtime to await on, and the test PostgreSQL server.
#![allow(dead_code)]

pub mod conformance;
pub mod postgres;

#[allow(unused_imports)]
pub use postgres::{postgres_database, postgres_url};

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use observe_core::{CorrelationContext, Event, EventType, Outcome, Timestamp};

/// A fresh, empty directory under the system temporary directory.
pub fn tmp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "observe-store-test-{}-{name}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs a future to completion on a current-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// The microseconds of `t`.
pub fn at(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(micros).expect("in range")
}

/// One request starting at `start_us`: `message_received`, then one span
/// per `(processor, outcome)` (started, then complete or error_occurred),
/// then `response_sent`. Events are 10 us apart.
pub fn request(start_us: i64, spans: &[(&'static str, Outcome)]) -> Vec<Event> {
    let root = CorrelationContext::new_root();
    let mut t = start_us;
    let mut next = || {
        t += 10;
        at(t - 10)
    };
    let mut events = vec![stamped(
        Event::new(EventType::MessageReceived, &root),
        next(),
    )];
    for &(processor, outcome) in spans {
        let ctx = root.child();
        let (started, complete) = types(processor);
        events.push(stamped(
            Event::new(started, &ctx).with_processor(processor),
            next(),
        ));
        let terminal = match outcome {
            Outcome::Error | Outcome::Panic => Event::new(EventType::ErrorOccurred, &ctx)
                .with_payload(
                    serde_json::json!({ "error_message": format!("{processor} failed") }),
                ),
            _ => Event::new(complete, &ctx),
        };
        events.push(stamped(
            terminal.with_processor(processor).with_outcome(outcome, 5),
            next(),
        ));
    }
    events.push(stamped(Event::new(EventType::ResponseSent, &root), next()));
    events
}

fn types(processor: &str) -> (EventType, EventType) {
    match processor {
        "retrieval" => (EventType::RetrievalStarted, EventType::RetrievalComplete),
        "llm" => (EventType::LlmStarted, EventType::LlmComplete),
        "translation" => (
            EventType::TranslationStarted,
            EventType::TranslationComplete,
        ),
        _ => (EventType::IntentStarted, EventType::IntentClassified),
    }
}

fn stamped(mut event: Event, timestamp: Timestamp) -> Event {
    event.timestamp = timestamp;
    event
}

/// Runs one SQL script on the database at `url`; returns the first column
/// of the first row of the last statement, if it gave one, as text.
pub fn postgres_sql(url: &str, sql: &str) -> Vec<tokio_postgres::SimpleQueryMessage> {
    block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connects");
        tokio::spawn(connection);
        client.simple_query(sql).await.expect("the SQL runs")
    })
}

/// The first value of the first row of `sql`.
pub fn postgres_value(url: &str, sql: &str) -> String {
    postgres_sql(url, sql)
        .into_iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .expect("a row")
}
