//! Expansion of `#[observed]`: the function keeps its signature, and its body
//! becomes one call into the runtime with one static metadata item.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, Expr, FnArg, Ident, ItemFn, Pat, ReturnType, Stmt, Type};

use crate::args::{Args, ErrMode, RetMode};

/// Why [`expand`] produced no expansion.
#[derive(Debug)]
pub enum Failure {
    /// A mistake in the attribute or in how it is used.
    Invalid(syn::Error),
    /// The item does not parse (a syntax error in the body, say): rustc's
    /// own message says it best.
    Unparsable,
}

impl From<syn::Error> for Failure {
    fn from(error: syn::Error) -> Failure {
        Failure::Invalid(error)
    }
}

/// What a failed expansion turns into: the item exactly as written, next to
/// the error (if any), so that one mistake is one error: call sites keep
/// compiling, and rust-analyzer keeps seeing the function.
pub fn fallback(failure: Failure, item: TokenStream) -> TokenStream {
    match failure {
        Failure::Invalid(error) => {
            let error = error.into_compile_error();
            quote!(#error #item)
        }
        Failure::Unparsable => item,
    }
}

pub fn expand(attr: TokenStream, item: TokenStream) -> Result<TokenStream, Failure> {
    let mut function = parse_function(item)?;
    if let Some(constness) = &function.sig.constness {
        return Err(Failure::Invalid(syn::Error::new(
            constness.span(),
            "#[observed] cannot instrument a `const fn`: events are emitted at run time",
        )));
    }
    let args = Args::parse(attr, &argument_names(&function))?;
    let krate = &args.krate;
    let name = match &args.name {
        Some(name) => quote!(#name),
        None => {
            let ident = function.sig.ident.to_string();
            quote!(#ident)
        }
    };
    let processor = match &args.registry {
        // An application's registry is another macro's output: its
        // processors are looked up when the program compiles, and a
        // misspelling is reported on the string with the closest name.
        Some(path) => crate::declare::processor_ref(&quote!(#path), &args.processor),
        // The built-in processor was checked here already.
        None => {
            let processor = Ident::new(&args.processor.value(), args.processor.span());
            quote_spanned! {args.processor.span()=> &#krate::registry::processors::#processor}
        }
    };
    let call_site = quote_spanned! {args.processor.span()=>
        static __OBSERVE_CALL: #krate::__private::CallSite = #krate::__private::CallSite::new(
            #processor,
            #name,
            ::core::module_path!(),
        );
        #[allow(unused_imports)]
        use #krate::__private::{DebugPreview as _, DisplayPreview as _, ErrTerminal as _, OkTerminal as _};
    };
    // The span records the preview only if it records at all: the runtime
    // calls the closure, or not.
    let capture_input = args.input.as_ref().map(|input| {
        quote! {
            __observe_span.capture_input(|| (&#krate::__private::PreviewProbe(&(#input))).observe_preview());
        }
    });
    // Spanned on the return type, so a missing `Display` points there.
    let output_span = match &function.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => function.sig.ident.span(),
    };
    let describe = match args.err {
        ErrMode::Display => quote_spanned! {output_span=>
            |e| #krate::__private::DisplayMessage::observe_message(e)
        },
        ErrMode::Debug => quote_spanned! {output_span=>
            |e| #krate::__private::DebugMessage::observe_message(e)
        },
    };
    let output_type = nameable_output(&function.sig.output);
    // `ret`: the returned value (the `Ok` value of a `Result`) goes on the
    // terminal event, captured only while the span records.
    let record_return = args.ret.map(|mode| {
        let (method, traits) = match mode {
            RetMode::Serialize => (
                quote_spanned!(output_span=> observe_return),
                quote!(OkReturn as _, PlainReturn as _),
            ),
            RetMode::Debug => (
                quote_spanned!(output_span=> observe_return_debug),
                quote!(OkReturnDebug as _, PlainReturnDebug as _),
            ),
        };
        quote! {
            if __observe_recording {
                #[allow(unused_imports)]
                use #krate::__private::{#traits};
                #krate::__private::record_return((&#krate::__private::ReturnProbe(&__observe_out)).#method());
            }
        }
    });
    let classify = |out_type: Option<TokenStream>, body: TokenStream| {
        quote! {
            let __observe_out #out_type = #body;
            #record_return
            let __observe_returned = (&#krate::__private::Probe(&__observe_out))
                .observe_terminal(__observe_recording, #describe);
            (__observe_out, __observe_returned)
        }
    };

    let block = &function.block;
    let new_body = if function.sig.asyncness.is_some() {
        let inner = classify(output_type, quote!(async move #block.await));
        quote! {{
            #call_site
            #krate::__private::observe_async(&__OBSERVE_CALL, move |__observe_span| {
                #capture_input
                let __observe_recording = __observe_span.is_recording();
                async move { #inner }
            }).await
        }}
    } else if let Some((boxed, inner_block)) = async_trait_body(&function.block) {
        // `#[async_trait]` has already turned `async fn` into a function that
        // returns `Box::pin(async move { .. })`: instrument the inner future,
        // whose output is the `Output = T` of the boxed future's type.
        let output_type = future_output(&function.sig.output).map(|ty| quote!(: #ty));
        let inner = classify(output_type, quote!(async move #inner_block.await));
        let pin = &boxed.func;
        quote! {{
            #call_site
            #pin(#krate::__private::observe_async(&__OBSERVE_CALL, move |__observe_span| {
                #capture_input
                let __observe_recording = __observe_span.is_recording();
                async move { #inner }
            }))
        }}
    } else {
        let closure_output = match &function.sig.output {
            ReturnType::Type(arrow, ty) if output_type.is_some() => quote!(#arrow #ty),
            _ => TokenStream::new(),
        };
        let inner = classify(output_type, quote!((move || #closure_output #block)()));
        quote! {{
            #call_site
            #krate::__private::observe_sync(&__OBSERVE_CALL, move |__observe_span| {
                #capture_input
                let __observe_recording = __observe_span.is_recording();
                #inner
            })
        }}
    };
    *function.block = syn::parse2::<Block>(new_body)?;
    Ok(quote!(#function))
}

/// Parses the item; anything but a function with a body is an error that
/// says what `#[observed]` applies to.
fn parse_function(item: TokenStream) -> Result<ItemFn, Failure> {
    if let Ok(function) = syn::parse2::<ItemFn>(item.clone()) {
        return Ok(function);
    }
    let message = "#[observed] applies to functions and methods with a body";
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Verbatim(tokens)) => Err(Failure::Invalid(syn::Error::new_spanned(
            tokens,
            format!("{message}; a function without a body has nothing to observe"),
        ))),
        Ok(other) => Err(Failure::Invalid(syn::Error::new(
            item_keyword_span(&other),
            format!("{message}, not to this item"),
        ))),
        Err(_) => Err(Failure::Unparsable),
    }
}

/// The span of an item's leading keyword (`struct`, `enum`, ...).
fn item_keyword_span(item: &syn::Item) -> proc_macro2::Span {
    match item {
        syn::Item::Struct(s) => s.struct_token.span,
        syn::Item::Enum(e) => e.enum_token.span,
        syn::Item::Const(c) => c.const_token.span,
        syn::Item::Static(s) => s.static_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        syn::Item::Trait(t) => t.trait_token.span,
        syn::Item::Mod(m) => m.mod_token.span,
        syn::Item::Type(t) => t.type_token.span,
        syn::Item::Use(u) => u.use_token.span,
        other => other.span(),
    }
}

/// The names bound by the function's parameters (`self` included).
fn argument_names(function: &ItemFn) -> Vec<String> {
    fn collect(pat: &Pat, names: &mut Vec<String>) {
        match pat {
            Pat::Ident(p) => names.push(p.ident.to_string()),
            Pat::Tuple(t) => t.elems.iter().for_each(|p| collect(p, names)),
            Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect(p, names)),
            Pat::Struct(s) => s.fields.iter().for_each(|f| collect(&f.pat, names)),
            Pat::Reference(r) => collect(&r.pat, names),
            Pat::Type(t) => collect(&t.pat, names),
            Pat::Slice(s) => s.elems.iter().for_each(|p| collect(p, names)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    for input in &function.sig.inputs {
        match input {
            FnArg::Receiver(_) => names.push("self".to_owned()),
            FnArg::Typed(typed) => collect(&typed.pat, &mut names),
        }
    }
    names
}

/// `: Type` for the output binding when the return type can be written in a
/// `let` (not when it contains `impl Trait`), which lets `?` in the body
/// infer its error conversion.
fn nameable_output(output: &ReturnType) -> Option<TokenStream> {
    match output {
        ReturnType::Default => Some(quote!(: ())),
        ReturnType::Type(_, ty) if !contains_impl_trait(ty) => Some(quote!(: #ty)),
        ReturnType::Type(..) => None,
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    // A token-level scan is enough: `impl` cannot appear in a type otherwise.
    fn scan(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Group(g) => scan(g.stream()),
            _ => false,
        })
    }
    scan(quote!(#ty))
}

/// Recognizes the body `#[async_trait]` generates: a single
/// `Box::pin(async move { .. })` expression. Returns the call and the inner
/// block.
fn async_trait_body(block: &Block) -> Option<(&syn::ExprCall, &Block)> {
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<_> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match &call.args[0] {
        Expr::Async(inner) if inner.capture.is_some() => Some((call, &inner.block)),
        _ => None,
    }
}

/// The `T` of `-> Pin<Box<dyn Future<Output = T> + ..>>`, as `#[async_trait]`
/// writes it; `None` when it cannot be found or contains `impl Trait`.
fn future_output(output: &ReturnType) -> Option<&Type> {
    fn in_type(ty: &Type) -> Option<&Type> {
        match ty {
            Type::Path(path) => in_path(&path.path),
            Type::TraitObject(object) => object.bounds.iter().find_map(|bound| match bound {
                syn::TypeParamBound::Trait(t) => in_path(&t.path),
                _ => None,
            }),
            Type::Paren(inner) => in_type(&inner.elem),
            _ => None,
        }
    }
    fn in_path(path: &syn::Path) -> Option<&Type> {
        path.segments.iter().find_map(|segment| {
            let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                return None;
            };
            args.args.iter().find_map(|arg| match arg {
                syn::GenericArgument::AssocType(assoc) if assoc.ident == "Output" => {
                    Some(&assoc.ty)
                }
                syn::GenericArgument::Type(inner) => in_type(inner),
                _ => None,
            })
        })
    }
    match output {
        ReturnType::Type(_, ty) => in_type(ty).filter(|found| !contains_impl_trait(found)),
        ReturnType::Default => None,
    }
}
