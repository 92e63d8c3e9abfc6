#![deny(warnings, unreachable_pub)]
#![forbid(unsafe_code)]

use jobs_core::job;

/// Compiled out together with everything `#[job]` generates for it.
#[cfg(any())]
#[job]
async fn never_compiled(id: i64) {
    let _ = id;
}

mod private {
    #[jobs_core::job(unique = true)]
    pub(crate) async fn exported_from_private_module(id: i64) {
        let _ = id;
    }
}

#[job]
#[cfg(all())]
async fn compiled(id: i64) {
    let _ = id;
}

fn main() {
    assert_eq!(private::exported_from_private_module::NAME, "exported_from_private_module");
    assert_eq!(compiled::NAME, "compiled");
    assert!(!jobs_core::__private::jobs().any(|job| job.name == "never_compiled"));
}
