#[observe::observed(processor = "llm", processor = "intent")]
fn complete(prompt: &str) -> usize {
    prompt.len()
}

fn main() {}
