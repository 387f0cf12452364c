fn main() {
    observe::emit!("rerank_startd");
}
