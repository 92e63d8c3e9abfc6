use jobs_core::job;

#[job]
async fn count_users() -> Result<(), impl std::fmt::Display> {
    Ok::<(), String>(())
}

fn main() {}
