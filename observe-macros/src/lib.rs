//! Procedural macros of `observe`: `#[observed]` and `emit!`.
//!
//! Use them through the `observe` crate, which re-exports them; the generated
//! code calls the runtime through `observe::__private`.
#![deny(missing_docs)]
