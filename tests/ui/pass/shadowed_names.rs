// The user's own items named like std's do not break the expansion.
#![allow(dead_code, non_camel_case_types)]

struct Result;
struct Ok;
struct Err;
struct Box;
struct Option;
struct Some;
struct None;
struct Future;
struct String;
struct Vec;
mod core {}
mod std {}

#[observe::observed(processor = "retrieval", input = query)]
fn retrieve(query: &str) -> ::core::result::Result<u8, ::std::string::String> {
    if query.is_empty() {
        ::core::result::Result::Err(::std::string::String::from("empty"))
    } else {
        ::core::result::Result::Ok(1)
    }
}

#[observe::observed(processor = "llm")]
async fn complete(prompt: u8) -> Result {
    let _ = prompt;
    Result
}

#[observe::observed(processor = "intent")]
fn own_types() -> Option {
    observe::emit!(observe::EventType::MessageReceived, { "channel": "web" });
    Option
}

fn main() {
    let _ = retrieve("q");
    let _ = own_types();
    let _future = complete(1);
}
