use jobs_core::{recurring, State};

struct App;

#[recurring(cron = "0 0 2 * * *", id = "nightly-report")]
async fn nightly_report(app: State<App>, day: u32) {
    let _ = (app, day);
}

fn main() {}
