trait Retrieve {
    #[observe::observed(processor = "retrieval")]
    fn retrieve(&self, query: &str) -> usize;
}

fn main() {}
