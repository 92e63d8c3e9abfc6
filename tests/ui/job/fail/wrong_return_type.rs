use jobs_core::job;

#[job]
async fn count_users() -> u64 {
    42
}

fn main() {}
