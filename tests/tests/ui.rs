//! Compile-time behaviour of `#[job]` and `#[recurring]`: every mistake in
//! `ui/*/fail` must fail with the `.stderr` next to it, and every program
//! in `ui/*/pass` must build.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*/fail/*.rs");
    cases.pass("ui/*/pass/*.rs");
}
