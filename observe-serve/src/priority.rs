//! The runtime `observe serve` runs on: its threads run at a lower CPU
//! priority, so that on a busy machine the application writing the events
//! keeps the CPU and the stream's clients catch up afterwards (from the
//! window of recent events, or the store), never the other way round.

use tokio::runtime::{Builder, Runtime};

/// How much `observe serve` lowers its threads' priority unless told
/// otherwise (a `nice` value: 0 is the default priority, 19 the lowest).
pub const DEFAULT_NICE: i32 = 10;

/// A multi-thread tokio runtime whose every thread (the workers, and the
/// blocking threads that read SQLite) runs `nice` steps below the default
/// priority, 0 to 19: on Linux, where priority is per thread, only these
/// threads; elsewhere `nice` is ignored. A thread that cannot be lowered
/// runs as it is (lowering needs no privilege, so that is not expected).
///
/// [`serve`](crate::serve) runs on the caller's runtime; run it on this one
/// to serve as `observe serve` does:
///
/// ```no_run
/// use observe_serve::{DEFAULT_NICE, ServeOptions, runtime, serve};
///
/// let options = ServeOptions::new("sqlite://events.db".parse()?);
/// runtime(DEFAULT_NICE)?.block_on(serve(options))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn runtime(nice: i32) -> std::io::Result<Runtime> {
    let mut builder = Builder::new_multi_thread();
    builder.enable_all();
    let nice = nice.clamp(0, 19);
    if nice > 0 {
        builder.on_thread_start(move || lower(nice));
    }
    builder.build()
}

/// Lowers the calling thread's priority by `by` steps.
#[cfg(target_os = "linux")]
fn lower(by: i32) {
    // SAFETY: `nice` only changes the scheduling priority of the calling
    // thread (on Linux, glibc's and musl's `nice` call `setpriority` with
    // `PRIO_PROCESS` and who = 0, which names the thread); it touches no
    // memory of ours. Its result (the new value, or -1 with errno) is not
    // needed: a thread that stays at its priority is still correct.
    unsafe {
        libc::nice(by);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower(_by: i32) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn own_nice() -> i32 {
        // SAFETY: reads the calling thread's priority; no memory involved.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    #[test]
    fn workers_and_blocking_threads_run_lower_and_the_caller_does_not() {
        let before = own_nice();
        let runtime = runtime(DEFAULT_NICE).unwrap();
        let (worker, blocking) = runtime.block_on(async {
            let worker = tokio::spawn(async { own_nice() }).await.unwrap();
            let blocking = tokio::task::spawn_blocking(own_nice).await.unwrap();
            (worker, blocking)
        });
        let expected = (before + DEFAULT_NICE).min(19);
        assert_eq!((worker, blocking), (expected, expected));
        assert_eq!(own_nice(), before, "the calling thread is left alone");
        let plain = super::runtime(0).unwrap();
        let worker = plain.block_on(async { tokio::spawn(async { own_nice() }).await });
        assert_eq!(worker.unwrap(), before);
    }
}
