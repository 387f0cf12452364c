#[derive(Debug)]
struct Opaque;

#[observe::observed(processor = "llm")]
fn complete(prompt: &str) -> Result<usize, Opaque> {
    if prompt.is_empty() { Err(Opaque) } else { Ok(prompt.len()) }
}

fn main() {}
