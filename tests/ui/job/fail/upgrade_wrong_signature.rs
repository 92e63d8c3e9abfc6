use jobs_core::job;

fn takes_a_string(_from: u32, args: String) -> Result<String, String> {
    Ok(args)
}

struct NotDisplay;

fn error_not_display(
    _from: u32,
    args: serde_json::Value,
) -> Result<serde_json::Value, NotDisplay> {
    Ok(args)
}

#[job(version = 2, upgrade = takes_a_string)]
async fn send_email(user_id: i64) {
    let _ = user_id;
}

#[job(version = 2, upgrade = error_not_display)]
async fn send_report(user_id: i64) {
    let _ = user_id;
}

fn main() {}
