//! What the `Err` path and the `input = ...` path of an `#[observed]` call
//! cost, next to the plain (`Ok`) path and next to `tracing`'s
//! `#[instrument(err)]` (which records the arguments and the error) with a
//! JSON subscriber on a non-blocking writer, in the same run; and the same
//! three paths with no pipeline installed, where the runtime captures
//! nothing (no preview, no error message, no stack).
//!
//! Run: `cargo bench --bench observed_paths -- --measurement-time 3 --warm-up-time 1`.
//! The closing lines print the ratios.

mod common;

use std::fmt;
use std::hint::black_box;

use common::chunked;
use criterion::Criterion;
use observe::CorrelationContext;

/// The error the `Err` paths return.
#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the index refused the query")
    }
}

impl std::error::Error for Refused {}

const QUERY: &str = "where is my order 1234, it was due on Monday";

#[observe::observed(processor = "retrieval")]
#[inline(never)]
fn observed_ok(query: &str) -> Result<usize, Refused> {
    Ok(black_box(query).len())
}

#[observe::observed(processor = "retrieval")]
#[inline(never)]
fn observed_err(query: &str) -> Result<usize, Refused> {
    black_box(query);
    Err(Refused)
}

#[observe::observed(processor = "retrieval", input = query)]
#[inline(never)]
fn observed_input(query: &str) -> Result<usize, Refused> {
    Ok(black_box(query).len())
}

#[tracing::instrument(err)]
#[inline(never)]
fn tracing_ok(query: &str) -> Result<usize, Refused> {
    Ok(black_box(query).len())
}

#[tracing::instrument(err)]
#[inline(never)]
fn tracing_err(query: &str) -> Result<usize, Refused> {
    black_box(query);
    Err(Refused)
}

type Path = fn(&str) -> Result<usize, Refused>;

const OBSERVED: [(&str, Path); 3] = [
    ("ok", observed_ok),
    ("err", observed_err),
    ("input", observed_input),
];

fn paths(c: &mut Criterion) {
    let mut group = c.benchmark_group("observed_paths");
    let request = CorrelationContext::new_root();

    for (name, path) in OBSERVED {
        group.bench_function(format!("observed_{name}_no_pipeline"), |b| {
            request.in_scope(|| b.iter(|| path(black_box(QUERY))))
        });
    }

    let guard = common::null_pipeline();
    for (name, path) in OBSERVED {
        group.bench_function(format!("observed_{name}"), |b| {
            b.iter_custom(|iters| {
                request.in_scope(|| {
                    chunked(
                        iters,
                        || {
                            let _ = black_box(path(black_box(QUERY)));
                        },
                        common::flush_all,
                    )
                })
            })
        });
    }
    common::assert_nothing_dropped();
    // Our worker is idle before a peer is timed.
    common::flush_all();
    drop(guard);

    let (json, _appender_guard) = common::tracing_json();
    tracing::subscriber::with_default(json, || {
        group.bench_function("tracing_instrument_err_json_ok", |b| {
            b.iter(|| tracing_ok(black_box(QUERY)))
        });
        group.bench_function("tracing_instrument_err_json_err", |b| {
            b.iter(|| tracing_err(black_box(QUERY)))
        });
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    paths(&mut c);
    c.final_summary();
    common::print_ratios(
        "observed_paths",
        "observed_ok",
        &[
            "observed_err",
            "observed_input",
            "tracing_instrument_err_json_ok",
        ],
    );
    common::print_ratios(
        "observed_paths",
        "observed_err",
        &[
            "tracing_instrument_err_json_err",
            "observed_err_no_pipeline",
        ],
    );
    common::print_ratios(
        "observed_paths",
        "observed_ok_no_pipeline",
        &["observed_err_no_pipeline", "observed_input_no_pipeline"],
    );
}
