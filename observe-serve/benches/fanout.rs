//! The live stream's fan-out, over real connections on 127.0.0.1: how fast
//! the store's writer goes while 0, 1, 10 and 100 clients follow the
//! stream (criterion; the peer is the writer with no client, in the same
//! run), and for 1, 10 and 100 clients the events per second delivered to
//! all of them and the latency from a batch's commit to each receipt (p50,
//! p99, three rounds each).
//!
//! Run: `cargo bench -p observe-serve --bench fanout -- --warm-up-time 1
//! --measurement-time 3` (`FANOUT_ROUNDS=0` for the writer part only).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Harness, SseClient, start_on};
use criterion::Criterion;
use observe_core::delivery::sink::Sink;
use observe_core::{CorrelationContext, Event, EventType};
use tokio::runtime::{Handle, Runtime};

/// Events per write, as a pipeline batch would be.
const BATCH: usize = 200;
/// Events per latency round (a tenth when not run by `cargo bench`, as
/// when `cargo test --benches` checks that the bench works).
fn round_events() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        10_000
    } else {
        1_000
    }
}

fn batch() -> Vec<Event> {
    (0..BATCH)
        .map(|_| Event::new(EventType::MessageReceived, &CorrelationContext::new_root()))
        .collect()
}

/// Clients that read the stream until closed, counting what they get.
/// (They are aborted at the end: a timeout around `next` would drop a
/// half-read frame whenever a busy client waited long.)
struct Readers {
    received: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Readers {
    async fn connect(server: &Harness, n: usize) -> Readers {
        let received = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..n {
            let mut client = SseClient::connect(&server.url("/api/v1/stream"), &[]).await;
            let received = Arc::clone(&received);
            tasks.push(tokio::spawn(async move {
                while let Some(n) = client.count().await {
                    received.fetch_add(n as u64, Ordering::Relaxed);
                }
            }));
        }
        Readers { received, tasks }
    }

    async fn close(self) {
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
    }
}

/// One latency round: `round_events()` events written as fast as the store takes
/// them while `clients` read; returns (events/s delivered to all clients,
/// p50, p99 of commit-to-receipt in microseconds).
async fn latency_round(server_runtime: &Handle, clients: usize, name: &str) -> (f64, u64, u64) {
    let events = round_events();
    let server = start_on(server_runtime, name, |_| {}).await;
    let started = Instant::now();
    let mut readers = Vec::new();
    for _ in 0..clients {
        let mut client = SseClient::connect(&server.url("/api/v1/stream"), &[]).await;
        readers.push(tokio::spawn(async move {
            let mut got = Vec::with_capacity(events);
            while got.len() < events {
                let m = tokio::time::timeout(Duration::from_secs(60), client.next())
                    .await
                    .expect("an event within 60 s")
                    .expect("open");
                if let Some(seq) = m.id.and_then(|id| id.parse::<u64>().ok()) {
                    got.push((seq, started.elapsed()));
                }
            }
            got
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let writing = started.elapsed();
    // A fresh store numbers its rows from 1: batch k holds seqs
    // k * BATCH + 1 ..= (k + 1) * BATCH.
    let mut committed = Vec::with_capacity(events / BATCH);
    for _ in 0..events / BATCH {
        server.sink.write_batch(&batch()).await.expect("written");
        committed.push(started.elapsed());
    }
    let mut latencies = Vec::with_capacity(clients * events);
    let mut last = writing;
    for reader in readers {
        for (seq, at) in reader.await.expect("a reader") {
            let commit = committed[((seq - 1) as usize / BATCH).min(committed.len() - 1)];
            latencies.push(at.saturating_sub(commit).as_micros() as u64);
            last = last.max(at);
        }
    }
    latencies.sort_unstable();
    let pick = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let rate = (clients * events) as f64 / (last - writing).as_secs_f64();
    (rate, pick(50), pick(99))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // The server runs as `observe serve` does: on its own runtime, at a
    // lower priority than the writer (the application) and the clients.
    let server_runtime = observe_serve::runtime(observe_serve::DEFAULT_NICE).expect("a runtime");
    let mut c = Criterion::default().configure_from_args();
    let mut writer_ns = Vec::new();
    for clients in [0, 1, 10, 100] {
        let server = runtime.block_on(start_on(
            server_runtime.handle(),
            &format!("bench-writer-{clients}"),
            |_| {},
        ));
        let readers = runtime.block_on(Readers::connect(&server, clients));
        let mut group = c.benchmark_group("writer_with_clients");
        group.throughput(criterion::Throughput::Elements(BATCH as u64));
        let mut total = Duration::ZERO;
        let mut batches = 0u64;
        let mut per_batch = Vec::new();
        group.bench_function(format!("{clients} clients"), |b| {
            b.iter_custom(|iters| {
                let elapsed = write_batches(&runtime, &server, iters);
                total += elapsed;
                batches += iters;
                per_batch.push(elapsed.as_nanos() as f64 / iters as f64);
                elapsed
            })
        });
        per_batch.sort_by(f64::total_cmp);
        let median = per_batch[per_batch.len() / 2];
        group.finish();
        let received = readers.received.load(Ordering::Relaxed);
        runtime.block_on(readers.close());
        writer_ns.push((
            clients,
            total.as_nanos() as f64 / batches as f64,
            median,
            received,
        ));
        drop(server);
    }
    let (alone, alone_median) = (writer_ns[0].1, writer_ns[0].2);
    println!(
        "\nwriter throughput while clients follow the stream (over every sample; \
         the median sample leaves out the odd WAL checkpoint):"
    );
    for (clients, ns, median, received) in &writer_ns {
        println!(
            "  {clients:>3} clients  {:>9.0} events/s  {:.2}x the time with no client (mean), {:.2}x (median sample)  ({received} events delivered)",
            BATCH as f64 * 1e9 / ns,
            ns / alone,
            median / alone_median,
        );
    }
    if std::env::var("FANOUT_ROUNDS").as_deref() == Ok("0") {
        c.final_summary();
        return;
    }
    println!(
        "\nfan-out of {} events written as fast as the store takes them, 3 rounds:",
        round_events()
    );
    for clients in [1, 10, 100] {
        let rounds: Vec<(f64, u64, u64)> = (0..3)
            .map(|r| {
                runtime.block_on(latency_round(
                    server_runtime.handle(),
                    clients,
                    &format!("bench-fanout-{clients}-{r}"),
                ))
            })
            .collect();
        let show = |f: &dyn Fn(&(f64, u64, u64)) -> String| {
            rounds.iter().map(f).collect::<Vec<_>>().join(" / ")
        };
        println!(
            "  {clients:>3} clients  delivered {} events/s   p50 {} ms   p99 {} ms",
            show(&|r| format!("{:.0}", r.0)),
            show(&|r| format!("{:.1}", r.1 as f64 / 1000.0)),
            show(&|r| format!("{:.1}", r.2 as f64 / 1000.0)),
        );
    }
    c.final_summary();
}

/// Writes `iters` batches to the server's store; the time it took.
fn write_batches(runtime: &Runtime, server: &Harness, iters: u64) -> Duration {
    let batches: Vec<Vec<Event>> = (0..iters).map(|_| batch()).collect();
    runtime.block_on(async {
        let start = Instant::now();
        for batch in &batches {
            server.sink.write_batch(batch).await.expect("written");
        }
        start.elapsed()
    })
}
