// One mistake in the attribute is one error: the function is kept as
// written, so its callers compile and report nothing more.
#[observe::observed(processor = "retrievl")]
fn retrieve(query: &str) -> usize {
    query.len()
}

fn main() {
    let n: usize = retrieve("q") + 1;
    println!("{n}");
}
