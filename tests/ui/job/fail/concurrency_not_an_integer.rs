use jobs_core::job;

#[job(concurrency = "4")]
async fn sync_account(account_id: i64) {
    let _ = account_id;
}

#[job(concurrency = 2.5)]
async fn sync_contacts(account_id: i64) {
    let _ = account_id;
}

fn main() {}
