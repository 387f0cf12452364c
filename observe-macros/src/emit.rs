//! Expansion of `emit!(EventType::X, payload)`: the type must be a registry
//! path, never a string; the payload is JSON-like (`{ "key": value }`) or any
//! `Serialize` expression.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Path, Token};

use crate::registry;

mod json;

struct EmitInput {
    krate: Path,
    event_type: Expr,
    payload: Option<Payload>,
}

/// The payload as written.
enum Payload {
    /// `{ "key": value, ... }`, JSON-like.
    Object(json::Node),
    /// Any `Serialize` expression.
    Expr(Expr),
}

impl Parse for EmitInput {
    fn parse(input: ParseStream) -> syn::Result<EmitInput> {
        let mut krate: Path = syn::parse_quote!(::observe);
        if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            krate = input.parse()?;
            input.parse::<Token![,]>()?;
        }
        let event_type: Expr = input.parse()?;
        check_event_type(&event_type, &krate)?;
        let payload = if input.is_empty() {
            None
        } else {
            input.parse::<Token![,]>()?;
            parse_payload(input, &event_type)?
        };
        Ok(EmitInput {
            krate,
            event_type,
            payload,
        })
    }
}

/// The payload after the event type's comma: none, an object literal or an
/// expression, then at most a trailing comma.
fn parse_payload(input: ParseStream, event_type: &Expr) -> syn::Result<Option<Payload>> {
    if input.is_empty() {
        return Ok(None);
    }
    let payload = if let Some((_, braces, _)) = input.cursor().group(proc_macro2::Delimiter::Brace)
    {
        if is_error_occurred(event_type) {
            return Err(syn::Error::new(braces.join(), ERROR_HINT));
        }
        Payload::Object(input.parse()?)
    } else {
        Payload::Expr(input.parse()?)
    };
    if !input.is_empty() {
        input.parse::<Token![,]>()?;
    }
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after the payload"));
    }
    Ok(Some(payload))
}

/// Only a path (`EventType::MessageReceived`) names an event type; a string
/// is refused with the variant to write instead.
fn check_event_type(event_type: &Expr, krate: &Path) -> syn::Result<()> {
    match event_type {
        Expr::Path(_) => Ok(()),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => {
            let name = s.value();
            let krate = quote!(#krate).to_string().replace(' ', "");
            let krate = krate.trim_start_matches("::");
            let message = match registry::EVENT_TYPES.iter().find(|(wire, _)| *wire == name) {
                Some((_, variant)) => format!(
                    "emit! takes an event type from the registry, not a string: write `{krate}::EventType::{variant}`"
                ),
                None => {
                    let hint =
                        registry::closest(&name, registry::EVENT_TYPES.iter().map(|(w, _)| *w))
                            .and_then(|w| registry::EVENT_TYPES.iter().find(|(wire, _)| *wire == w))
                            .map(|(_, v)| format!("; did you mean `{krate}::EventType::{v}`?"))
                            .unwrap_or_default();
                    format!(
                        "emit! takes an event type from the registry, not a string, and `{name}` is not a registered event type{hint}; \
                         to add a type of your own, declare it with `{krate}::registry!` and write its variant, \
                         for example `events::EventType::{}`",
                        pascal_case(&name)
                    )
                }
            };
            Err(syn::Error::new(s.span(), message))
        }
        other => Err(syn::Error::new_spanned(
            other,
            "emit! takes an event type from the registry, for example `observe::EventType::MessageReceived`",
        )),
    }
}

/// Whether the type is `error_occurred`, whose payload has a fixed schema.
fn is_error_occurred(event_type: &Expr) -> bool {
    matches!(event_type, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "ErrorOccurred"))
}

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let EmitInput {
        krate,
        event_type,
        payload,
    } = syn::parse2(input)?;
    if is_error_occurred(&event_type) {
        return expand_error(&krate, &event_type, payload);
    }
    let payload = match payload {
        None => quote!(#krate::__private::serde_json::Value::Null),
        Some(Payload::Expr(value)) => quote!(#krate::__private::to_payload(&(#value))),
        Some(Payload::Object(object)) => build_object(&krate, &object),
    };
    Ok(quote! {
        if #krate::__private::enabled() {
            #krate::__private::emit_event(#event_type, #payload)
        }
    })
}

/// `{ "key": value, ... }` as a block that builds the payload with the
/// runtime's bounded builder, each value serialized (and isolated) there.
fn build_object(krate: &Path, object: &json::Node) -> TokenStream {
    // Hygienic: the caller's expressions cannot see (or shadow) it.
    let builder = Ident::new("payload", Span::mixed_site());
    let mut calls = TokenStream::new();
    json::build_children(object, &builder, &mut calls);
    quote!({
        let mut #builder = #krate::__private::PayloadBuilder::new();
        #builder.object();
        #calls
        #builder.finish()
    })
}

/// `rerank_started` as `RerankStarted`, for suggestions.
fn pascal_case(snake: &str) -> String {
    snake
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

const ERROR_HINT: &str = "`error_occurred` events carry an `observe::ErrorPayload`, for example \
     `ErrorPayload::new(\"Timeout\", \"upstream timed out\", \"llm\")` \
     (or let #[observed] report the error)";

/// `error_occurred` takes an `ErrorPayload` and nothing else, so every such
/// event conforms to the schema.
fn expand_error(
    krate: &Path,
    event_type: &Expr,
    payload: Option<Payload>,
) -> syn::Result<TokenStream> {
    let payload = match payload {
        Some(Payload::Expr(payload)) => payload,
        // An object literal was refused while parsing.
        Some(Payload::Object(_)) | None => {
            return Err(syn::Error::new_spanned(event_type, ERROR_HINT));
        }
    };
    // Spanned on the payload, so a wrong type is reported there.
    let span = syn::spanned::Spanned::span(&payload);
    let error = quote::quote_spanned!(span=> #krate::__private::error_payload(&(#payload)));
    Ok(quote! {
        if #krate::__private::enabled() {
            #krate::__private::emit_event(#event_type, #error)
        }
    })
}
