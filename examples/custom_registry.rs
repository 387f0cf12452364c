//! An application's own event types and processors, end to end: declare
//! them with `observe::registry!`, instrument a processor of your own with
//! `#[observed(registry = ...)]`, emit a custom event with `emit!`, store
//! everything in SQLite and a JSONL file, and read it back with the
//! application's registry, so that the custom events are read instead of
//! skipped as unknown.
//!
//! Run: `cargo run --example custom_registry`. It prints each request's
//! events and checks that every one came back.

use std::time::Duration;

use observe::reader::JsonlReader;
use observe::sink::JsonlSink;
use observe::store::{EventStore, Store, StoreSink, StoreUrl};
use observe::{Config, FlushOutcome};

observe::registry! {
    /// The reranking service's events, next to the built-in ones.
    pub mod events {
        event_types {
            /// Reranking started.
            RerankStarted = "rerank_started",
            /// Reranking finished.
            RerankComplete = "rerank_complete",
            /// A cached ranking was used instead.
            CacheHit = "cache_hit",
        }
        processors {
            /// Reorders retrieved documents by relevance.
            rerank: RerankStarted => RerankComplete,
        }
    }
}

/// A processor of this application's registry; `ret` records the ranking
/// on `rerank_complete`.
#[observe::observed(registry = events, processor = "rerank", ret)]
fn rerank(query: &str, mut documents: Vec<String>) -> Vec<String> {
    documents.sort_by_key(|d| std::cmp::Reverse(d.matches(query).count()));
    documents
}

/// A built-in processor calling into the custom one.
#[observe::observed(processor = "retrieval")]
fn retrieve(query: &str, cached: bool) -> Vec<String> {
    if cached {
        observe::emit!(events::EventType::CacheHit, { "query_length": query.len() });
        return vec!["cached answer".to_owned()];
    }
    let documents = ["refund policy", "refund refund", "shipping times"].map(String::from);
    rerank(query, documents.to_vec())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("observe-custom-registry-{}", std::process::id()));
    let url = StoreUrl::sqlite(dir.join("events.db"));
    let jsonl = dir.join("events.jsonl");
    let guard = observe::init(
        Config::default()
            .service_name("rerank-demo")
            .sink(StoreSink::open(&url)?)
            .add_sink(JsonlSink::open(&jsonl)?),
    )?;
    for (query, cached) in [("refund", false), ("shipping", true)] {
        // Each call to `retrieve` is the root of its own request here.
        retrieve(query, cached);
    }
    assert_eq!(
        observe::flush(Duration::from_secs(10)),
        FlushOutcome::Flushed
    );
    drop(guard);

    // The store, read with this application's registry.
    let store = Store::open(&url)?.registry(events::EventType::parse);
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let stored = runtime.block_on(store.after(0, 1_000))?;
    for stored in &stored.events {
        let event = &stored.event;
        println!(
            "{:>3} {:<18} {:<10} {}",
            stored.seq,
            event.event_type,
            event.processor.as_deref().unwrap_or("-"),
            serde_json::Value::Object(event.payload.clone())
        );
    }
    let custom = ["rerank_started", "rerank_complete", "cache_hit"];
    for name in custom {
        assert!(
            stored
                .events
                .iter()
                .any(|s| s.event.event_type.as_str() == name),
            "{name} came back from the store"
        );
    }
    assert!(store.unknown_types().is_empty());

    // The JSONL file, read with the same registry.
    let file = std::io::BufReader::new(std::fs::File::open(&jsonl)?);
    let read = JsonlReader::new(file)
        .registry(events::EventType::parse)
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(read.len(), stored.events.len(), "the same events in both");

    // Without the registry the custom events are skipped, and counted.
    let file = std::io::BufReader::new(std::fs::File::open(&jsonl)?);
    let mut builtin_only = JsonlReader::new(file).on_unknown(|_| {});
    let known = builtin_only.by_ref().count();
    let skipped: u64 = builtin_only.unknown_types().values().sum();
    println!(
        "\n{} events stored; a reader without the registry reads {known} and skips {skipped}",
        stored.events.len()
    );
    assert_eq!(known as u64 + skipped, read.len() as u64);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
