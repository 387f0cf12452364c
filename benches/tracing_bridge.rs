//! Cost of one `tracing` span (created, entered, exited, closed, with one
//! field) through `observe::tracing::ObserveLayer` into the pipeline (null
//! sink), next to the same span under `tracing_subscriber`'s JSON formatter
//! on a non-blocking writer (its open and close written), in the same run;
//! and under the bare registry, which both pay.
//!
//! Run: `cargo bench --bench tracing_bridge --features tracing -- --measurement-time 3 --warm-up-time 1`.
//! Budget: at least 5x cheaper than the JSON formatter. The closing lines
//! print the ratios. `tracing-opentelemetry` is not compared: it would
//! bring the OpenTelemetry SDK into the build for one row.

mod common;

use std::hint::black_box;

use common::chunked;
use criterion::Criterion;
use observe::CorrelationContext;
use tracing_subscriber::layer::SubscriberExt;

#[inline(never)]
fn one_span() {
    let span = tracing::info_span!("db_query", table = "orders");
    span.in_scope(|| black_box(()));
}

fn spans(c: &mut Criterion) {
    let mut group = c.benchmark_group("tracing_span");
    let request = CorrelationContext::new_root();

    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        group.bench_function("registry_only", |b| b.iter(one_span));
    });

    let guard = common::null_pipeline();
    let bridged = tracing_subscriber::registry().with(observe::tracing::ObserveLayer::new());
    tracing::subscriber::with_default(bridged, || {
        group.bench_function("observe_layer", |b| {
            b.iter_custom(|iters| request.in_scope(|| chunked(iters, one_span, common::flush_all)))
        });
    });
    common::assert_nothing_dropped();
    common::flush_all();
    drop(guard);

    let (json, _appender_guard) = common::tracing_json();
    tracing::subscriber::with_default(json, || {
        group.bench_function("json_non_blocking", |b| b.iter(one_span));
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    spans(&mut c);
    c.final_summary();
    common::print_ratios(
        "tracing_span",
        "observe_layer",
        &["json_non_blocking", "registry_only"],
    );
}
