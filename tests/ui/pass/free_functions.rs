// Sync and async free functions, with and without Result, early return and `?`.
#[derive(Debug)]
struct RetrievalError;

impl std::fmt::Display for RetrievalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("retrieval failed")
    }
}

fn parse(text: &str) -> Result<u32, RetrievalError> {
    text.parse().map_err(|_| RetrievalError)
}

#[observe::observed(processor = "retrieval", input = query)]
fn retrieve(query: &str) -> Result<u32, RetrievalError> {
    if query.is_empty() {
        return Err(RetrievalError);
    }
    let n = parse(query)?;
    Ok(n + 1)
}

#[observe::observed(processor = "llm", err(Debug))]
async fn complete(prompt: String) -> Result<String, RetrievalError> {
    if prompt.is_empty() {
        return Err(RetrievalError);
    }
    let n = parse(&prompt)?;
    Ok(format!("{n}"))
}

#[observe::observed(processor = "intent", name = "classify_intent")]
fn classify(_text: &str) {}

fn main() {
    let _ = retrieve("41");
    classify("hello");
    let _future = complete(String::from("7"));
}
