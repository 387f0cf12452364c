// Recursion, sync and boxed async.
use std::future::Future;
use std::pin::Pin;

#[observe::observed(processor = "intent")]
fn depth(n: u32) -> u32 {
    if n == 0 { 0 } else { 1 + depth(n - 1) }
}

#[observe::observed(processor = "intent")]
fn depth_async(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move { if n == 0 { 0 } else { 1 + depth_async(n - 1).await } })
}

fn main() {
    assert_eq!(depth(3), 3);
    let _future = depth_async(3);
}
