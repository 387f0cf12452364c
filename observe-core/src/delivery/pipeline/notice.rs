//! The one line that says instrumented code runs while no pipeline was
//! ever installed: forgetting `observe::init` would otherwise go unnoticed
//! (requests succeed, correlation headers are set, nothing is written).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The environment variable that silences the notice when set (to any
/// value but `0`), for programs that run instrumented code without a
/// pipeline on purpose.
pub const NOTICE_ENV: &str = "OBSERVE_QUIET";

/// Set once the notice was written, or silenced.
static DONE: AtomicBool = AtomicBool::new(false);

/// Silences the not-installed notice for this process (a library's tests
/// that run instrumented code without a pipeline, say).
pub fn silence_not_installed_notice() {
    DONE.store(true, Ordering::Relaxed);
}

/// Writes the notice once per process, unless a pipeline was installed
/// before (events stop after its guard drops, as the application asked) or
/// the notice is silenced.
#[inline]
pub(crate) fn not_installed() {
    if !DONE.load(Ordering::Relaxed) {
        write_once();
    }
}

#[cold]
fn write_once() {
    if DONE.swap(true, Ordering::Relaxed) || super::ever_installed() {
        return;
    }
    let silenced = std::env::var_os(NOTICE_ENV).is_some_and(|v| v != "0");
    if !silenced {
        let _ = writeln!(
            std::io::stderr(),
            "observe: instrumented code ran, but no pipeline is installed, so no event is recorded; \
             call observe::init(...) at start-up (set {NOTICE_ENV}=1 to silence this line)"
        );
    }
}
