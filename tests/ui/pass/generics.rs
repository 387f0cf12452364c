// Generic functions, where clauses, lifetimes, impl Trait in both positions.
use std::fmt::Display;

#[observe::observed(processor = "translation", input = text)]
fn translate<'a, T>(text: &'a T, _to: impl AsRef<str>) -> String
where
    T: Display + ?Sized,
{
    text.to_string()
}

#[observe::observed(processor = "retrieval")]
fn matching<'a>(docs: &'a [String], word: &'a str) -> impl Iterator<Item = &'a String> + 'a {
    docs.iter().filter(move |d| d.contains(word))
}

#[observe::observed(processor = "llm")]
fn identity<R>(value: R) -> R {
    value
}

#[observe::observed(processor = "llm")]
async fn generic_async<E: std::error::Error>(value: Result<u8, E>) -> Result<u8, E> {
    value
}

#[observe::observed(processor = "retrieval")]
fn first<'a>(docs: &'a [&'a str]) -> Option<&'a str> {
    docs.first().copied()
}

fn main() {
    let _ = translate("hola", "en");
    let docs = vec![String::from("a b")];
    let _ = matching(&docs, "a").count();
    let _ = identity(3);
    let _ = first(&["x"]);
    let _ = generic_async::<std::io::Error>(Ok(1));
}
