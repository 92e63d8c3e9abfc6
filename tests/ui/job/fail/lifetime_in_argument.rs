use std::borrow::Cow;

use jobs_core::job;

#[job]
async fn greet(name: Cow<'_, str>) {
    let _ = name;
}

fn main() {}
