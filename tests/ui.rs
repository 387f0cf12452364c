//! Compile-time checks of `#[observed]` and `emit!`: the failing cases must
//! fail with the reviewed messages in `tests/ui/fail/*.stderr`, and the
//! passing cases (every kind of function the macro supports) must compile.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
