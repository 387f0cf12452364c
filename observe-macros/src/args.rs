//! Parsing and validating the options of `#[observed(...)]`. Every mistake is
//! a `syn::Error` spanned on the offending token.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Path, Token};

use crate::registry;

/// How an error's message is taken for `error_occurred`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ErrMode {
    Display,
    Debug,
}

/// How `ret` records the returned value (the `Ok` value of a `Result`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RetMode {
    /// As JSON, through `Serialize` (`ret`).
    Serialize,
    /// As its `Debug` text (`ret(Debug)`).
    Debug,
}

/// The validated options of one `#[observed(...)]`.
pub struct Args {
    /// The processor name, as written (its span points at the string).
    pub processor: LitStr,
    /// `input = <expr>`: what to preview on error.
    pub input: Option<Expr>,
    /// `name = "..."`: the operation's name (default: the function's).
    pub name: Option<LitStr>,
    pub err: ErrMode,
    /// `ret` or `ret(Debug)`: record the returned value on the terminal
    /// event.
    pub ret: Option<RetMode>,
    /// `crate = path`: where the `observe` facade is (default `::observe`).
    pub krate: Path,
    /// `registry = path`: an application's registry module.
    pub registry: Option<Path>,
}

const OPTIONS: &str = "processor, input, name, err, ret, crate, registry";

/// One `key = value` or `err(...)` option.
enum Opt {
    Processor(Ident, Expr),
    Input(Ident, Expr),
    Name(Ident, Expr),
    Err(Ident, Ident),
    Ret(Ident, Option<Ident>),
    Crate(Ident, Path),
    Registry(Ident, Path),
}

impl Opt {
    fn key(&self) -> &Ident {
        match self {
            Opt::Processor(k, _)
            | Opt::Input(k, _)
            | Opt::Name(k, _)
            | Opt::Err(k, _)
            | Opt::Ret(k, _)
            | Opt::Crate(k, _)
            | Opt::Registry(k, _) => k,
        }
    }
}

impl Parse for Opt {
    fn parse(input: ParseStream) -> syn::Result<Opt> {
        let key: Ident = if input.peek(Token![crate]) {
            let kw: Token![crate] = input.parse()?;
            Ident::new("crate", kw.span)
        } else {
            input.parse()?
        };
        if key == "err" {
            let content;
            syn::parenthesized!(content in input);
            let mode: Ident = content.parse()?;
            if !content.is_empty() {
                return Err(content.error("expected `err(Display)` or `err(Debug)`"));
            }
            return Ok(Opt::Err(key, mode));
        }
        if key == "ret" {
            if !input.peek(syn::token::Paren) {
                return Ok(Opt::Ret(key, None));
            }
            let content;
            syn::parenthesized!(content in input);
            let mode: Ident = content.parse()?;
            if !content.is_empty() {
                return Err(content.error("expected `ret` or `ret(Debug)`"));
            }
            return Ok(Opt::Ret(key, Some(mode)));
        }
        if !["processor", "input", "name", "crate", "registry"].contains(&key.to_string().as_str())
        {
            let hint = registry::closest(&key.to_string(), OPTIONS.split(", "))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(syn::Error::new(
                key.span(),
                format!("unknown option `{key}` for #[observed]{hint} (options: {OPTIONS})"),
            ));
        }
        input.parse::<Token![=]>()?;
        Ok(match key.to_string().as_str() {
            "processor" => Opt::Processor(key, input.parse()?),
            "input" => Opt::Input(key, input.parse()?),
            "name" => Opt::Name(key, input.parse()?),
            "crate" => Opt::Crate(key, input.parse()?),
            _ => Opt::Registry(key, input.parse()?),
        })
    }
}

fn string_literal(key: &Ident, value: Expr) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Ok(s),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes a string literal, for example `{key} = \"retrieval\"`"),
        )),
    }
}

impl Args {
    /// Parses the attribute's tokens; `arg_names` are the function's argument
    /// names, against which `input` is checked.
    pub fn parse(tokens: TokenStream, arg_names: &[String]) -> syn::Result<Args> {
        let opts = Punctuated::<Opt, Token![,]>::parse_terminated.parse2(tokens)?;
        // Every mistake in the options is reported, not only the first.
        let mut errors = Errors::default();
        let mut seen: Vec<String> = Vec::new();
        let mut processor = None;
        let mut input = None;
        let mut name = None;
        let mut err = ErrMode::Display;
        let mut ret = None;
        let mut krate = None;
        let mut registry = None;
        for opt in opts {
            let key = opt.key().to_string();
            if seen.contains(&key) {
                errors.push(syn::Error::new(
                    opt.key().span(),
                    format!("duplicate option `{key}`"),
                ));
                continue;
            }
            seen.push(key);
            match opt {
                Opt::Processor(k, v) => processor = errors.keep(string_literal(&k, v)),
                Opt::Name(k, v) => name = errors.keep(string_literal(&k, v)),
                Opt::Input(_, v) => {
                    if errors.keep(check_input(&v, arg_names)).is_some() {
                        input = Some(v);
                    }
                }
                Opt::Err(_, mode) if mode == "Display" => err = ErrMode::Display,
                Opt::Err(_, mode) if mode == "Debug" => err = ErrMode::Debug,
                Opt::Err(_, mode) => errors.push(syn::Error::new(
                    mode.span(),
                    format!("unknown error mode `{mode}`: expected `err(Display)` or `err(Debug)`"),
                )),
                Opt::Ret(_, None) => ret = Some(RetMode::Serialize),
                Opt::Ret(_, Some(mode)) if mode == "Debug" => ret = Some(RetMode::Debug),
                Opt::Ret(_, Some(mode)) => errors.push(syn::Error::new(
                    mode.span(),
                    format!(
                        "unknown mode `{mode}` for `ret`: write `ret` (the value through `Serialize`) \
                         or `ret(Debug)`"
                    ),
                )),
                Opt::Crate(_, path) => krate = Some(path),
                Opt::Registry(_, path) => registry = Some(path),
            }
        }
        match &processor {
            Some(processor) => {
                errors.keep(check_processor(processor, registry.is_some()));
            }
            // A processor given with a mistake was reported already.
            None if seen.iter().any(|k| k == "processor") => {}
            None => errors.push(syn::Error::new(
                Span::call_site(),
                format!(
                    "#[observed] needs a processor, for example `#[observed(processor = \"retrieval\")]` \
                     (built-in processors: {})",
                    registry::PROCESSORS.join(", ")
                ),
            )),
        }
        errors.finish()?;
        let Some(processor) = processor else {
            // Not reached: a missing processor is one of the errors above.
            return Err(syn::Error::new(
                Span::call_site(),
                "#[observed] needs a processor",
            ));
        };
        Ok(Args {
            processor,
            input,
            name,
            err,
            ret,
            krate: krate.unwrap_or_else(|| syn::parse_quote!(::observe)),
            registry,
        })
    }
}

/// A processor name must be an identifier; in the built-in registry it must
/// also be registered (an application's registry is checked by the compiler
/// when the generated path is resolved).
fn check_processor(processor: &LitStr, custom_registry: bool) -> syn::Result<()> {
    let name = processor.value();
    if syn::parse_str::<Ident>(&name).is_err() {
        return Err(syn::Error::new(
            processor.span(),
            format!("processor `{name}` is not a valid name: use letters, digits and `_`"),
        ));
    }
    if custom_registry || registry::PROCESSORS.contains(&name.as_str()) {
        return Ok(());
    }
    let hint = match registry::closest(&name, registry::PROCESSORS.iter().copied()) {
        Some(close) => format!("; did you mean `{close}`?"),
        None => String::new(),
    };
    Err(syn::Error::new(
        processor.span(),
        format!(
            "unknown processor `{name}`{hint} (registered: {}; declare your own with `observe::registry!` and `registry = path`)",
            registry::PROCESSORS.join(", ")
        ),
    ))
}

/// `input` must start from one of the function's arguments (or `self`).
fn check_input(expr: &Expr, arg_names: &[String]) -> syn::Result<()> {
    let mut base = expr;
    loop {
        base = match base {
            Expr::Field(e) => &e.base,
            Expr::MethodCall(e) => &e.receiver,
            Expr::Index(e) => &e.expr,
            Expr::Reference(e) => &e.expr,
            Expr::Paren(e) => &e.expr,
            Expr::Unary(e) => &e.expr,
            Expr::Cast(e) => &e.expr,
            Expr::Try(e) => &e.expr,
            _ => break,
        };
    }
    if let Expr::Path(path) = base
        && let Some(ident) = path.path.get_ident()
        && !arg_names.iter().any(|a| ident == a)
    {
        let args = if arg_names.is_empty() {
            "the function has no arguments".to_owned()
        } else {
            format!("arguments: {}", arg_names.join(", "))
        };
        return Err(syn::Error::new(
            ident.span(),
            format!(
                "`input` must be an expression over the function's arguments, and `{ident}` is not one ({args})"
            ),
        ));
    }
    Ok(())
}

/// The mistakes found so far, combined into one `syn::Error` at the end (as
/// serde_derive's `Ctxt` does).
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// The value of `result`, or `None` with its error kept.
    fn keep<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
