use jobs_core::recurring;

#[recurring(id = "nightly-report")]
async fn nightly_report() {}

fn main() {}
