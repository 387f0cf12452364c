//! `observe::init` opens the configured store (`Config::store`, which
//! `OBSERVE_STORE` sets through `Config::from_env`) as the primary sink,
//! refuses one it cannot open without installing anything, and installs
//! nothing when switched off.

mod common;

use std::time::Duration;

use common::{block_on, serial};
use observe::store::{EventStore, Store, StoreUrl};
use observe::{Config, EventType, FlushOutcome, InitError};

fn tmp(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("observe-init-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_configured_store_receives_the_events() {
    let _serial = serial();
    let dir = tmp("sqlite");
    let url = format!("sqlite://{}", dir.join("events.db").display());
    let guard = observe::init(
        Config::default()
            .sink(observe::sink::NullSink)
            .store(&url)
            .service_name("checkout"),
    )
    .expect("opens the store");
    observe::emit_event(EventType::MessageReceived, serde_json::json!({ "n": 1 }));
    assert_eq!(
        observe::flush(Duration::from_secs(10)),
        FlushOutcome::Flushed
    );
    drop(guard);
    let store = Store::open(&url.parse::<StoreUrl>().unwrap()).expect("the store exists");
    let tail = block_on(store.after(0, 10)).expect("reads");
    assert_eq!(tail.events.len(), 1, "the store replaced the NullSink");
    assert_eq!(
        tail.events[0].event.service_name.as_deref(),
        Some("checkout")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_store_that_cannot_be_opened_installs_nothing() {
    let _serial = serial();
    for (url, says) in [
        ("mysql://db/events", "unknown store url scheme"),
        ("events.db", "not a store url"),
        ("postgres://app:hunter2@127.0.0.1:1/events", "127.0.0.1:1"),
    ] {
        let error = observe::init(Config::default().store(url)).expect_err("refused");
        let text = error.to_string();
        assert!(matches!(error, InitError::Store { .. }), "{text}");
        assert!(text.contains("cannot open the event store"), "{text}");
        assert!(text.to_lowercase().contains(says), "{url}: {text}");
        assert!(!text.contains("hunter2"), "the password is masked: {text}");
        assert_eq!(
            observe::flush(Duration::from_millis(10)),
            FlushOutcome::NotInstalled
        );
    }
}

#[test]
fn a_disabled_configuration_opens_and_installs_nothing() {
    let _serial = serial();
    let dir = tmp("disabled");
    let url = format!("sqlite://{}", dir.join("events.db").display());
    let guard = observe::init(Config::default().store(&url).enabled(false)).expect("a guard");
    observe::emit_event(EventType::MessageReceived, serde_json::json!({}));
    assert_eq!(
        observe::flush(Duration::from_millis(10)),
        FlushOutcome::NotInstalled
    );
    assert_eq!(guard.shutdown(), FlushOutcome::Flushed);
    assert!(!dir.exists(), "no store was created");
    // A pipeline can still be installed afterwards.
    let guard = observe::init(Config::default().sink(observe::sink::NullSink)).expect("installs");
    drop(guard);
}
