#[observe::observed(processor = "intent")]
const fn classify(code: u8) -> u8 {
    code + 1
}

fn main() {}
