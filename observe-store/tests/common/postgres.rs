//! The test PostgreSQL server (started by `scripts/test-postgres.sh`): its
//! URL, and a fresh database per test. Shared with observe-cli's tests,
//! which include this file by path.

/// The test server's URL, from `OBSERVE_TEST_POSTGRES_URL` (set by
/// `scripts/test-postgres.sh` and `.ci/run`). Without it the test says it
/// is skipped, and fails when `CI` is set.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("OBSERVE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "{test}: OBSERVE_TEST_POSTGRES_URL is not set, and CI must run the PostgreSQL tests (see scripts/test-postgres.sh)"
            )
        }
        _ => {
            eprintln!(
                "{test}: SKIPPED, OBSERVE_TEST_POSTGRES_URL is not set (run the tests through scripts/test-postgres.sh run ...)"
            );
            None
        }
    }
}

/// A new, empty database on the test server, for one test; its URL.
pub fn postgres_database(test: &str) -> Option<String> {
    let admin = postgres_url(test)?;
    let name = format!(
        "observe_{}_{}",
        test.replace(['-', ':'], "_"),
        std::process::id()
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .expect("the test server accepts connections");
            tokio::spawn(connection);
            for sql in [
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ] {
                client.batch_execute(&sql).await.expect("a test database");
            }
        });
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
    Some(format!("{base}/{name}"))
}
