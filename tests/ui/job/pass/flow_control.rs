#![deny(warnings)]

use std::time::Duration;

use jobs_core::{job, recurring, JobContext};

#[job(concurrency = 1, concurrency_key = "account_id")]
async fn sync_account(ctx: JobContext, account_id: i64, full: bool) {
    let _ = (ctx, account_id, full);
}

#[job(rate_limit = "100/1m", queue = "mailer")]
async fn send_newsletter(user_id: i64) {
    let _ = user_id;
}

#[job(concurrency = 8, rate_limit = "5000/1s")]
async fn resize(r#type: String) {
    let _ = r#type;
}

#[job(concurrency = 4, concurrency_key = "type")]
async fn keyed_by_raw_name(r#type: String) {
    let _ = r#type;
}

#[recurring(cron = "0 * * * * *", id = "sweep", concurrency = 1, rate_limit = "1/1s")]
async fn sweep() {}

fn main() {
    let limit = sync_account::definition().concurrency.expect("limited");
    assert_eq!((limit.max, limit.key), (1, Some("account_id")));
    let rate = send_newsletter::definition().rate_limit.expect("limited");
    assert_eq!((rate.max, rate.per), (100, Duration::from_secs(60)));
    let resize = resize::definition();
    assert_eq!(resize.concurrency.map(|c| (c.max, c.key)), Some((8, None)));
    assert_eq!(resize.rate_limit.map(|r| r.per), Some(Duration::from_secs(1)));
    assert_eq!(keyed_by_raw_name::definition().concurrency.and_then(|c| c.key), Some("type"));
    assert_eq!(sweep::definition().concurrency.map(|c| c.max), Some(1));
    assert!(send_newsletter::definition().concurrency.is_none());
}
