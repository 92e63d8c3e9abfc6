use jobs_core::job;

#[job(rate_limit = "100")]
async fn no_window(user_id: i64) {
    let _ = user_id;
}

#[job(rate_limit = "0/1s")]
async fn zero_starts(user_id: i64) {
    let _ = user_id;
}

#[job(rate_limit = "100/banana")]
async fn bad_window(user_id: i64) {
    let _ = user_id;
}

#[job(rate_limit = "x/1s")]
async fn bad_count(user_id: i64) {
    let _ = user_id;
}

#[job(rate_limit = 100)]
async fn not_a_string(user_id: i64) {
    let _ = user_id;
}

fn main() {}
