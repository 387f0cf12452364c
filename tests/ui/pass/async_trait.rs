// #[async_trait] methods: the inner future is instrumented, not its creation.
use async_trait::async_trait;

#[async_trait]
trait Llm {
    async fn complete(&self, prompt: &str) -> Result<String, std::io::Error>;
}

struct Echo;

#[async_trait]
impl Llm for Echo {
    #[observe::observed(processor = "llm", input = prompt)]
    async fn complete(&self, prompt: &str) -> Result<String, std::io::Error> {
        Ok(prompt.to_owned())
    }
}

fn main() {
    let _future = Echo.complete("hi");
}
