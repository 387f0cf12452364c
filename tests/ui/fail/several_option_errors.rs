// Every mistake in the options is reported at once, each on its token.
#[observe::observed(processor = "retrievl", err(Fmt), input = missing)]
fn retrieve(query: &str) -> usize {
    query.len()
}

fn main() {
    retrieve("q");
}
