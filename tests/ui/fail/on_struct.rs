#[observe::observed(processor = "retrieval")]
struct Retriever {
    index: Vec<String>,
}

fn main() {}
