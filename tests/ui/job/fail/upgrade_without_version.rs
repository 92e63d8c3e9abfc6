use jobs_core::job;

fn upgrade_send_email(
    _from: u32,
    args: serde_json::Value,
) -> Result<serde_json::Value, String> {
    Ok(args)
}

#[job(upgrade = upgrade_send_email)]
async fn send_email(user_id: i64) {
    let _ = user_id;
}

#[job(version = 1, upgrade = upgrade_send_email)]
async fn send_report(user_id: i64) {
    let _ = user_id;
}

fn main() {}
