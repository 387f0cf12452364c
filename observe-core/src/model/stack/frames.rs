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
/// `observe`'s trait impls for the user's types).
pub fn is_machinery(function: &str) -> bool {
    let subject = subject(function);
    let machinery = MACHINERY.iter().any(|prefix| subject.starts_with(prefix))
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
            assert!(is_machinery(name), "{name}");
        }
        for name in [
            "chat::retrieve",
            "observer::run",
            "<chat::Doc as core::fmt::Display>::fmt",
            "core::option::Option<T>::map",
        ] {
            assert!(!is_machinery(name), "{name}");
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
