//! The macro runtime: what the code that `#[observed]` and `emit!` generate
//! calls on the caller's thread. It captures only what cannot be computed
//! later (ids, a timestamp, the raw payload, a stack as bare addresses) and
//! hands it to the [delivery](crate::delivery) layer.
//!
//! Applications reach this layer through the macros. What only generated
//! code calls (the `observed` module, the `emit!` object builder) is public
//! for the macros (through `observe::__private`) but hidden from these docs,
//! as the facade hides `__private`: it may change in any release. Public
//! and documented: [`span`] (the one span lifecycle, for integrations),
//! and [`emit::to_payload`].

pub mod emit;
#[doc(hidden)]
pub mod observed;
pub mod recorded;
pub mod span;
