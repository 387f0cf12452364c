//! Request latency through the HTTP correlation layer when storage misbehaves:
//! the same real axum server (127.0.0.1, HTTP/1, keep-alive) is measured
//! three times in one run, with a null sink, a sink that stalls 100 ms per
//! write, and a sink that fails every write. Each request emits four events
//! (`message_received`, an `#[observed]` processor's pair, `response_sent`).
//!
//! Run: `cargo bench --bench http_latency --features http -- --measurement-time 3 --warm-up-time 1`
//! (criterion arguments).
//!
//! Criterion times sequential requests from one client for each sink. Then
//! `OBSERVE_BENCH_ROUNDS` rounds (default 5) of a load loop of
//! `LOAD_REQUESTS` sequential requests per sink record each request's
//! latency; the sinks take turns within a round, so a change in background
//! load (the machine has two cores) hits all three alike, and the ratios are
//! taken within a round, then the median over rounds. The closing table
//! prints, per sink, criterion's mean, the load loops' median p50, p99 and
//! mean, the ratios to the null sink, and the pipeline's totals (a stalled
//! sink makes the bounded queue fill, so most events are dropped and
//! counted: at-most-once, by design; a failing sink opens the breaker and
//! events go to the fallback writer, here `io::sink()`).

use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::get;
use criterion::Criterion;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use observe::http::CorrelationLayer;
use observe::sink::{NullSink, Sink, SinkError};
use observe::{Config, Event, Stats};

/// Sequential requests in the load loop of each sink.
const LOAD_REQUESTS: usize = 5_000;

/// A sink that sleeps 100 ms per write (until told to stop stalling, so that
/// shutdown does not wait for the whole backlog).
#[derive(Clone, Default)]
struct StallingSink {
    released: Arc<AtomicBool>,
}

impl Sink for StallingSink {
    async fn write_batch(&self, _batch: &[Event]) -> Result<(), SinkError> {
        if !self.released.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}

/// A sink that fails every write.
struct FailingSink;

impl Sink for FailingSink {
    async fn write_batch(&self, _batch: &[Event]) -> Result<(), SinkError> {
        Err(SinkError::new("storage is down"))
    }
}

#[derive(Debug)]
struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}

/// The handler's work: one observed processor call.
#[observe::observed(processor = "retrieval", input = query)]
async fn retrieve(query: &str) -> Result<usize, Never> {
    Ok(black_box(query).len())
}

fn app() -> Router {
    Router::new()
        .route(
            "/chat",
            get(|| async {
                match retrieve("opening hours").await {
                    Ok(n) => format!("{n} documents"),
                    Err(e) => e.to_string(),
                }
            }),
        )
        .layer(CorrelationLayer::new())
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// One request, read in full; panics on anything but 200, so a broken
/// server cannot pass for a fast one.
async fn request(client: &HttpClient, uri: &axum::http::Uri) {
    let response = client
        .get(uri.clone())
        .await
        .expect("the request completes");
    assert_eq!(response.status(), 200);
    black_box(
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes(),
    );
}

/// What one sink's run measured.
struct Figures {
    name: &'static str,
    /// Mean over every request criterion timed (warm-up included), in the
    /// first round only.
    criterion_mean: Option<Duration>,
    /// The load loop's latencies, sorted.
    load: Vec<Duration>,
    stats: Stats,
}

impl Figures {
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.load.len() - 1) as f64 * p).round() as usize;
        self.load[i]
    }

    fn mean(&self) -> Duration {
        self.load.iter().sum::<Duration>() / self.load.len() as u32
    }
}

/// Installs the pipeline with `sink`, serves the app, measures (with
/// criterion when `c` is given, then with the load loop), tears down.
fn run_case<S: Sink>(
    c: Option<&mut Criterion>,
    runtime: &tokio::runtime::Runtime,
    name: &'static str,
    sink: S,
    after: impl FnOnce(),
) -> Figures {
    let guard = observe::init(
        Config::default()
            .sink(sink)
            .fallback(std::io::sink())
            .diagnostics(std::io::sink())
            .shutdown_timeout(Duration::from_secs(2)),
    )
    .expect("no other pipeline is installed");
    let (addr, server) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let server = tokio::spawn(async move { axum::serve(listener, app()).await });
        (addr, server)
    });
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let uri: axum::http::Uri = format!("http://{addr}/chat").parse().expect("uri");

    let mut timed = (Duration::ZERO, 0u64);
    if let Some(c) = c {
        c.bench_function(&format!("http_latency/{name}"), |b| {
            b.iter_custom(|iters| {
                let elapsed = runtime.block_on(timed_loop(iters, || request(&client, &uri)));
                timed.0 += elapsed;
                timed.1 += iters;
                elapsed
            });
        });
    }

    let mut load = runtime.block_on(async {
        let mut load = Vec::with_capacity(LOAD_REQUESTS);
        for _ in 0..LOAD_REQUESTS {
            let start = Instant::now();
            request(&client, &uri).await;
            load.push(start.elapsed());
        }
        load
    });
    load.sort_unstable();
    let stats = observe::stats();

    server.abort();
    drop(client);
    after();
    drop(guard);
    Figures {
        name,
        criterion_mean: (timed.1 > 0).then(|| timed.0 / u32::try_from(timed.1).unwrap_or(u32::MAX)),
        load,
        stats,
    }
}

/// Runs `iters` sequential requests; returns the time they took.
async fn timed_loop<F: Future<Output = ()>>(iters: u64, mut one: impl FnMut() -> F) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        one().await;
    }
    start.elapsed()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `rounds[r][s]`: round `r`, sink `s` (null first).
fn report(rounds: &[Vec<Figures>]) {
    let sinks = rounds[0].len();
    println!();
    println!(
        "request latency, sequential GET on 127.0.0.1: criterion, then {} rounds x {LOAD_REQUESTS} requests per sink (sinks interleaved per round; medians over rounds)",
        rounds.len()
    );
    println!(
        "{:<8} {:>15} {:>10} {:>10} {:>10} {:>10} {:>12} {:>11} {:>11} {:>10} {:>11} {:>10} {:>10}",
        "sink",
        "criterion mean",
        "p50",
        "p99",
        "mean",
        "ratio crit",
        "ratio p50",
        "ratio mean",
        "written",
        "fallen back",
        "dropped",
        "pending",
        "emitted",
    );
    let null_criterion = rounds[0][0].criterion_mean.map_or(f64::NAN, us);
    for s in 0..sinks {
        let first = &rounds[0][s];
        let p50 = median(rounds.iter().map(|r| us(r[s].percentile(0.5))).collect());
        let p99 = median(rounds.iter().map(|r| us(r[s].percentile(0.99))).collect());
        let mean = median(rounds.iter().map(|r| us(r[s].mean())).collect());
        let ratio_p50 = median(
            rounds
                .iter()
                .map(|r| us(r[s].percentile(0.5)) / us(r[0].percentile(0.5)))
                .collect(),
        );
        let ratio_mean = median(
            rounds
                .iter()
                .map(|r| us(r[s].mean()) / us(r[0].mean()))
                .collect(),
        );
        let criterion = first.criterion_mean.map_or(f64::NAN, us);
        let total = |f: fn(&Stats) -> u64| rounds.iter().map(|r| f(&r[s].stats)).sum::<u64>();
        println!(
            "{:<8} {:>12.1} us {:>7.1} us {:>7.1} us {:>7.1} us {:>10.3} {:>12.3} {:>11.3} {:>11} {:>10} {:>11} {:>10} {:>10}",
            first.name,
            criterion,
            p50,
            p99,
            mean,
            criterion / null_criterion,
            ratio_p50,
            ratio_mean,
            total(|s| s.written),
            total(|s| s.fallen_back),
            total(|s| s.dropped),
            total(|s| s.pending),
            total(|s| s.emitted),
        );
    }
    println!(
        "(pipeline totals summed over the rounds, read when each load loop ended, before shutdown delivered what was pending; round 1 includes criterion's requests)"
    );
}

/// Load-loop rounds; `OBSERVE_BENCH_ROUNDS` overrides.
fn rounds() -> usize {
    std::env::var("OBSERVE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5)
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let mut all = Vec::new();
    for round in 0..rounds() {
        let mut criterion = (round == 0).then_some(&mut c);
        let stalling = StallingSink::default();
        let released = stalling.released.clone();
        all.push(vec![
            run_case(criterion.as_deref_mut(), &runtime, "null", NullSink, || {}),
            run_case(
                criterion.as_deref_mut(),
                &runtime,
                "stalled",
                stalling,
                move || {
                    // Let shutdown drain the backlog instead of waiting
                    // 100 ms a write.
                    released.store(true, Ordering::Relaxed);
                },
            ),
            run_case(criterion, &runtime, "failing", FailingSink, || {}),
        ]);
    }
    c.final_summary();
    report(&all);
}
