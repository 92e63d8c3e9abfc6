use jobs_core::{job, JobError};

#[job]
async fn count_users() -> Result<u64, JobError> {
    Ok(42)
}

fn main() {}
