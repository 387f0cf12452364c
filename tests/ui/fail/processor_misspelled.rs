#[observe::observed(processor = "retrievl")]
fn retrieve(query: &str) -> usize {
    query.len()
}

fn main() {}
