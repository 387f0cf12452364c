//! The JSON-like payload of `emit!(T, { "key": value, ... })`, parsed by the
//! macro itself (as `serde_json::json!` reads it: objects, arrays, `null`,
//! and any expression as a leaf) and expanded into calls to the runtime's
//! bounded `PayloadBuilder`, so a leaf that fails to serialize, panics, or
//! is too deep or too large never fails the caller.

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, LitStr, Token, token};

/// A key: a string literal, or (as in `json!`) any expression that is
/// `Into<String>`, written before the `:`.
pub enum Key {
    Str(LitStr),
    Expr(Expr),
}

/// One JSON-like value.
pub enum Node {
    Object(Vec<(Key, Node)>),
    Array(Vec<Node>),
    Null,
    Leaf(Expr),
}

impl Parse for Node {
    fn parse(input: ParseStream) -> syn::Result<Node> {
        if input.peek(token::Brace) {
            let content;
            syn::braced!(content in input);
            return parse_entries(&content).map(Node::Object);
        }
        if input.peek(token::Bracket) {
            let content;
            syn::bracketed!(content in input);
            return parse_items(&content).map(Node::Array);
        }
        if let Some((ident, _)) = input.cursor().ident()
            && ident == "null"
        {
            input.parse::<Ident>()?;
            return Ok(Node::Null);
        }
        input.parse().map(Node::Leaf)
    }
}

fn parse_entries(input: ParseStream) -> syn::Result<Vec<(Key, Node)>> {
    let mut entries = Vec::new();
    while !input.is_empty() {
        let key = parse_key(input)?;
        input.parse::<Token![:]>()?;
        entries.push((key, input.parse()?));
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(entries)
}

fn parse_items(input: ParseStream) -> syn::Result<Vec<Node>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(input.parse()?);
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(items)
}

/// The tokens before the entry's `:` (a `::` belongs to a path).
fn parse_key(input: ParseStream) -> syn::Result<Key> {
    let mut tokens = TokenStream::new();
    while !(input.is_empty() || input.peek(Token![:]) && !input.peek(Token![::])) {
        if input.peek(Token![::]) {
            input.parse::<Token![::]>()?.to_tokens(&mut tokens);
        } else {
            input.parse::<TokenTree>()?.to_tokens(&mut tokens);
        }
    }
    if tokens.is_empty() {
        return Err(input.error("expected a key (a string literal) before `:`"));
    }
    if input.is_empty() {
        return Err(syn::Error::new_spanned(
            &tokens,
            "expected `:` and a value after this key",
        ));
    }
    match syn::parse2::<LitStr>(tokens.clone()) {
        Ok(key) => Ok(Key::Str(key)),
        Err(_) => syn::parse2(tokens).map(Key::Expr),
    }
}

impl ToTokens for Key {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Key::Str(key) => key.to_tokens(tokens),
            Key::Expr(key @ (Expr::Lit(_) | Expr::Path(_))) => key.to_tokens(tokens),
            Key::Expr(key) => quote!((#key)).to_tokens(tokens),
        }
    }
}

/// `&value`, spanned on the value so a type that is not `Serialize` is
/// reported there; parenthesized unless it is a literal or a path.
fn reference(value: &Expr) -> TokenStream {
    match value {
        Expr::Lit(_) | Expr::Path(_) => quote_spanned!(value.span()=> &#value),
        _ => quote_spanned!(value.span()=> &(#value)),
    }
}

/// The builder calls that add `node` (under `key` in an object) to the
/// payload built by `builder`.
pub fn build(node: &Node, key: Option<&Key>, builder: &Ident, out: &mut TokenStream) {
    let open = match node {
        Node::Leaf(value) => return leaf(key, reference(value), builder, out),
        Node::Null => return leaf(key, quote!(&()), builder, out),
        Node::Object(_) => quote!(object),
        Node::Array(_) => quote!(array),
    };
    if let Some(key) = key {
        out.extend(quote!(#builder.key(#key);));
    }
    out.extend(quote!(#builder.#open();));
    build_children(node, builder, out);
    out.extend(quote!(#builder.end();));
}

fn leaf(key: Option<&Key>, value: TokenStream, builder: &Ident, out: &mut TokenStream) {
    out.extend(match key {
        Some(key) => quote!(#builder.field(#key, #value);),
        None => quote!(#builder.value(#value);),
    });
}

/// The calls that add the entries or items of an object or array.
pub fn build_children(node: &Node, builder: &Ident, out: &mut TokenStream) {
    match node {
        Node::Object(entries) => {
            for (key, value) in entries {
                build(value, Some(key), builder, out);
            }
        }
        Node::Array(items) => {
            for item in items {
                build(item, None, builder, out);
            }
        }
        Node::Null | Node::Leaf(_) => {}
    }
}
