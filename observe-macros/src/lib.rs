//! Procedural macros of `observe`: `#[observed]`, `emit!` and `registry!`.
//!
//! Use them through the `observe` crate, which re-exports them. The generated
//! code calls the runtime through the hidden `observe::__private` module,
//! with one call and one static metadata item per instrumented function, so
//! that `cargo expand` output stays short.
#![deny(missing_docs)]

mod args;
mod declare;
mod emit;
mod observed;
mod registry;

use proc_macro::TokenStream;

/// Instruments a function as a processor of the request pipeline.
///
/// See the `observe` crate's documentation of `observed` for the options and
/// the events emitted.
#[proc_macro_attribute]
pub fn observed(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match observed::expand(attr.into(), item.clone()) {
        Ok(expanded) => expanded.into(),
        Err(failure) => observed::fallback(failure, item).into(),
    }
}

/// Emits one event of a registered type in the current correlation context.
///
/// See the `observe` crate's documentation of `emit!`.
#[proc_macro]
pub fn emit(input: TokenStream) -> TokenStream {
    emit::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares an application's own registry of event types and processors.
///
/// See the `observe` crate's documentation of `registry!`.
#[proc_macro]
pub fn registry(input: TokenStream) -> TokenStream {
    declare::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[cfg(test)]
mod snapshots;
