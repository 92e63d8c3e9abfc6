use std::rc::Rc;

use jobs_core::job;

async fn fetch() {}

#[job]
async fn count(id: i64) {
    let shared = Rc::new(id);
    fetch().await;
    let _ = shared;
}

fn main() {}
