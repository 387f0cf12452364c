//! Expansion snapshots: each case's expansion, formatted with `prettyplease`,
//! is checked in under `observe-macros/tests/expand/`, so every change to
//! the generated code shows in review. Run with `UPDATE_SNAPSHOTS=1` to
//! rewrite them after an intended change.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

fn check(name: &str, expanded: TokenStream) {
    let file = syn::parse2::<syn::File>(expanded.clone())
        .unwrap_or_else(|e| panic!("{name}: the expansion does not parse: {e}\n{expanded}"));
    let pretty = prettyplease::unparse(&file);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expand")
        .join(format!("{name}.expanded.rs"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &pretty).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{name}: no snapshot at {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert!(
        expected == pretty,
        "{name}: the expansion changed; review it and run with UPDATE_SNAPSHOTS=1\n--- expected\n{expected}\n--- actual\n{pretty}"
    );
}

fn observed(name: &str, attr: TokenStream, item: TokenStream) {
    check(name, crate::observed::expand(attr, item).unwrap());
}

#[test]
fn sync_function() {
    observed(
        "sync_function",
        quote!(processor = "retrieval"),
        quote! {
            fn retrieve(query: &str) -> Result<Vec<Doc>, RetrievalError> {
                search(query)
            }
        },
    );
}

#[test]
fn async_function_with_input() {
    observed(
        "async_function_with_input",
        quote!(processor = "retrieval", input = query),
        quote! {
            pub async fn retrieve(query: &str) -> Result<Vec<Doc>, RetrievalError> {
                let docs = search(query).await?;
                Ok(docs)
            }
        },
    );
}

#[test]
fn sync_function_with_ret() {
    observed(
        "sync_function_with_ret",
        quote!(processor = "intent", ret),
        quote! {
            fn classify(message: &str) -> Result<Intent, ModelError> {
                model.classify(message)
            }
        },
    );
}

#[test]
fn impl_trait_return_with_options() {
    observed(
        "impl_trait_return_with_options",
        quote!(
            processor = "llm",
            name = "stream",
            err(Debug),
            crate = my::observe
        ),
        quote! {
            fn tokens<'a>(&'a self) -> impl Iterator<Item = &'a str> {
                self.text.split(' ')
            }
        },
    );
}

#[test]
fn async_trait_method() {
    observed(
        "async_trait_method",
        quote!(processor = "llm"),
        quote! {
            fn complete<'a>(&'a self, prompt: &'a str)
                -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send + 'a>>
            {
                Box::pin(async move { self.client.complete(prompt).await })
            }
        },
    );
}

#[test]
fn emit_forms() {
    let cases = [
        quote!(EventType::MessageReceived),
        quote!(EventType::MessageReceived, { "channel": "web", "user": user_id }),
        quote!(EventType::MessageReceived, {
            "text": message.trim(),
            "usage": { "tokens": 512, "model": null },
            "tags": ["faq", tag, [1, 2]],
            key_name: true,
        }),
        quote!(observe::EventType::ResponseSent, response,),
        quote!(
            EventType::ErrorOccurred,
            ErrorPayload::new("Timeout", "no answer", "llm")
        ),
    ];
    let items: Vec<TokenStream> = cases
        .into_iter()
        .map(|case| {
            let call = crate::emit::expand(case).unwrap();
            quote!(fn f() { #call; })
        })
        .collect();
    check("emit_forms", quote!(#(#items)*));
}
