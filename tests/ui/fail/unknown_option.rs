#[observe::observed(processor = "llm", retries = 3)]
fn complete(prompt: &str) -> usize {
    prompt.len()
}

fn main() {}
