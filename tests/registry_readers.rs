//! An application's own event types round-trip: every reader (the JSONL
//! reader and each store's query side) given the application's registry
//! reads them back; without it they are skipped and counted, never misread.

mod common;

use std::time::Duration;

use common::{block_on, serial};
use observe::reader::JsonlReader;
use observe::sink::JsonlSink;
use observe::store::{EventStore, Store, StoreSink, StoreUrl};
use observe::{Config, FlushOutcome};

observe::registry! {
    /// The test's own types.
    pub mod events {
        event_types {
            /// Moderation started.
            ModerationStarted = "moderation_started",
            /// Moderation finished.
            ModerationComplete = "moderation_complete",
            /// A cached answer was used.
            CacheHit = "cache_hit",
        }
        processors {
            /// Checks a message.
            moderation: ModerationStarted => ModerationComplete,
        }
    }
}

#[observe::observed(registry = events, processor = "moderation")]
fn moderate(message: &str) -> bool {
    observe::emit!(events::EventType::CacheHit, { "length": message.len() });
    !message.is_empty()
}

#[test]
fn every_reader_reads_the_applications_types_with_its_registry() {
    let _serial = serial();
    let dir = std::env::temp_dir().join(format!("observe-registry-readers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sqlite = StoreUrl::sqlite(dir.join("events.db"));
    let jsonl = StoreUrl::Jsonl(dir.join("events.jsonl"));
    let guard = observe::init(
        Config::default()
            .sink(StoreSink::open(&sqlite).unwrap())
            .add_sink(JsonlSink::open(dir.join("events.jsonl")).unwrap()),
    )
    .unwrap();
    assert!(moderate("hello"));
    assert_eq!(
        observe::flush(Duration::from_secs(10)),
        FlushOutcome::Flushed
    );
    drop(guard);
    let expected = ["moderation_started", "cache_hit", "moderation_complete"];

    for url in [&sqlite, &jsonl] {
        let store = Store::open(url).unwrap().registry(events::EventType::parse);
        let tail = block_on(store.after(0, 100)).unwrap();
        let types: Vec<&str> = tail
            .events
            .iter()
            .map(|s| s.event.event_type.as_str())
            .collect();
        assert_eq!(types, expected, "{url}");
        let chain = block_on(store.chain(tail.events[0].event.correlation_id)).unwrap();
        assert_eq!(chain.events().len(), 3, "{url}");
        assert!(store.unknown_types().is_empty(), "{url}");

        let builtin_only = Store::open(url).unwrap();
        let tail = block_on(builtin_only.after(0, 100)).unwrap();
        assert!(
            tail.events.is_empty(),
            "{url}: unknown without the registry"
        );
        assert_eq!(
            tail.next_seq, 3,
            "{url}: skipped rows still advance the cursor"
        );
        let unknown = builtin_only.unknown_types();
        assert_eq!(unknown.values().sum::<u64>(), 3, "{url}: {unknown:?}");
    }

    let file = || std::io::BufReader::new(std::fs::File::open(dir.join("events.jsonl")).unwrap());
    let read: Vec<_> = JsonlReader::new(file())
        .registry(events::EventType::parse)
        .collect::<Result<_, _>>()
        .unwrap();
    let types: Vec<&str> = read.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, expected);
    let mut builtin_only = JsonlReader::new(file()).on_unknown(|_| {});
    assert_eq!(builtin_only.by_ref().count(), 0);
    assert_eq!(builtin_only.unknown_types()["cache_hit"], 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
