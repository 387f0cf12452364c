// `ret` records the returned value through `Serialize`; a type without it
// gets one error that says to derive it or to write `ret(Debug)`.
#[derive(Debug)]
struct Ranking {
    top: u8,
}

#[observe::observed(processor = "llm", ret)]
fn rank() -> Ranking {
    Ranking { top: 3 }
}

fn main() {
    let _ = rank().top;
}
