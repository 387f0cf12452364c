//! The PostgreSQL backend against a real server (`OBSERVE_TEST_POSTGRES_URL`,
//! started by `scripts/test-postgres.sh` or `.ci/run`): the shared
//! conformance checks, then what is PostgreSQL's own.

mod common;

use common::{
    block_on, conformance, postgres_database, postgres_sql, postgres_url, postgres_value, request,
};
use observe_core::Outcome;
use observe_core::delivery::sink::Sink;
use observe_store::{EventStore, PostgresSink, PostgresStore, StoreError};

macro_rules! conformance {
    ($($check:ident),*) => {$(
        #[test]
        fn $check() {
            let Some(url) = postgres_database(stringify!($check)) else { return };
            let sink = PostgresSink::connect(&url).expect("the sink connects");
            let store = PostgresStore::connect(&url).expect("the store connects");
            conformance::$check(&sink, &store);
        }
    )*};
}

conformance!(
    round_trip,
    idempotent,
    chain,
    traces,
    tail,
    tail_backwards,
    event_counts,
    processor_stats,
    retain
);

#[test]
fn column_types_are_the_documented_ones() {
    let Some(url) = postgres_database("column_types") else {
        return;
    };
    let _sink = PostgresSink::connect(&url).expect("connects");
    let types = postgres_value(
        &url,
        "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
         FROM information_schema.columns WHERE table_name = 'events'",
    );
    assert_eq!(
        types,
        "seq bigint, schema_version integer, event_id uuid, event_type text, \
         timestamp timestamp with time zone, correlation_id uuid, span_id text, parent_span_id text, \
         processor text, duration_us bigint, outcome text, payload json, service_name text"
    );
}

#[test]
fn migrations_run_once_under_concurrent_opens() {
    let Some(url) = postgres_database("concurrent_migrations") else {
        return;
    };
    let opened: Vec<Result<PostgresSink, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| PostgresSink::connect(&url)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    assert!(
        opened.iter().all(Result::is_ok),
        "{:?}",
        opened
            .iter()
            .filter_map(|r| r.as_ref().err())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        postgres_value(&url, "SELECT count(*) FROM observe_migrations"),
        "2"
    );
}

#[test]
fn a_store_written_by_layout_1_is_migrated_and_keeps_its_rows() {
    let Some(url) = postgres_database("layout_1") else {
        return;
    };
    postgres_sql(&url, include_str!("fixtures/postgres-layout-1.sql"));
    conformance::migrates_layout_1(|| {
        (
            PostgresSink::connect(&url).expect("migrates"),
            PostgresStore::connect(&url).expect("connects"),
        )
    });
    assert_eq!(
        postgres_value(&url, "SELECT max(version) FROM observe_migrations"),
        "2"
    );
}

#[test]
fn a_newer_layout_is_refused_and_nothing_is_written() {
    let Some(url) = postgres_database("newer_layout") else {
        return;
    };
    drop(PostgresSink::connect(&url).expect("connects"));
    postgres_sql(&url, "INSERT INTO observe_migrations (version) VALUES (3)");
    let password = url.split(['@', ':']).nth(2).unwrap_or("?").to_owned();
    for error in [
        PostgresSink::connect(&url).err(),
        PostgresStore::connect(&url).err(),
    ] {
        assert!(!format!("{error:?}").contains(&password));
        conformance::assert_refused_as_newer(error);
    }
    assert_eq!(postgres_value(&url, "SELECT count(*) FROM events"), "0");
}

#[test]
fn a_wrong_password_is_a_clear_error_without_the_password() {
    let Some(url) = postgres_url("wrong_password") else {
        return;
    };
    let (user, rest) = url.split_once("://").unwrap().1.split_once('@').unwrap();
    let user = user.split(':').next().unwrap();
    let wrong = format!("postgres://{user}:not-the-Passw0rd@{rest}");
    let error = PostgresSink::connect(&wrong).expect_err("refused");
    let text = error.to_string();
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(!text.contains("not-the-Passw0rd"), "{text}");
    assert!(text.contains(&format!("postgres://{user}:***@")), "{text}");
}

#[test]
fn a_server_that_is_not_there_is_a_clear_error() {
    if postgres_url("no_server").is_none() {
        return;
    }
    // Port 1 on loopback: nothing listens there.
    let error = PostgresStore::connect("postgres://app:secret1@127.0.0.1:1/events")
        .err()
        .expect("refused");
    let text = error.to_string();
    assert!(
        text.contains("PostgreSQL store `postgres://app:***@127.0.0.1:1/events`"),
        "{text}"
    );
    assert!(!text.contains("secret1"), "{text}");
}

#[test]
fn unknown_event_types_are_skipped_and_counted_and_newer_rows_reported() {
    let Some(url) = postgres_database("compat") else {
        return;
    };
    let sink = PostgresSink::connect(&url).expect("connects");
    let store = PostgresStore::connect(&url).expect("connects");
    conformance::compatibility(&sink, &store, |sql| {
        postgres_sql(&url, sql);
    });
}

#[test]
fn seq_is_increasing_in_commit_order_across_sinks() {
    let Some(url) = postgres_database("seq_order") else {
        return;
    };
    let sinks: Vec<PostgresSink> = (0..3)
        .map(|_| PostgresSink::connect(&url).expect("connects"))
        .collect();
    std::thread::scope(|scope| {
        for sink in &sinks {
            scope.spawn(move || {
                for i in 0..20 {
                    block_on(sink.write_batch(&request(i, &[("llm", Outcome::Ok)])))
                        .expect("writes");
                }
            });
        }
    });
    let store = PostgresStore::connect(&url).expect("connects");
    let tail = block_on(store.after(0, 10_000)).expect("reads");
    assert_eq!(tail.events.len(), 3 * 20 * 4);
    assert!(tail.events.windows(2).all(|w| w[0].seq < w[1].seq));
}
