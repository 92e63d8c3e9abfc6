use jobs_core::job;

#[job(concurrency_key = "account_id")]
async fn sync_account(account_id: i64) {
    let _ = account_id;
}

fn main() {}
