//! [`Config`]: how the pipeline is set up, with documented defaults.

use std::fmt;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::delivery::breaker::{Clock, SystemClock};
use crate::delivery::sanitize::Sanitizer;
use crate::delivery::sink::{DynSink, Sink, StderrSink};

/// Default [`Config::queue_capacity`]: 16,384 events.
pub const DEFAULT_QUEUE_CAPACITY: usize = 16_384;
/// Default [`Config::queue_bytes`]: 64 MiB of payloads.
pub const DEFAULT_QUEUE_BYTES: usize = 64 * 1024 * 1024;
/// Default [`Config::batch_size`]: 512 events.
pub const DEFAULT_BATCH_SIZE: usize = 512;
/// Default [`Config::batch_linger`]: 100 ms.
pub const DEFAULT_BATCH_LINGER: Duration = Duration::from_millis(100);
/// Default [`Config::write_timeout`]: 5 s.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`Config::breaker_threshold`]: 5 consecutive failed writes.
pub const DEFAULT_BREAKER_THRESHOLD: u32 = 5;
/// Default [`Config::breaker_open_duration`]: 30 s.
pub const DEFAULT_BREAKER_OPEN: Duration = Duration::from_secs(30);
/// Default [`Config::shutdown_timeout`]: 5 s.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`Config::drop_notice_interval`]: 10 s.
pub const DEFAULT_DROP_NOTICE_INTERVAL: Duration = Duration::from_secs(10);

/// Everything [`init`](super::init) needs. Start from
/// [`Config::default`] and change what you need:
///
/// | setting | default |
/// |---|---|
/// | [`sink`](Config::sink) | [`StderrSink`] |
/// | [`add_sink`](Config::add_sink) | none: one sink |
/// | [`queue_capacity`](Config::queue_capacity) | 16,384 events |
/// | [`queue_bytes`](Config::queue_bytes) | 64 MiB of payloads |
/// | [`batch_size`](Config::batch_size) | 512 events |
/// | [`batch_linger`](Config::batch_linger) | 100 ms |
/// | [`write_timeout`](Config::write_timeout) | 5 s |
/// | [`breaker_threshold`](Config::breaker_threshold) | 5 failed writes |
/// | [`breaker_open_duration`](Config::breaker_open_duration) | 30 s |
/// | [`shutdown_timeout`](Config::shutdown_timeout) | 5 s |
/// | [`service_name`](Config::service_name) | the executable's name |
/// | [`sanitizer`](Config::sanitizer) | `Sanitizer::default()` |
/// | [`fallback`](Config::fallback) | standard error |
/// | [`diagnostics`](Config::diagnostics) | standard error |
/// | [`drop_notice_interval`](Config::drop_notice_interval) | 10 s |
/// | [`clock`](Config::clock) | the system's monotonic clock |
/// | [`store`](Config::store) | none |
/// | [`enabled`](Config::enabled) | true |
///
/// [`Config::from_env`] starts from these and applies the operator's
/// variables (`OBSERVE_STORE`, `OTEL_SERVICE_NAME`,
/// `OBSERVE_QUEUE_CAPACITY`, `OBSERVE_DISABLED`).
///
/// ```
/// use std::time::Duration;
/// use observe::Config;
/// use observe::sink::MemorySink;
///
/// let config = Config::default()
///     .sink(MemorySink::new())
///     .queue_capacity(4096)
///     .batch_linger(Duration::from_millis(20))
///     .service_name("chat");
/// assert_eq!(config.get_queue_capacity(), 4096);
/// ```
pub struct Config {
    /// Set by [`Config::sink`]; `None`: the first added sink, or the
    /// default.
    pub(crate) primary: Option<SinkEntry>,
    /// Added by [`Config::add_sink`].
    pub(crate) extra: Vec<SinkEntry>,
    pub(crate) queue_capacity: usize,
    pub(crate) queue_bytes: usize,
    pub(crate) batch_size: usize,
    pub(crate) batch_linger: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) breaker_threshold: u32,
    pub(crate) breaker_open: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) service_name: String,
    pub(crate) sanitizer: Sanitizer,
    pub(crate) fallback: Box<dyn Write + Send>,
    pub(crate) diagnostics: Box<dyn Write + Send>,
    pub(crate) drop_notice_interval: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) store: Option<String>,
    pub(crate) enabled: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            primary: None,
            extra: Vec::new(),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            queue_bytes: DEFAULT_QUEUE_BYTES,
            batch_size: DEFAULT_BATCH_SIZE,
            batch_linger: DEFAULT_BATCH_LINGER,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            breaker_threshold: DEFAULT_BREAKER_THRESHOLD,
            breaker_open: DEFAULT_BREAKER_OPEN,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            service_name: default_service_name(),
            sanitizer: Sanitizer::default(),
            fallback: Box::new(std::io::stderr()),
            diagnostics: Box::new(std::io::stderr()),
            drop_notice_interval: DEFAULT_DROP_NOTICE_INTERVAL,
            clock: Arc::new(SystemClock),
            store: None,
            enabled: true,
        }
    }
}

fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}

/// One configured sink and its own settings.
pub(crate) struct SinkEntry {
    pub(crate) sink: Arc<dyn DynSink>,
    pub(crate) options: SinkOptions,
}

/// The settings of one sink added with [`Config::add_sink_with`]: those left
/// unset are the [`Config`]'s.
///
/// ```
/// use std::time::Duration;
/// use observe::{Config, SinkOptions};
/// use observe::sink::{MemorySink, NullSink};
///
/// let config = Config::default()
///     .sink(MemorySink::new())
///     .add_sink_with(
///         NullSink,
///         SinkOptions::new().write_timeout(Duration::from_secs(2)).fallback(false),
///     );
/// assert_eq!(config.sink_count(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct SinkOptions {
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) breaker_threshold: Option<u32>,
    pub(crate) breaker_open: Option<Duration>,
    pub(crate) no_fallback: bool,
}

impl SinkOptions {
    /// Everything as in the [`Config`], with the fallback.
    pub fn new() -> SinkOptions {
        SinkOptions::default()
    }

    /// How long one write to this sink may take before it counts as failed.
    pub fn write_timeout(mut self, timeout: Duration) -> SinkOptions {
        self.write_timeout = Some(timeout);
        self
    }

    /// How many consecutive failed writes open this sink's breaker. At
    /// least 1.
    pub fn breaker_threshold(mut self, failures: u32) -> SinkOptions {
        self.breaker_threshold = Some(failures.max(1));
        self
    }

    /// How long this sink's breaker stays open before a probe.
    pub fn breaker_open_duration(mut self, duration: Duration) -> SinkOptions {
        self.breaker_open = Some(duration);
        self
    }

    /// Whether batches this sink did not take go to the
    /// [fallback](Config::fallback) (the default) or are counted as dropped
    /// for this sink only ([`SinkStats::dropped`](super::SinkStats::dropped)).
    /// An exporter next to a store usually wants `false`: the store has the
    /// events, and the fallback would only repeat them.
    pub fn fallback(mut self, enabled: bool) -> SinkOptions {
        self.no_fallback = !enabled;
        self
    }
}

impl Config {
    /// The first sink: where events are written. It replaces the sink set
    /// by an earlier call (or the default [`StderrSink`]); sinks added with
    /// [`add_sink`](Config::add_sink) stay, after it. The top-level
    /// delivery fields of [`Stats`](super::Stats) are this sink's.
    pub fn sink(mut self, sink: impl Sink) -> Config {
        self.primary = Some(SinkEntry {
            sink: Arc::new(sink),
            options: SinkOptions::default(),
        });
        self
    }

    /// One more sink, with the [`Config`]'s write timeout and breaker
    /// settings. Every sink receives every event; each has its own writer
    /// thread, write timeout, circuit breaker and accounting
    /// ([`Stats::sinks`](super::Stats::sinks)), so a failing or hanging one
    /// never delays or fails another. Without a [`sink`](Config::sink)
    /// call, the first added sink replaces the default.
    ///
    /// The worker hands each batch to every sink and waits only for the
    /// first to finish it; a sink still busy with earlier batches (it keeps
    /// up to two waiting) gets this one counted as fallen back (or dropped,
    /// see [`SinkOptions::fallback`]), never as a failed write.
    pub fn add_sink(self, sink: impl Sink) -> Config {
        self.add_sink_with(sink, SinkOptions::default())
    }

    /// [`add_sink`](Config::add_sink) with this sink's own settings.
    pub fn add_sink_with(mut self, sink: impl Sink, options: SinkOptions) -> Config {
        self.extra.push(SinkEntry {
            sink: Arc::new(sink),
            options,
        });
        self
    }

    /// How many sinks events go to.
    pub fn sink_count(&self) -> usize {
        match self.primary {
            Some(_) => 1 + self.extra.len(),
            None => self.extra.len().max(1),
        }
    }

    /// The sinks in order: the first sink, then the added ones.
    pub(crate) fn take_sinks(&mut self) -> Vec<SinkEntry> {
        let mut sinks: Vec<SinkEntry> = self.primary.take().into_iter().collect();
        sinks.append(&mut self.extra);
        if sinks.is_empty() {
            sinks.push(SinkEntry {
                sink: Arc::new(StderrSink),
                options: SinkOptions::default(),
            });
        }
        sinks
    }

    /// How many events may wait for the worker; beyond that, new events are
    /// dropped and counted. At least 1. Memory is allocated for all of them
    /// up front (about 130 bytes each, plus their payloads).
    pub fn queue_capacity(mut self, capacity: usize) -> Config {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// The most payload bytes that queued events may hold together; an
    /// event whose payload does not fit in what is left is dropped and
    /// counted ([`Stats::dropped_over_budget`](super::Stats::dropped_over_budget)),
    /// as on a full queue. Together with
    /// [`queue_capacity`](Config::queue_capacity) this bounds the memory a
    /// burst of large payloads can take while the worker is behind.
    ///
    /// A payload's bytes are an estimate made when it is emitted: the
    /// length of its strings and keys plus 48 bytes per JSON value (for an
    /// error: its strings and stack). They are held from the emit until the
    /// worker has sanitized the event (the sanitized payload is at most
    /// 10 KiB), so the worker's batch in hand is within the budget too.
    /// Events without a payload (a bare `#[observed]` call) cost nothing
    /// here. A single payload larger than the budget is always dropped.
    pub fn queue_bytes(mut self, bytes: usize) -> Config {
        self.queue_bytes = bytes;
        self
    }

    /// The most events written in one batch. At least 1.
    pub fn batch_size(mut self, size: usize) -> Config {
        self.batch_size = size.max(1);
        self
    }

    /// How long the worker waits for a batch to fill before writing what it
    /// has.
    pub fn batch_linger(mut self, linger: Duration) -> Config {
        self.batch_linger = linger;
        self
    }

    /// How long one sink write may take before it counts as failed.
    pub fn write_timeout(mut self, timeout: Duration) -> Config {
        self.write_timeout = timeout;
        self
    }

    /// How many consecutive failed writes open the circuit breaker. At
    /// least 1.
    pub fn breaker_threshold(mut self, failures: u32) -> Config {
        self.breaker_threshold = failures.max(1);
        self
    }

    /// How long the circuit breaker stays open before it lets a probe
    /// batch through.
    pub fn breaker_open_duration(mut self, duration: Duration) -> Config {
        self.breaker_open = duration;
        self
    }

    /// How long dropping the [`Guard`](super::Guard) may take to deliver
    /// what is queued; past it, the guard returns anyway.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Config {
        self.shutdown_timeout = timeout;
        self
    }

    /// The service's name, used in diagnostics and drop notices.
    pub fn service_name(mut self, name: impl Into<String>) -> Config {
        self.service_name = name.into();
        self
    }

    /// The sanitizer every event passes through before it leaves the
    /// process.
    pub fn sanitizer(mut self, sanitizer: Sanitizer) -> Config {
        self.sanitizer = sanitizer;
        self
    }

    /// Where batches go, as sanitized JSON lines, when the breaker is open
    /// or a write failed. If it returns an error or panics, that batch is
    /// dropped and counted (the panic also in
    /// [`Stats::panics`](super::Stats::panics)); it is still tried for
    /// later batches.
    pub fn fallback(mut self, writer: impl Write + Send + 'static) -> Config {
        self.fallback = Box::new(writer);
        self
    }

    /// Where the pipeline reports breaker transitions, sink failures,
    /// fallback failures and caught panics, one human-readable line each.
    /// Each line passes through the [`sanitizer`](Config::sanitizer) first
    /// (a sink's error may hold a connection string) and is cut to 1,000
    /// characters. A diagnostics writer that panics is not used again: the
    /// panic is counted in [`Stats::panics`](super::Stats::panics) and the
    /// pipeline goes on without diagnostics.
    pub fn diagnostics(mut self, writer: impl Write + Send + 'static) -> Config {
        self.diagnostics = Box::new(writer);
        self
    }

    /// The least time between two in-band notices of dropped events.
    pub fn drop_notice_interval(mut self, interval: Duration) -> Config {
        self.drop_notice_interval = interval;
        self
    }

    /// The clock of the circuit breaker and of drop notices (for tests:
    /// a [`ManualClock`](crate::delivery::breaker::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Config {
        self.clock = Arc::new(clock);
        self
    }

    /// The configured queue capacity.
    pub fn get_queue_capacity(&self) -> usize {
        self.queue_capacity
    }

    /// The event store `observe::init` opens as the primary sink, by its
    /// URL (`sqlite://<path>`, `postgres://...` or a `.jsonl` path),
    /// replacing one set with [`Config::sink`]; sinks added with
    /// [`Config::add_sink`] stay. Opening it needs the `observe` crate
    /// (with its `sqlite` or `postgres` feature for those URLs): the
    /// delivery pipeline's own `init` refuses a configuration with a store
    /// left unopened rather than ignore it.
    pub fn store(mut self, url: impl Into<String>) -> Config {
        self.store = Some(url.into());
        self
    }

    /// The store URL set with [`Config::store`] (or `OBSERVE_STORE`).
    pub fn get_store(&self) -> Option<&str> {
        self.store.as_deref()
    }

    /// Takes the store URL out, for the `init` that opens it.
    pub fn take_store(&mut self) -> Option<String> {
        self.store.take()
    }

    /// Whether `init` installs a pipeline at all (default true). With
    /// `false`, `init` returns a guard that does nothing, no store is
    /// opened, emitting stays a no-op and the not-installed notice is not
    /// written: the operator's switch (`OBSERVE_DISABLED=1`).
    pub fn enabled(mut self, enabled: bool) -> Config {
        self.enabled = enabled;
        self
    }

    /// See [`Config::enabled`].
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The configured shutdown timeout.
    pub fn get_shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("sinks", &self.sink_count())
            .field("queue_capacity", &self.queue_capacity)
            .field("queue_bytes", &self.queue_bytes)
            .field("batch_size", &self.batch_size)
            .field("batch_linger", &self.batch_linger)
            .field("write_timeout", &self.write_timeout)
            .field("breaker_threshold", &self.breaker_threshold)
            .field("breaker_open_duration", &self.breaker_open)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("service_name", &self.service_name)
            .field("drop_notice_interval", &self.drop_notice_interval)
            .finish_non_exhaustive()
    }
}
