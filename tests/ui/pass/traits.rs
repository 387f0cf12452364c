// async fn in traits and in trait impls, default methods.
trait Retriever {
    async fn retrieve(&self, query: &str) -> Result<Vec<String>, std::io::Error>;

    #[observe::observed(processor = "retrieval")]
    fn count(&self, query: &str) -> usize {
        query.len()
    }

    #[observe::observed(processor = "retrieval")]
    async fn default_async(&self) -> usize {
        1
    }
}

struct Memory;

impl Retriever for Memory {
    #[observe::observed(processor = "retrieval", input = query)]
    async fn retrieve(&self, query: &str) -> Result<Vec<String>, std::io::Error> {
        Ok(vec![query.to_owned()])
    }
}

fn main() {
    let _ = Memory.count("q");
    let _future = Memory.retrieve("q");
    let _future = Memory.default_async();
}
