//! The checks every backend must pass, written once: each takes a sink and
//! a store over the same (fresh) database.

use std::collections::HashSet;

use observe_core::delivery::sink::Sink;
use observe_core::{Event, Outcome};
use observe_store::{EventStore, TraceFilter};
use serde_json::json;

use super::{at, block_on, request};

fn write(sink: &impl Sink, events: &[Event]) {
    block_on(sink.write_batch(events)).expect("the batch is written");
}

/// A payload with every JSON type, unicode and escapes, padded to exactly
/// the largest allowed size (10 KiB serialized).
pub fn largest_payload() -> serde_json::Value {
    let mut payload = json!({
        "null": null, "true": true, "false": false,
        "zero": 0, "i64_min": i64::MIN, "u64_max": u64::MAX,
        "float": 0.1, "tiny": 1e-7, "huge": 1.7976931348623157e308, "negative_zero": -0.0,
        "unicode": "héllo wörld — 日本語 — 🦀👩‍👩‍👧 — مرحبا — \u{0301}e\u{200d}",
        "escapes": "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7}",
        "nested": { "array": [1, "two", [3.5, null, { "deep": [true] }]], "empty": {}, "none": [] },
        "filler": "",
    });
    let size = serde_json::to_string(&payload).unwrap().len();
    let filler = "x".repeat(10 * 1024 - size);
    payload["filler"] = json!(filler);
    assert_eq!(serde_json::to_string(&payload).unwrap().len(), 10 * 1024);
    payload
}

/// Every JSON type, unicode and the largest payload round-trip byte for
/// byte, as does every other field.
pub fn round_trip(sink: &impl Sink, store: &impl EventStore) {
    let mut events = request(
        1_764_000_000_000_000,
        &[("retrieval", Outcome::Ok), ("llm", Outcome::Error)],
    );
    events[1] = events[1].clone().with_payload(largest_payload());
    events[2] = events[2].clone().with_service_name("chat");
    write(sink, &events);
    let chain = block_on(store.chain(events[0].correlation_id)).expect("the chain");
    let written: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let read: Vec<String> = chain
        .events()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert_eq!(read, written);
}

/// Writing the same events again leaves one row each.
pub fn idempotent(sink: &impl Sink, store: &impl EventStore) {
    let events = request(1_764_000_000_000_000, &[("retrieval", Outcome::Ok)]);
    write(sink, &events);
    write(sink, &events);
    write(sink, &events[1..3]);
    let tail = block_on(store.after(0, 1000)).expect("the tail");
    assert_eq!(tail.events.len(), events.len());
    let ids: HashSet<_> = tail.events.iter().map(|e| e.event.event_id).collect();
    assert_eq!(ids.len(), events.len());
}

/// A chain holds one request's events only, in time order, as a tree.
pub fn chain(sink: &impl Sink, store: &impl EventStore) {
    let a = request(
        1_764_000_000_000_000,
        &[("retrieval", Outcome::Ok), ("llm", Outcome::Panic)],
    );
    let b = request(1_764_000_000_000_005, &[("translation", Outcome::Ok)]);
    let mut mixed: Vec<Event> = a.iter().chain(&b).cloned().collect();
    mixed.reverse();
    write(sink, &mixed);
    let chain = block_on(store.chain(a[0].correlation_id)).expect("the chain");
    assert_eq!(chain.events(), &a[..]);
    let tree: Vec<(usize, String)> = chain
        .walk()
        .map(|(depth, span)| (depth, span.label(&chain).to_owned()))
        .collect();
    assert_eq!(
        tree,
        [
            (0, "message_received".to_owned()),
            (1, "retrieval".to_owned()),
            (1, "llm".to_owned())
        ]
    );
    assert_eq!(chain.outcome(), Some(Outcome::Panic));
    assert_eq!(chain.orphans().count(), 0);
    let none = block_on(store.chain(uuid::Uuid::nil())).expect("an empty chain");
    assert!(none.events().is_empty());
}

/// Summaries page newest first through a cursor, and filter.
pub fn traces(sink: &impl Sink, store: &impl EventStore) {
    let base = 1_764_000_000_000_000;
    let mut all = Vec::new();
    for i in 0..250i64 {
        let spans: &[(&'static str, Outcome)] = match i % 5 {
            0 => &[("retrieval", Outcome::Ok), ("llm", Outcome::Error)],
            1 => &[("translation", Outcome::Cancelled)],
            _ => &[("retrieval", Outcome::Ok), ("llm", Outcome::Ok)],
        };
        all.push(request(base + i * 1_000, spans));
    }
    for chunk in all.chunks(40) {
        write(sink, &chunk.concat());
    }
    let mut seen = Vec::new();
    let mut filter = TraceFilter::new();
    let mut pages = 0;
    loop {
        let page = block_on(store.traces(&filter)).expect("a page");
        pages += 1;
        seen.extend(page.items.iter().map(|s| s.correlation_id));
        match page.next {
            Some(cursor) => filter = TraceFilter::new().after(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let newest_first: Vec<_> = all.iter().rev().map(|r| r[0].correlation_id).collect();
    assert_eq!(seen, newest_first);

    let first = block_on(store.traces(&TraceFilter::new().limit(1))).expect("a page");
    let summary = &first.items[0];
    assert_eq!(summary.correlation_id, all[249][0].correlation_id);
    assert_eq!(
        (summary.root.as_str(), summary.spans, summary.events),
        ("message_received", 3, 6)
    );
    assert_eq!(
        (summary.start, summary.duration_us),
        (at(base + 249_000), 50)
    );
    assert_eq!(summary.outcome, Some(Outcome::Ok));

    let count = |filter: TraceFilter| {
        block_on(store.traces(&filter.limit(1000)))
            .expect("a page")
            .items
            .len()
    };
    assert_eq!(count(TraceFilter::new().errors_only()), 50);
    assert_eq!(count(TraceFilter::new().processor("translation")), 50);
    assert_eq!(count(TraceFilter::new().outcome(Outcome::Cancelled)), 50);
    assert_eq!(
        count(TraceFilter::new().between(Some(at(base + 10_000)), Some(at(base + 20_000)))),
        10
    );
    let errors =
        block_on(store.traces(&TraceFilter::new().errors_only().limit(3))).expect("a page");
    assert!(
        errors
            .items
            .iter()
            .all(|s| s.outcome == Some(Outcome::Error))
    );
    assert_eq!(errors.items[0].correlation_id, all[245][0].correlation_id);
}

/// Tailing reads in seq order and resumes after the last seq.
pub fn tail(sink: &impl Sink, store: &impl EventStore) {
    let events = request(
        1_764_000_000_000_000,
        &[("retrieval", Outcome::Ok), ("llm", Outcome::Ok)],
    );
    write(sink, &events);
    let first = block_on(store.after(0, 4)).expect("the tail");
    assert_eq!(first.events.len(), 4);
    assert!(first.events.windows(2).all(|w| w[0].seq < w[1].seq));
    let rest = block_on(store.after(first.next_seq, 100)).expect("the tail");
    assert_eq!(rest.events.len(), events.len() - 4);
    let read: Vec<Event> = first
        .events
        .into_iter()
        .chain(rest.events)
        .map(|e| e.event)
        .collect();
    assert_eq!(read, events);
    let end = block_on(store.after(rest.next_seq, 100)).expect("the tail");
    assert!(end.events.is_empty());
    assert_eq!(end.next_seq, rest.next_seq);
}

/// Reading back from the end: newest first, page by page, down to the
/// first event, then nothing.
pub fn tail_backwards(sink: &impl Sink, store: &impl EventStore) {
    let events: Vec<Event> = (0..3i64)
        .flat_map(|i| {
            request(
                1_764_000_000_000_000 + i * 1_000,
                &[("retrieval", Outcome::Ok)],
            )
        })
        .collect();
    write(sink, &events);
    let mut read = Vec::new();
    let mut seq = i64::MAX;
    loop {
        let page = block_on(store.before(seq, 5)).expect("the events before");
        assert!(page.events.len() <= 5);
        assert!(page.events.windows(2).all(|w| w[0].seq > w[1].seq));
        assert!(page.events.iter().all(|e| e.seq < seq));
        if page.next_seq == seq {
            assert!(page.events.is_empty());
            break;
        }
        read.extend(page.events);
        seq = page.next_seq;
    }
    let mut newest_first: Vec<Event> = read.into_iter().map(|e| e.event).collect();
    newest_first.reverse();
    assert_eq!(newest_first, events);
    let latest = block_on(store.before(i64::MAX, 2)).expect("the latest two");
    assert_eq!(
        latest.events.iter().map(|e| &e.event).collect::<Vec<_>>(),
        [&events[events.len() - 1], &events[events.len() - 2]]
    );
}

/// Events per type and outcome, within a time range.
pub fn event_counts(sink: &impl Sink, store: &impl EventStore) {
    let mut events = Vec::new();
    for i in 0..10i64 {
        let outcome = if i < 3 { Outcome::Error } else { Outcome::Ok };
        events.extend(request(
            1_764_000_000_000_000 + i * 100,
            &[("retrieval", outcome)],
        ));
    }
    write(sink, &events);
    let counts = block_on(store.event_counts(None, None)).expect("the counts");
    let listed: Vec<(&str, Option<Outcome>, u64)> = counts
        .iter()
        .map(|c| (c.event_type.as_str(), c.outcome, c.count))
        .collect();
    assert_eq!(
        listed,
        [
            ("error_occurred", Some(Outcome::Error), 3),
            ("message_received", None, 10),
            ("response_sent", None, 10),
            ("retrieval_complete", Some(Outcome::Ok), 7),
            ("retrieval_started", None, 10),
        ]
    );
    let later = block_on(store.event_counts(Some(at(1_764_000_000_000_000 + 500)), None))
        .expect("the counts");
    assert_eq!(later.iter().map(|c| c.count).sum::<u64>(), 20);
    let none = block_on(store.event_counts(None, Some(at(1_000)))).expect("the counts");
    assert!(none.is_empty());
}

/// Counts by outcome and nearest-rank percentiles per processor.
pub fn processor_stats(sink: &impl Sink, store: &impl EventStore) {
    let mut events = Vec::new();
    for i in 0..100i64 {
        let outcome = if i < 10 { Outcome::Error } else { Outcome::Ok };
        let mut request = request(1_764_000_000_000_000 + i * 100, &[("retrieval", outcome)]);
        request[2].duration_us = Some(i as u64 + 1);
        events.extend(request);
    }
    write(sink, &events);
    let stats = block_on(store.processor_stats(None, None)).expect("stats");
    assert_eq!(stats.len(), 1);
    let retrieval = &stats[0];
    assert_eq!(retrieval.processor, "retrieval");
    assert_eq!(
        (retrieval.calls, retrieval.ok, retrieval.error),
        (100, 90, 10)
    );
    assert_eq!(
        (
            retrieval.p50_us,
            retrieval.p90_us,
            retrieval.p95_us,
            retrieval.p99_us,
            retrieval.max_us
        ),
        (50, 90, 95, 99, 100)
    );
    let later = block_on(store.processor_stats(Some(at(1_764_000_000_000_000 + 5_000)), None))
        .expect("stats");
    assert_eq!(later[0].calls, 50);
}

/// Retention deletes what is older than the cutoff, in several chunks, and
/// nothing newer.
pub fn retain(sink: &impl Sink, store: &impl EventStore) {
    let old: Vec<Event> = (0..1_300i64)
        .flat_map(|i| request(1_000_000_000_000 + i * 100, &[("retrieval", Outcome::Ok)]))
        .collect();
    for chunk in old.chunks(1000) {
        write(sink, chunk);
    }
    let new = request(1_764_000_000_000_000, &[("llm", Outcome::Ok)]);
    write(sink, &new);
    let deleted = block_on(store.retain(at(1_500_000_000_000_000))).expect("retention");
    assert_eq!(deleted, old.len() as u64);
    let left = block_on(store.after(0, 100_000)).expect("the tail");
    assert_eq!(
        left.events.into_iter().map(|e| e.event).collect::<Vec<_>>(),
        new
    );
    let page = block_on(store.traces(&TraceFilter::new())).expect("a page");
    assert_eq!(page.items.len(), 1);
}

/// Reading follows the compatibility rules: after `run_sql` renames two
/// rows' type to an unknown one, they are skipped and counted (and still
/// advance the tail's cursor); a row of another schema version is an error
/// naming its seq.
pub fn compatibility(sink: &impl Sink, store: &impl EventStore, run_sql: impl Fn(&str)) {
    let events = request(1, &[("llm", Outcome::Ok)]);
    write(sink, &events);
    run_sql("UPDATE events SET event_type = 'rerank_started' WHERE seq IN (2, 3)");
    let chain = block_on(store.chain(events[0].correlation_id)).expect("reads");
    assert_eq!(chain.events().len(), events.len() - 2);
    assert_eq!(store.unknown_types()["rerank_started"], 2);
    let tail = block_on(store.after(0, 100)).expect("reads");
    assert_eq!(
        tail.next_seq,
        events.len() as i64,
        "skipped rows still advance the cursor"
    );

    run_sql("UPDATE events SET schema_version = 2 WHERE seq = 4");
    let error = block_on(store.after(0, 100)).expect_err("refused");
    assert!(
        matches!(
            error,
            observe_store::StoreError::UnsupportedSchemaVersion {
                seq: 4,
                found: 2,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("seq 4 has schema_version 2"),
        "{error}"
    );
}

/// The error of opening a store laid out by a newer version (layout 3).
pub fn assert_refused_as_newer(error: Option<observe_store::StoreError>) {
    let error = error.expect("refused");
    assert!(
        matches!(
            error,
            observe_store::StoreError::NewerLayout {
                found: 3,
                supported: 2,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("schema layout 3, newer than the 2"),
        "{error}"
    );
    assert!(error.to_string().contains("nothing was written"), "{error}");
}

/// A store written by layout 1 (`fixture`, the request of
/// `tests/fixtures/*-layout-1.sql`), opened by this version through
/// `open`: it is migrated to layout 2, keeps its rows (read with no
/// service), and takes new events with their service.
pub fn migrates_layout_1<S: Sink, E: EventStore>(open: impl Fn() -> (S, E)) {
    let (sink, store) = open();
    let old: uuid::Uuid = "01938e5a-7b2c-7d4e-8f00-0000000000aa".parse().unwrap();
    let chain = block_on(store.chain(old)).expect("the old request reads");
    let types: Vec<&str> = chain
        .events()
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "message_received",
            "retrieval_started",
            "retrieval_complete"
        ]
    );
    assert!(chain.events().iter().all(|e| e.service_name.is_none()));
    assert_eq!(chain.events()[2].duration_us, Some(1000));
    assert_eq!(chain.events()[2].payload["documents"], json!(3));

    let new: Vec<Event> = request(1_764_000_100_000_000, &[("llm", Outcome::Ok)])
        .into_iter()
        .map(|e| e.with_service_name("chat"))
        .collect();
    write(&sink, &new);
    let chain = block_on(store.chain(new[0].correlation_id)).expect("the new request reads");
    assert!(
        chain
            .events()
            .iter()
            .all(|e| e.service_name.as_deref() == Some("chat"))
    );
    drop((sink, store));
    let (_sink, store) = open();
    let tail = block_on(store.after(0, 100)).expect("reopens and reads");
    assert_eq!(
        tail.events.len(),
        3 + new.len(),
        "nothing lost, nothing doubled"
    );
}
