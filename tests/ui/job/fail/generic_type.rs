use jobs_core::job;

#[job]
async fn store<T: Send>(id: i64) {
    let _ = id;
}

fn main() {}
