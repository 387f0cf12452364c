//! The live stream's fan-out, over real connections on 127.0.0.1.
//!
//! - The writer's time per event while 0, 1, 10 and 100 clients follow the
//!   stream: the four setups are timed in interleaved rounds (the peer, no
//!   client, in the same run and between the others), each round only once
//!   every client of every setup has received everything written so far,
//!   and compared fastest round against fastest round (the median round
//!   beside it).
//! - For 1, 10 and 100 clients, the events per second delivered to all of
//!   them and the latency from a batch's commit to each receipt (p50, p99,
//!   three rounds each).
//!
//! Run: `cargo bench -p observe-serve --bench fanout` (`FANOUT_ROUNDS=0`
//! for the writer part only, `FANOUT_CLIENT_NICE=0` to run the writer
//! part's clients at the writer's priority).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Harness, SseClient, start_on};
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

/// Writer rounds per setup, interleaved (each round times every setup
/// once, in a shuffled order), and batches per round.
const WRITER_ROUNDS: usize = 15;
const BATCHES_PER_ROUND: u64 = 250;
/// Batches written to each store before its clients connect.
const WARM_UP_BATCHES: u64 = 250;

/// A server with `clients` stream clients connected, for the writer part.
struct Setup {
    /// The clients that read (all but the stuck one).
    clients: usize,
    /// No client, but a thread at nice 19 keeps the other core busy while
    /// the writer writes: the floor a busy core sets on this machine.
    spin: bool,
    server: Harness,
    /// With the 100 clients, one more that connects and never reads.
    stuck: Option<SseClient>,
    readers: Readers,
    /// Events written to this server's store so far.
    written: u64,
    /// Each round's writer time per event, in nanoseconds.
    rounds: Vec<f64>,
}

impl Setup {
    /// Waits until every client has received every event written so far,
    /// so that no round is timed while another's clients still read.
    fn wait_drained(&self) {
        let want = self.written * self.clients as u64;
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.readers.received.load(Ordering::Relaxed) < want {
            assert!(
                Instant::now() < deadline,
                "{} clients: {} of {want} events delivered after 120 s",
                self.clients,
                self.readers.received.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // The server runs as `observe serve` does: on its own runtime, at a
    // lower priority than the writer (the application).
    let server_runtime = observe_serve::runtime(observe_serve::DEFAULT_NICE).expect("a runtime");
    // The clients stand for browsers on other machines: on this one they
    // share the 2 cores with the writer, so they run on a runtime of their
    // own, at the lowest priority, and receive what the writer leaves them
    // the time for (the window and the store let them catch up).
    let client_runtime = observe_serve::runtime(client_nice()).expect("a runtime");
    let quick = !std::env::args().any(|a| a == "--bench");
    let (rounds, batches, warm_up) = if quick {
        (2, 2, 2)
    } else {
        (WRITER_ROUNDS, BATCHES_PER_ROUND, WARM_UP_BATCHES)
    };
    let mut setups: Vec<Setup> = [(0, false), (0, true), (1, false), (10, false), (100, false)]
        .into_iter()
        .map(|(clients, spin)| {
            let server = runtime.block_on(start_on(
                server_runtime.handle(),
                &format!("bench-writer-{clients}-{spin}"),
                |_| {},
            ));
            // A store past its first pages, so that no setup's first
            // rounds are timed on an empty file.
            write_batches(&runtime, &server, warm_up);
            // Of 100 clients, one never reads (the slow client).
            let reading = if clients == 100 { 99 } else { clients };
            let readers = client_runtime.block_on(Readers::connect(&server, reading));
            let stuck = (clients == 100).then(|| {
                client_runtime.block_on(SseClient::connect(&server.url("/api/v1/stream"), &[]))
            });
            Setup {
                clients: reading,
                spin,
                stuck,
                server,
                readers,
                written: 0,
                rounds: Vec::new(),
            }
        })
        .collect();
    // Each round takes the setups in a new order (a Fisher-Yates shuffle
    // on a fixed-seed generator), so that no setup always follows the same
    // one (say, no-client rounds always right after the 100 clients').
    let mut order: Vec<usize> = (0..setups.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..rounds {
        for i in (1..order.len()).rev() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        for &at in &order {
            setups.iter().for_each(Setup::wait_drained);
            // Let the last round's clients and server go idle.
            std::thread::sleep(Duration::from_millis(20));
            let setup = &mut setups[at];
            let spinner = setup.spin.then(Spinner::start);
            let elapsed = write_batches(&runtime, &setup.server, batches);
            drop(spinner);
            let events = batches * BATCH as u64;
            setup.written += events;
            setup.rounds.push(elapsed.as_nanos() as f64 / events as f64);
        }
    }
    setups.iter().for_each(Setup::wait_drained);
    let fastest = |s: &Setup| s.rounds.iter().copied().fold(f64::INFINITY, f64::min);
    let median = |s: &Setup| {
        let mut r = s.rounds.clone();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let (alone, alone_median) = (fastest(&setups[0]), median(&setups[0]));
    println!(
        "\nwriter while clients follow the stream: {rounds} interleaved rounds of {} events \
         per client count (clients at nice {}), every client drained before each round:",
        batches * BATCH as u64,
        client_nice()
    );
    for setup in &setups {
        let name = if setup.spin {
            "  0 clients, the other core busy".to_owned()
        } else if setup.stuck.is_some() {
            "100 clients, one never reading".to_owned()
        } else {
            format!("{:>3} clients", setup.clients)
        };
        println!(
            "  {name:<32}  fastest {:>7.0} events/s  {:.2}x the time with no client (fastest rounds), {:.2}x (median rounds)  ({} events delivered)",
            1e9 / fastest(setup),
            fastest(setup) / alone,
            median(setup) / alone_median,
            setup.readers.received.load(Ordering::Relaxed),
        );
    }
    for setup in setups {
        client_runtime.block_on(setup.readers.close());
    }
    if std::env::var("FANOUT_ROUNDS").as_deref() == Ok("0") {
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
}

/// A thread that keeps a core busy at nice 19 until dropped.
struct Spinner {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spinner {
    fn start() -> Spinner {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            // SAFETY: lowers the calling thread's priority; no memory.
            unsafe { libc::nice(19) };
            let mut x = 1u64;
            while !flag.load(Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        });
        Spinner {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The clients' priority (`FANOUT_CLIENT_NICE`, 0 to 19; 19 unless set).
fn client_nice() -> i32 {
    std::env::var("FANOUT_CLIENT_NICE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(19)
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
