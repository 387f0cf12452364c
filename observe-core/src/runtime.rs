//! The macro runtime: what the code that `#[observed]` and `emit!` generate
//! calls on the caller's thread. It captures only what cannot be computed
//! later (ids, a timestamp, the raw payload, a stack as bare addresses) and
//! hands it to the [delivery](crate::delivery) layer.
//!
//! Applications reach this layer through the macros; its items are public
//! for the generated code (through `observe::__private`), not to be called
//! by hand, with the exception of [`span::SpanGuard`] for integrations.

pub mod emit;
pub mod observed;
pub mod span;
pub mod stack;
