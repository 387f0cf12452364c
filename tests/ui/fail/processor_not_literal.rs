#[observe::observed(processor = retrieval)]
fn retrieve(query: &str) -> usize {
    query.len()
}

fn main() {}
