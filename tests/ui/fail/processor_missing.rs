#[observe::observed(input = query)]
fn retrieve(query: &str) -> usize {
    query.len()
}

fn main() {}
