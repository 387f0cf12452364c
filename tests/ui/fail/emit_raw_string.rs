fn main() {
    observe::emit!("message_received", { "channel": "web" });
}
