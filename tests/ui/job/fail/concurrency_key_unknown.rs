use jobs_core::{job, JobContext, State};

#[derive(Clone)]
struct App;

#[job(concurrency = 1, concurrency_key = "acount_id")]
async fn sync_account(app: State<App>, account_id: i64, full: bool) {
    let _ = (app, account_id, full);
}

// a `State` or `JobContext` parameter is not an argument
#[job(concurrency = 1, concurrency_key = "ctx")]
async fn sync_contacts(ctx: JobContext, account_id: i64) {
    let _ = (ctx, account_id);
}

#[job(concurrency = 1, concurrency_key = "account_id")]
async fn sync_everything() {}

fn main() {}
