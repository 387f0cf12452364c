#[observe::observed(processor = "retrieval", input = qury)]
fn retrieve(query: &str) -> usize {
    query.len()
}

fn main() {}
