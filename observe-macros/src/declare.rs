//! `registry!`: an application's own event types and processors, parsed
//! and checked here so that every mistake is an error spanned on the
//! offending string or name, then expanded into a module the runtime and
//! `#[observed(registry = ...)]` use.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Token, Visibility, braced};

use crate::registry::{EVENT_TYPES, closest};

/// Longest event type name.
const MAX_NAME_LEN: usize = 64;

/// `Variant = "wire_name"`.
struct TypeDecl {
    attrs: Vec<Attribute>,
    variant: Ident,
    name: LitStr,
}

/// `processor: Started => Complete`.
struct ProcessorDecl {
    attrs: Vec<Attribute>,
    name: Ident,
    started: Ident,
    complete: Ident,
}

/// The whole input: `mod name { event_types { .. } processors { .. } }`.
struct Input {
    attrs: Vec<Attribute>,
    vis: Visibility,
    module: Ident,
    types: Vec<TypeDecl>,
    processors: Vec<ProcessorDecl>,
}

/// Parses `keyword { item, item, ... }`.
fn section<T>(
    input: ParseStream,
    keyword: &str,
    item: fn(ParseStream) -> syn::Result<T>,
) -> syn::Result<Vec<T>> {
    let found: Ident = input.parse()?;
    if found != keyword {
        return Err(syn::Error::new(
            found.span(),
            format!("expected `{keyword} {{ ... }}` here"),
        ));
    }
    let content;
    braced!(content in input);
    let mut items = Vec::new();
    while !content.is_empty() {
        items.push(item(&content)?);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(items)
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Input> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![mod]>()?;
        let module = input.parse()?;
        let body;
        braced!(body in input);
        let types = section(&body, "event_types", |input| {
            let attrs = input.call(Attribute::parse_outer)?;
            let variant = input.parse()?;
            input.parse::<Token![=]>()?;
            let name = input.parse()?;
            Ok(TypeDecl {
                attrs,
                variant,
                name,
            })
        })?;
        let processors = section(&body, "processors", |input| {
            let attrs = input.call(Attribute::parse_outer)?;
            let name = input.parse()?;
            input.parse::<Token![:]>()?;
            let started = input.parse()?;
            input.parse::<Token![=>]>()?;
            let complete = input.parse()?;
            Ok(ProcessorDecl {
                attrs,
                name,
                started,
                complete,
            })
        })?;
        if !body.is_empty() {
            return Err(body.error("unexpected tokens after `processors { ... }`"));
        }
        Ok(Input {
            attrs,
            vis,
            module,
            types,
            processors,
        })
    }
}

/// Why `name` is not a valid event type name, if it is not.
fn name_problem(name: &str) -> Option<String> {
    if let Some((_, variant)) = EVENT_TYPES.iter().find(|(builtin, _)| *builtin == name) {
        return Some(format!(
            "`{name}` is a built-in event type: use `observe::EventType::{variant}` instead of declaring it"
        ));
    }
    let snake = name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if snake {
        return None;
    }
    let suggestion: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let hint = if suggestion.starts_with(|c: char| c.is_ascii_lowercase())
        && suggestion.len() <= MAX_NAME_LEN
    {
        format!("; for example `{suggestion}`")
    } else {
        String::new()
    };
    Some(format!(
        "event type name `{name}` is not snake_case: use 1 to {MAX_NAME_LEN} lower-case ASCII \
         letters, digits and `_`, starting with a letter{hint}"
    ))
}

/// Every mistake of the input, each spanned on its string or name.
fn check(input: &Input) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    let mut push = |error: syn::Error| match &mut errors {
        Some(all) => all.combine(error),
        None => errors = Some(error),
    };
    let mut names: Vec<String> = Vec::new();
    let mut variants: Vec<String> = Vec::new();
    for decl in &input.types {
        let name = decl.name.value();
        if let Some(problem) = name_problem(&name) {
            push(syn::Error::new(decl.name.span(), problem));
        }
        if names.contains(&name) {
            push(syn::Error::new(
                decl.name.span(),
                format!("event type `{name}` is declared twice"),
            ));
        }
        let variant = decl.variant.to_string();
        if variants.contains(&variant) {
            push(syn::Error::new(
                decl.variant.span(),
                format!("variant `{variant}` is declared twice"),
            ));
        }
        names.push(name);
        variants.push(variant);
    }
    let mut processors: Vec<String> = Vec::new();
    for decl in &input.processors {
        for ident in [&decl.started, &decl.complete] {
            let variant = ident.to_string();
            if !variants.contains(&variant) {
                let hint = closest(&variant, variants.iter().map(String::as_str))
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                push(syn::Error::new(
                    ident.span(),
                    format!("`{variant}` is not an event type of this registry{hint}"),
                ));
            }
        }
        let name = decl.name.to_string();
        if processors.contains(&name) {
            push(syn::Error::new(
                decl.name.span(),
                format!("processor `{name}` is declared twice"),
            ));
        }
        processors.push(name);
    }
    errors.map_or(Ok(()), Err)
}

/// Expands a checked input.
fn expand_checked(input: &Input) -> TokenStream {
    let Input {
        attrs,
        vis,
        module,
        types,
        processors,
    } = input;
    let type_attrs = types.iter().map(|t| &t.attrs);
    let variants: Vec<&Ident> = types.iter().map(|t| &t.variant).collect();
    let names: Vec<&LitStr> = types.iter().map(|t| &t.name).collect();
    let processor_statics = processors.iter().map(|p| {
        let ProcessorDecl {
            attrs,
            name,
            started,
            complete,
        } = p;
        quote! {
            #(#attrs)*
            pub static #name: ::observe::registry::Processor = ::observe::registry::Processor {
                name: ::core::stringify!(#name),
                started: ::observe::EventType::Custom(super::EventType::#started.custom()),
                complete: ::observe::EventType::Custom(super::EventType::#complete.custom()),
            };
        }
    });
    let lookup = lookup_fn(module, processors);
    quote! {
        #(#attrs)*
        #vis mod #module {
            /// The event types of this registry.
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub enum EventType {
                #( #(#type_attrs)* #variants, )*
            }

            impl EventType {
                /// Every type of this registry.
                pub const ALL: &'static [EventType] = &[#(EventType::#variants),*];

                /// The wire name.
                pub const fn as_str(self) -> &'static str {
                    match self {
                        #( EventType::#variants => #names, )*
                    }
                }

                /// This type as an `observe::EventType`.
                pub const fn custom(self) -> ::observe::CustomEventType {
                    match self {
                        #( EventType::#variants => {
                            const TYPE: ::observe::CustomEventType =
                                ::observe::CustomEventType::__declare(&#names);
                            TYPE
                        } )*
                    }
                }

                /// The type registered under `name`, in this registry or in
                /// the built-in one (for readers of this application's events).
                pub fn parse(name: &str) -> ::core::option::Option<::observe::EventType> {
                    EventType::ALL
                        .iter()
                        .find(|t| t.as_str() == name)
                        .map(|t| ::observe::EventType::from(*t))
                        .or_else(|| ::observe::EventType::parse(name).ok())
                }
            }

            impl ::core::convert::From<EventType> for ::observe::EventType {
                fn from(event_type: EventType) -> ::observe::EventType {
                    ::observe::EventType::Custom(event_type.custom())
                }
            }

            /// The processors of this registry.
            #[allow(non_upper_case_globals)]
            pub mod processors {
                #(#processor_statics)*
                #lookup
            }
        }
    }
}

/// `__lookup(name)`: the processor called `name`, evaluated when the
/// program compiles (`#[observed(registry = ..)]` calls it in a static);
/// an unknown name stops compilation with the closest name suggested.
fn lookup_fn(module: &Ident, processors: &[ProcessorDecl]) -> TokenStream {
    let count = processors.len();
    let idents: Vec<&Ident> = processors.iter().map(|p| &p.name).collect();
    let names: Vec<String> = idents.iter().map(|i| i.to_string()).collect();
    let misses = names.iter().map(|name| {
        format!("this processor is not in the registry `{module}`; did you mean `{name}`?")
    });
    let listed = if names.is_empty() {
        "it declares none".to_owned()
    } else {
        format!("its processors: {}", names.join(", "))
    };
    let none = format!("this processor is not in the registry `{module}` ({listed})");
    let checks = idents.iter().zip(&names).map(|(ident, name)| {
        quote! {
            if ::observe::__private::const_str_eq(name, #name) {
                return &#ident;
            }
        }
    });
    let helper = format_ident!("__lookup");
    quote! {
        #[doc(hidden)]
        pub const fn #helper(name: &str) -> &'static ::observe::registry::Processor {
            const NAMES: [&str; #count] = [#(#names),*];
            const MISSES: [&str; #count] = [#(#misses),*];
            #(#checks)*
            match ::observe::__private::closest_const(name, &NAMES) {
                ::core::option::Option::Some(at) => ::core::panic!("{}", MISSES[at]),
                ::core::option::Option::None => ::core::panic!("{}", #none),
            }
        }
    }
}

/// The processor of an application's registry that `#[observed]` names,
/// looked up when the program compiles, spanned on the string.
pub fn processor_ref(registry: &TokenStream, processor: &LitStr) -> TokenStream {
    // The registry's path takes the string's span too, so that the error
    // points at the string alone.
    let registry = respan(registry.clone(), processor.span());
    quote_spanned! {processor.span()=> #registry::processors::__lookup(#processor)}
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            }
            token.set_span(span);
            token
        })
        .collect()
}

pub fn expand(tokens: TokenStream) -> syn::Result<TokenStream> {
    let input: Input = syn::parse2(tokens)?;
    check(&input)?;
    Ok(expand_checked(&input))
}
