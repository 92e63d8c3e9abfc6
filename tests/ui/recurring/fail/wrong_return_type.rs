use jobs_core::recurring;

type Report = Result<String, std::io::Error>;

#[recurring(cron = "0 0 2 * * *", id = "nightly-report")]
async fn nightly_report() -> Report {
    Ok("done".to_owned())
}

fn main() {}
