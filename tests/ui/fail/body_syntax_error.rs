// A syntax error in the body gets rustc's own message, and no other.
#[observe::observed(processor = "retrieval")]
fn retrieve(query: &str) -> usize {
    let n = ;
    query.len()
}

fn main() {
    retrieve("q");
}
