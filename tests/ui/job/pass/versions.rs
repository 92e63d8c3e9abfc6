use jobs_core::job;

#[job(version = 2, upgrade = upgrade_send_email)]
async fn send_email(user_id: i64, template: String, locale: String) -> anyhow::Result<()> {
    let _ = (user_id, template, locale);
    Ok(())
}

fn upgrade_send_email(from: u32, mut args: serde_json::Value) -> Result<serde_json::Value, String> {
    if from < 2 {
        args["locale"] = "en".into();
    }
    Ok(args)
}

mod upgrades {
    #[derive(Debug)]
    pub struct Bad;

    impl std::fmt::Display for Bad {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bad")
        }
    }

    pub fn report(_from: u32, args: serde_json::Value) -> Result<serde_json::Value, Bad> {
        Ok(args)
    }
}

// a path, a custom error type, and a version without an upgrade
#[job(version = 7, upgrade = upgrades::report)]
async fn send_report(user_id: i64, note: Option<String>) {
    let _ = (user_id, note);
}

#[job(version = 3)]
async fn renamed_field(user_id: i64) {
    let _ = user_id;
}

fn main() {
    assert_eq!(send_email::NAME, "send_email");
}
