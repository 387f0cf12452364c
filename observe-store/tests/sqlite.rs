//! The SQLite backend against real files: the shared conformance checks,
//! then what is SQLite's own (permissions, WAL, migrations, bad files).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{block_on, conformance, request, tmp_dir};
use observe_core::Outcome;
use observe_core::delivery::sink::files::Access;
use observe_store::{EventStore, SqliteSink, SqliteStore, Store, StoreError, StoreUrl};

fn open(name: &str) -> (SqliteSink, SqliteStore, std::path::PathBuf) {
    let path = tmp_dir(name).join("events.db");
    let sink = SqliteSink::open(&path).expect("the sink opens");
    let store = SqliteStore::open(&path).expect("the store opens");
    (sink, store, path)
}

macro_rules! conformance {
    ($($check:ident),*) => {$(
        #[test]
        fn $check() {
            let (sink, store, _) = open(stringify!($check));
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

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn database_wal_and_directories_are_owner_only() {
    let root = tmp_dir("modes");
    let path = root.join("a/b/events.db");
    let sink = SqliteSink::open(&path).expect("opens");
    block_on(observe_core::delivery::sink::Sink::write_batch(
        &sink,
        &request(1, &[("llm", Outcome::Ok)]),
    ))
    .expect("writes");
    for file in ["events.db", "events.db-wal", "events.db-shm"] {
        assert_eq!(mode(&root.join("a/b").join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&root.join("a")), 0o700);
    assert_eq!(mode(&root.join("a/b")), 0o700);
    let shared = root.join("shared/events.db");
    let _open = SqliteSink::open_with(&shared, Access::Umask).expect("opens");
    assert_ne!(mode(&shared), 0o600, "configured otherwise");
}

#[test]
fn wal_mode_is_on() {
    let (_sink, _store, path) = open("wal");
    let conn = rusqlite::Connection::open(&path).expect("opens");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("a mode");
    assert_eq!(mode, "wal");
}

#[test]
fn migrations_are_recorded_once_and_reopening_keeps_the_data() {
    let (sink, _store, path) = open("reopen");
    let events = request(1, &[("llm", Outcome::Ok)]);
    block_on(observe_core::delivery::sink::Sink::write_batch(
        &sink, &events,
    ))
    .expect("writes");
    drop(sink);
    let store = SqliteStore::open(&path).expect("reopens");
    let _again = SqliteSink::open(&path).expect("reopens");
    assert_eq!(
        block_on(store.after(0, 100)).expect("reads").events.len(),
        events.len()
    );
    let conn = rusqlite::Connection::open(&path).expect("opens");
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM observe_migrations")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, [1, 2]);
}

#[test]
fn a_store_written_by_layout_1_is_migrated_and_keeps_its_rows() {
    let path = tmp_dir("layout_1").join("events.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&path).expect("creates");
    conn.execute_batch(include_str!("fixtures/sqlite-layout-1.sql"))
        .expect("the layout-1 store");
    drop(conn);
    conformance::migrates_layout_1(|| {
        (
            SqliteSink::open(&path).expect("migrates"),
            SqliteStore::open(&path).expect("opens"),
        )
    });
    let conn = rusqlite::Connection::open(&path).expect("opens");
    let versions: i64 = conn
        .query_row("SELECT max(version) FROM observe_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(versions, 2);
}

#[test]
fn a_newer_layout_is_refused_and_left_untouched() {
    let (sink, _store, path) = open("newer");
    drop(sink);
    let conn = rusqlite::Connection::open(&path).expect("opens");
    conn.execute_batch(
        "INSERT INTO observe_migrations VALUES (3, 0); CREATE TABLE from_the_future (x INTEGER);",
    )
    .expect("a newer layout");
    drop(conn);
    conformance::assert_refused_as_newer(SqliteSink::open(&path).err());
    conformance::assert_refused_as_newer(SqliteStore::open(&path).err());
    let conn = rusqlite::Connection::open(&path).expect("opens");
    let versions: i64 = conn
        .query_row("SELECT count(*) FROM observe_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(versions, 3, "nothing was written");
}

#[test]
fn a_corrupt_file_is_a_clear_error() {
    let dir = tmp_dir("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let error = SqliteSink::open(&path).expect_err("refused");
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("is not a readable SQLite database"),
        "{error}"
    );
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
}

#[test]
fn a_read_only_directory_is_a_clear_error_at_open() {
    // /proc/self is read-only even for root, unlike a chmod'ed directory.
    let path = Path::new("/proc/self/observe-events.db");
    let error = SqliteSink::open(path).expect_err("refused");
    assert!(matches!(error, StoreError::Io { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("cannot create the event store `/proc/self/observe-events.db`"),
        "{text}"
    );
}

#[test]
fn a_missing_store_is_not_created_by_reading() {
    let path = tmp_dir("missing").join("events.db");
    let error = Store::open(&StoreUrl::sqlite(&path))
        .err()
        .expect("refused");
    assert!(matches!(error, StoreError::Missing { .. }), "{error}");
    assert!(!path.exists());
}

#[test]
fn unknown_event_types_are_skipped_and_counted_and_newer_rows_reported() {
    let (sink, store, path) = open("compat");
    let conn = rusqlite::Connection::open(&path).expect("opens");
    conformance::compatibility(&sink, &store, |sql| {
        conn.execute(sql, []).expect("the SQL runs");
    });
}
