//! The live stream over a real connection: events after connecting,
//! exactly the missed ones after a reconnect with `Last-Event-ID`, filters,
//! version negotiation, and 100 clients with one that never reads.

mod common;

use common::{SseClient, correlation_id, start, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_with_last_event_id_gets_exactly_the_missed_events() {
    let server = start("reconnect", None).await;
    server.write(3).await; // before connecting: not sent
    let mut client = SseClient::connect(&server.url("/api/v1/stream"), &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let live = server.write(5).await;
    let got = client.take(5).await;
    assert_eq!(got.iter().map(correlation_id).collect::<Vec<_>>(), live);
    assert!(
        got.iter()
            .all(|m| m.event.as_deref() == Some("message_received"))
    );
    let last = got.last().unwrap().id.clone().unwrap();
    drop(client);

    let missed = server.write(7).await;
    let mut again =
        SseClient::connect(&server.url("/api/v1/stream"), &[("Last-Event-ID", &last)]).await;
    let replayed = again.take(7).await;
    assert_eq!(
        replayed.iter().map(correlation_id).collect::<Vec<_>>(),
        missed
    );
    let after = server.write(2).await;
    let live_again = again.take(2).await;
    assert_eq!(
        live_again.iter().map(correlation_id).collect::<Vec<_>>(),
        after
    );
    let ids: Vec<i64> = replayed
        .iter()
        .chain(&live_again)
        .map(|m| m.id.as_ref().unwrap().parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "increasing ids, no duplicate: {ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_leave_out_other_requests() {
    let server = start("filters", None).await;
    let ids = server.write(4).await;
    let wanted = ids[2].to_string();
    let url = server.url(&format!("/api/v1/stream?correlation_id={wanted}"));
    let mut client = SseClient::connect(&url, &[("Last-Event-ID", "0")]).await;
    let got = client.take(1).await;
    assert_eq!(correlation_id(&got[0]), ids[2]);
    let request = server.write_request("x").await;
    let url = server.url("/api/v1/stream?outcome=error");
    let mut errors = SseClient::connect(&url, &[("Last-Event-ID", "0")]).await;
    let got = errors.take(1).await;
    assert_eq!(correlation_id(&got[0]), request);
    assert_eq!(got[0].event.as_deref(), Some("llm_complete"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_schema_version_is_a_406_with_a_json_body() {
    let server = start("version", None).await;
    let (status, body) = common::get(&server.url("/api/v1/stream?schema_version=99"), &[]).await;
    assert_eq!(status.as_u16(), 406);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["requested"], 99);
    assert_eq!(
        body["supported"],
        serde_json::json!([observe_core::SCHEMA_VERSION])
    );
    let (status, _) = common::get(
        &server.url("/api/v1/stream"),
        &[("Observe-Schema-Version", "2")],
    )
    .await;
    assert_eq!(status.as_u16(), 406);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_clients_one_stuck_every_reader_gets_every_event_in_order() {
    const EVENTS: usize = 50_000;
    let server = start("fanout", None).await;
    let url = server.url("/api/v1/stream");
    // The stuck client: connected, never read.
    let mut stuck = SseClient::connect(&url, &[]).await;
    let mut readers = Vec::new();
    for _ in 0..99 {
        let mut client = SseClient::connect(&url, &[]).await;
        readers.push(tokio::spawn(async move {
            let mut seqs = Vec::with_capacity(EVENTS);
            let mut lagged = 0;
            while seqs.len() < EVENTS {
                let m = tokio::time::timeout(std::time::Duration::from_secs(60), client.next())
                    .await
                    .expect("an event within 60 s")
                    .expect("open");
                match m.event.as_deref() {
                    Some("lagged") => lagged += 1,
                    _ => seqs.push(m.id.unwrap().parse::<i64>().unwrap()),
                }
            }
            (seqs, lagged)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for _ in 0..EVENTS / 1000 {
        server.write(1000).await;
    }
    for reader in readers {
        let (seqs, _lagged) = reader.await.unwrap();
        assert_eq!(seqs.len(), EVENTS);
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "in order, no duplicate"
        );
    }
    // Now the stuck client reads: the events are still in the window (or
    // in the store, if it fell out of it), so it too ends with every one.
    let seqs = read_events(&mut stuck, EVENTS).await.0;
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

/// Reads `n` events, counting `lagged` notices apart: (seqs, notices).
async fn read_events(client: &mut SseClient, n: usize) -> (Vec<i64>, usize) {
    let mut seqs = Vec::new();
    let mut lagged = 0;
    while seqs.len() < n {
        let m = client.take(1).await.remove(0);
        match m.event.as_deref() {
            Some("lagged") => lagged += 1,
            _ => seqs.push(m.id.unwrap().parse::<i64>().unwrap()),
        }
    }
    (seqs, lagged)
}

/// A client that falls out of the in-memory window is told so, then
/// gets what it missed from the store: every event, in order, no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_behind_the_window_is_told_and_resynchronised_from_the_store() {
    // More than the sockets between them buffer (several MiB on
    // loopback), so the server cannot hand it all over while in the window.
    const EVENTS: usize = 20_000;
    let server = start_with("lagged", |o| o.stream_window = 200).await;
    let url = server.url("/api/v1/stream");
    let mut stuck = SseClient::connect(&url, &[]).await;
    // Up to date once: it has received an event live.
    server.write(1).await;
    let first = stuck.take(1).await[0]
        .id
        .clone()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    for _ in 0..EVENTS / 1000 {
        server.write(1000).await;
    }
    // Only now does it read on: the window holds the last 200 at most.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (seqs, lagged) = read_events(&mut stuck, EVENTS).await;
    assert!(lagged >= 1, "told it lagged");
    let expected: Vec<i64> = (first + 1..=first + EVENTS as i64).collect();
    assert_eq!(seqs, expected, "every event after the first, in order");
}

/// The follower polls the store, so an event can be stored and not yet
/// published when a client connects; it happened before the client came
/// and must not reach it as a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stored_just_before_connecting_are_not_sent_as_new() {
    let server = start("just-before", None).await;
    // The follower has caught up once when the first client is served.
    drop(SseClient::connect(&server.url("/api/v1/stream"), &[]).await);
    for _ in 0..5 {
        server.write(3).await; // no pause: the follower has not read them yet
        let mut client = SseClient::connect(&server.url("/api/v1/stream"), &[]).await;
        let new = server.write(1).await;
        let got = client.take(1).await;
        assert_eq!(got.iter().map(correlation_id).collect::<Vec<_>>(), new);
    }
}
