// Methods with every kind of receiver.
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

struct Index {
    docs: Vec<String>,
}

impl Index {
    #[observe::observed(processor = "retrieval", input = query)]
    fn by_ref(&self, query: &str) -> usize {
        self.docs.iter().filter(|d| d.contains(query)).count()
    }

    #[observe::observed(processor = "retrieval")]
    fn by_mut(&mut self, doc: String) {
        self.docs.push(doc);
    }

    #[observe::observed(processor = "retrieval")]
    fn by_value(self) -> Vec<String> {
        self.docs
    }

    #[observe::observed(processor = "retrieval")]
    fn boxed(self: Box<Self>) -> usize {
        self.docs.len()
    }

    #[observe::observed(processor = "retrieval")]
    fn rc(self: Rc<Self>) -> usize {
        self.docs.len()
    }

    #[observe::observed(processor = "retrieval")]
    fn arc(self: Arc<Self>) -> usize {
        self.docs.len()
    }

    #[observe::observed(processor = "retrieval")]
    fn pinned(self: Pin<&mut Self>) -> usize {
        self.docs.len()
    }

    #[observe::observed(processor = "retrieval")]
    async fn async_ref(&self, query: &str) -> usize {
        self.by_ref(query)
    }

    #[observe::observed(processor = "retrieval")]
    async fn async_mut(&mut self) -> Result<usize, std::io::Error> {
        Ok(self.docs.len())
    }

    #[observe::observed(processor = "retrieval")]
    fn associated(n: usize) -> Self {
        Index { docs: vec![String::new(); n] }
    }
}

fn main() {
    let mut index = Index::associated(1);
    index.by_mut("doc".into());
    let _ = index.by_ref("d");
    let _ = Box::new(Index::associated(1)).boxed();
    let _ = Rc::new(Index::associated(1)).rc();
    let _ = Arc::new(Index::associated(1)).arc();
    let mut pinned = Index::associated(1);
    let _ = Pin::new(&mut pinned).pinned();
    let _ = index.by_value();
}
