#[observe::observed(processor = "re-trieval")]
fn retrieve(query: &str) -> usize {
    query.len()
}

fn main() {}
