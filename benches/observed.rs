//! Cost of one empty `#[observed]` call (a started and a terminal event)
//! next to the same function under `fastrace::trace` and
//! `tracing::instrument` (registry only, and a JSON subscriber on a
//! non-blocking writer that writes the span's open and close), in the same
//! run; and the same call with no pipeline installed.
//!
//! Run: `cargo bench --bench observed -- --measurement-time 3 --warm-up-time 1`.
//! The closing lines print the ratios. Budget (DESIGN.md): at or below
//! fastrace, at least 20x cheaper than tracing with JSON output.

mod common;

use std::hint::black_box;

use common::{DiscardReporter, chunked};
use criterion::Criterion;
use fastrace::collector::Config as FastraceConfig;
use observe::CorrelationContext;

#[observe::observed(processor = "retrieval")]
#[inline(never)]
fn observed_empty() {
    black_box(());
}

#[fastrace::trace]
#[inline(never)]
fn fastrace_empty() {
    black_box(());
}

#[tracing::instrument]
#[inline(never)]
fn tracing_empty() {
    black_box(());
}

fn calls(c: &mut Criterion) {
    let mut group = c.benchmark_group("observed_call");
    let request = CorrelationContext::new_root();

    group.bench_function("observed_no_pipeline", |b| {
        request.in_scope(|| b.iter(observed_empty))
    });

    let guard = common::null_pipeline();
    group.bench_function("observed", |b| {
        b.iter_custom(|iters| {
            request.in_scope(|| chunked(iters, observed_empty, common::flush_all))
        })
    });
    common::assert_nothing_dropped();
    drop(guard);

    fastrace::set_reporter(DiscardReporter, FastraceConfig::default());
    group.bench_function("fastrace_trace", |b| {
        b.iter_custom(|iters| common::in_fastrace_root(iters, fastrace_empty))
    });
    fastrace::flush();

    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        group.bench_function("tracing_instrument_registry", |b| b.iter(tracing_empty));
    });

    let (json, _appender_guard) = common::tracing_json();
    tracing::subscriber::with_default(json, || {
        group.bench_function("tracing_instrument_json_non_blocking", |b| {
            b.iter(tracing_empty)
        });
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    calls(&mut c);
    c.final_summary();
    common::print_ratios(
        "observed_call",
        "observed",
        &[
            "fastrace_trace",
            "tracing_instrument_registry",
            "tracing_instrument_json_non_blocking",
            "observed_no_pipeline",
        ],
    );
}
