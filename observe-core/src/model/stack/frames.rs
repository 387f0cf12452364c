//! Which resolved frames are the user's: frames of the capture, of the panic
//! machinery and of `observe` itself are left out wherever they are; frames
//! of the standard library are left out above the first frame of the user's
//! code (a panic raised by `Vec`'s indexing is reported where the user
//! indexed).

/// Path prefixes of functions that are never the user's: the unwinder,
/// `observe`, the panic runtime and the closure-call shims between frames.
const MACHINERY: &[&str] = &[
    "backtrace::",
    "observe_core::",
    "observe::",
    "std::panicking::",
    "core::panicking::",
    "std::panic::",
    "core::panic::",
    "std::sys::backtrace::",
    "rust_begin_unwind",
    "__rustc::",
    "__rust_",
    "core::ops::function::FnOnce::call_once",
    "core::ops::function::FnMut::call_mut",
    "core::ops::function::Fn::call",
];

/// Source files of the same machinery, for frames whose function is named
/// without its path (debug information of `debug = "line-tables-only"`
/// names inlined functions `trace` or `do_call`, not
/// `backtrace::backtrace::trace`): the files as [`relative`] writes them,
/// so a crate's directory carries its version when it is a dependency
/// (`backtrace-0.3.77/src/...`, `observe-core-0.1.0/src/...`) and none
/// inside this workspace (`observe-core/src/...`).
///
/// [`relative`]: super::paths::relative
const MACHINERY_FILES: &[&str] = &[
    "library/std/src/panicking.rs",
    "library/std/src/panic.rs",
    "library/core/src/panicking.rs",
    "library/core/src/panic/",
    "library/core/src/ops/function.rs",
    "library/std/src/sys/backtrace.rs",
];

/// The crate directories of the machinery: `name/` or `name-<version>/`.
const MACHINERY_CRATES: &[&str] = &["backtrace", "observe-core", "observe-macros"];

/// Whether `file` is a source file of the machinery.
fn is_machinery_file(file: &str) -> bool {
    MACHINERY_FILES
        .iter()
        .any(|prefix| file.starts_with(prefix))
        || file.split_once('/').is_some_and(|(dir, _)| {
            MACHINERY_CRATES.iter().any(|name| {
                dir.strip_prefix(name).is_some_and(|rest| {
                    rest.is_empty()
                        || rest.starts_with('-')
                            && rest[1..].starts_with(|c: char| c.is_ascii_digit())
                })
            })
        })
}

/// Path prefixes of the standard library's crates.
const STANDARD_LIBRARY: &[&str] = &["core::", "std::", "alloc::"];

/// The path a frame's function belongs to: `<&mut a::B as c::D>::e` and
/// `a::B::e` both start with `a::B`.
fn subject(function: &str) -> &str {
    function
        .trim_start_matches(['<', '&'])
        .trim_start_matches("mut ")
}

/// A frame of the capture, the panic runtime or `observe` (including
/// `observe`'s trait impls for the user's types): by its function's path,
/// or by its source `file` when the function is named without one.
pub fn is_machinery(function: &str, file: Option<&str>) -> bool {
    let subject = subject(function);
    let machinery = MACHINERY.iter().any(|prefix| subject.starts_with(prefix))
        || file.is_some_and(is_machinery_file)
        || function.contains(" as observe_core::")
        || function.contains(" as observe::")
        // `<F as FnOnce<A>>::call_once` and its shims: glue between a
        // caller and a closure or function, which has a frame of its own.
        || function.contains(" as core::ops::function::Fn");
    // In this crate's own unit tests, the test code plays the user.
    machinery && !(cfg!(test) && subject.contains("::tests::"))
}

/// A frame of the standard library: by its function's path, or, for the
/// standard library's impls on primitive types (`<usize as
/// core::slice::index::SliceIndex<[T]>>::index`), by its source file.
pub fn is_standard_library(function: &str, file: Option<&str>) -> bool {
    let subject = subject(function);
    STANDARD_LIBRARY
        .iter()
        .any(|prefix| subject.starts_with(prefix))
        || file.is_some_and(|file| {
            ["library/core/", "library/std/", "library/alloc/"]
                .iter()
                .any(|dir| file.starts_with(dir))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machinery_is_recognized_in_every_form() {
        for name in [
            "backtrace::backtrace::libunwind::trace",
            "observe_core::model::stack::CapturedStack::capture",
            "observe_core::runtime::observed::panic_hook::install::{{closure}}",
            "<&observe_core::runtime::observed::probe::Probe<T> as observe_core::runtime::observed::probe::OkTerminal>::observe_terminal",
            "<T as observe_core::runtime::observed::probe::DisplayMessage>::observe_message",
            "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
            "std::panicking::begin_panic_handler::{{closure}}",
            "std::sys::backtrace::__rust_end_short_backtrace",
            "__rustc::rust_begin_unwind",
            "rust_begin_unwind",
            "core::panicking::panic_bounds_check",
            "std::panic::catch_unwind",
            "<core::panic::unwind_safe::AssertUnwindSafe<F> as core::ops::function::FnOnce<()>>::call_once",
            "core::ops::function::FnOnce::call_once{{vtable.shim}}",
            "__rust_try",
            "<fn() -> core::result::Result<(), alloc::string::String> as core::ops::function::FnOnce<()>>::call_once",
            "<chat::run::{closure#0} as core::ops::function::FnOnce<()>>::call_once::{shim:vtable#0}",
        ] {
            assert!(is_machinery(name, None), "{name}");
        }
        for name in [
            "chat::retrieve",
            "observer::run",
            "<chat::Doc as core::fmt::Display>::fmt",
            "core::option::Option<T>::map",
        ] {
            assert!(!is_machinery(name, None), "{name}");
        }
    }

    #[test]
    fn machinery_named_without_its_path_is_recognized_by_its_file() {
        for (name, file) in [
            ("trace", "backtrace-0.3.77/src/backtrace/libunwind.rs"),
            ("record", "observe-core/src/runtime/span/panic_hook.rs"),
            (
                "observe_terminal<u8>",
                "observe-core-0.1.0/src/runtime/observed/probe.rs",
            ),
            ("do_call<F, R>", "library/std/src/panicking.rs"),
            ("call_once<F>", "library/core/src/ops/function.rs"),
        ] {
            assert!(is_machinery(name, Some(file)), "{name} ({file})");
        }
        for (name, file) in [
            ("retrieve", "src/handlers.rs"),
            ("observer_run", "observer/src/main.rs"),
            ("index<T>", "library/core/src/slice/index.rs"),
            ("parse", "backtraces-1.0.0/src/lib.rs"),
            ("parse", "observe-core-extras/src/lib.rs"),
        ] {
            assert!(!is_machinery(name, Some(file)), "{name} ({file})");
        }
    }

    #[test]
    fn the_standard_library_is_recognized_by_path_or_file() {
        assert!(is_standard_library("core::option::Option<T>::map", None));
        assert!(is_standard_library(
            "<alloc::vec::Vec<T,A> as core::ops::index::Index<I>>::index",
            None
        ));
        assert!(is_standard_library(
            "<usize as core::slice::index::SliceIndex<[T]>>::index",
            Some("library/core/src/slice/index.rs")
        ));
        assert!(!is_standard_library(
            "<chat::Doc as core::fmt::Display>::fmt",
            Some("src/doc.rs")
        ));
    }
}
