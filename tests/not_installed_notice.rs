//! Forgetting `observe::init` is not silent: instrumented code that runs
//! while no pipeline was ever installed writes one line to standard error,
//! once per process; `OBSERVE_QUIET=1` or `silence_not_installed_notice`
//! silence it, and a process whose pipeline was installed and shut down
//! does not get it. Each case runs in a child process of this test binary,
//! whose standard error is read.

use std::process::Command;

#[observe::observed(processor = "retrieval")]
fn retrieve(query: &str) -> usize {
    query.len()
}

/// The child's part, selected by the environment variable `NOTICE_CASE`.
fn child(case: &str) {
    match case {
        "calls" => {}
        "silenced" => observe::silence_not_installed_notice(),
        "after_shutdown" => {
            let guard = observe::init(observe::Config::default().sink(observe::sink::NullSink))
                .expect("install");
            drop(guard);
        }
        other => panic!("unknown case {other}"),
    }
    for _ in 0..3 {
        retrieve("where is my order");
        observe::emit!(observe::EventType::MessageReceived, { "channel": "web" });
    }
}

/// Runs this binary's `notice` test as a child with `case` (and `env`),
/// and returns its standard error.
fn stderr_of(case: &str, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "notice", "--nocapture", "--test-threads=1"])
        .env("NOTICE_CASE", case)
        .env_remove(observe::NOTICE_ENV);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run the child");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stderr).unwrap()
}

fn notices(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains("no pipeline is installed"))
        .count()
}

#[test]
fn notice() {
    // Run directly, there is nothing to do: the other tests drive the cases.
    if let Ok(case) = std::env::var("NOTICE_CASE") {
        child(&case);
    }
}

#[test]
fn instrumented_code_without_a_pipeline_says_so_once() {
    let stderr = stderr_of("calls", &[]);
    assert_eq!(notices(&stderr), 1, "{stderr}");
    assert!(stderr.contains("observe::init"), "{stderr}");
}

#[test]
fn the_notice_can_be_silenced() {
    assert_eq!(
        notices(&stderr_of("calls", &[(observe::NOTICE_ENV, "1")])),
        0
    );
    assert_eq!(notices(&stderr_of("silenced", &[])), 0);
}

#[test]
fn a_pipeline_that_was_shut_down_gives_no_notice() {
    assert_eq!(notices(&stderr_of("after_shutdown", &[])), 0);
}
