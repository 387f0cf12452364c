#[observe::observed(processor = "llm", err(Json))]
fn complete(prompt: &str) -> Result<usize, String> {
    Ok(prompt.len())
}

fn main() {}
