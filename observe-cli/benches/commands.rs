//! The `observe` command against a SQLite store of 1,000,000 events, timed
//! end to end as a user meets it: one whole process per sample (start,
//! open the store, query, print to a pipe, exit). The peer in the same run
//! is `observe --version`, a process that starts and exits and touches no
//! store: what is left above it is the command's own work. The issue's
//! budget is 200 ms for `observe traces` and `observe trace`.
//!
//! Run: `cargo bench -p observe-cli --bench commands -- --warm-up-time 1
//! --measurement-time 5`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use criterion::Criterion;
use observe::store::SqliteSink;

#[allow(dead_code)]
#[path = "../../benches/common/requests.rs"]
mod requests;

const STORE_EVENTS: usize = 1_000_000;
const BUDGET_MS: f64 = 200.0;

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("observe-bench-cli-{}", std::process::id()))
}

/// Runs `observe` with `args` on the store; its output goes to a pipe that
/// is read to the end, as a terminal or `| less` would.
fn observe(store: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_observe"))
        .arg("--store")
        .arg(format!("sqlite://{}", store.display()))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("runs observe");
    assert!(
        output.status.success(),
        "observe {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.stdout.is_empty(),
        "observe {args:?} printed nothing"
    );
}

fn main() {
    let dir = scratch();
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let store = dir.join("million.db");
    let started = Instant::now();
    let ids = requests::fill(&SqliteSink::open(&store).expect("opens"), STORE_EVENTS);
    println!(
        "filled SQLite with {STORE_EVENTS} events in {:.1?}",
        started.elapsed()
    );
    let id = ids[ids.len() / 2].to_string();
    let commands: [(&str, Vec<&str>); 7] = [
        ("version (peer)", vec!["--version"]),
        ("traces", vec!["traces"]),
        ("traces --errors", vec!["traces", "--errors"]),
        ("trace ID", vec!["trace", &id]),
        ("trace latest-error", vec!["trace", "latest-error"]),
        ("tail", vec!["tail"]),
        ("stats --since 1h", vec!["stats", "--since", "1h"]),
    ];
    let mut c = Criterion::default().configure_from_args();
    let mut means = Vec::new();
    for (name, args) in &commands {
        let mut group = c.benchmark_group("observe_1m");
        group.sample_size(20);
        let mut total = std::time::Duration::ZERO;
        let mut runs = 0u32;
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    observe(&store, args);
                }
                let took = start.elapsed();
                total += took;
                runs += iters as u32;
                took
            })
        });
        group.finish();
        means.push((*name, total.as_secs_f64() * 1e3 / f64::from(runs.max(1))));
    }
    c.final_summary();
    let peer = means[0].1;
    println!(
        "\nwhole-process time on {STORE_EVENTS} events (mean over every sample; budget {BUDGET_MS} ms):"
    );
    for (name, ms) in &means {
        println!(
            "  observe {name:<20} {ms:>8.1} ms  {:>5.1}x the peer  {:>4.2}x the budget",
            ms / peer,
            ms / BUDGET_MS
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
