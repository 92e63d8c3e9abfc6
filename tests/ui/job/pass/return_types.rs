#![deny(warnings)]

use jobs_core::{job, JobError};

#[job]
async fn unit() {}

#[job]
async fn explicit_unit() -> () {}

#[job]
async fn job_error(id: i64) -> Result<(), JobError> {
    if id < 0 {
        return Err(JobError::permanent("negative id"));
    }
    Ok(())
}

#[job]
async fn with_anyhow(id: i64) -> anyhow::Result<()> {
    anyhow::ensure!(id >= 0, "negative id");
    Ok(())
}

#[job]
async fn boxed(id: i64) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if id < 0 {
        return Err("negative id".into());
    }
    Ok(())
}

#[job]
async fn io(path: String) -> std::io::Result<()> {
    let _ = path;
    Ok(())
}

#[derive(Debug)]
struct MailError;

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mail server down")
    }
}

#[job]
async fn custom(id: i64) -> Result<(), MailError> {
    let _ = id;
    Err(MailError)
}

fn main() {
    for name in [
        unit::NAME,
        explicit_unit::NAME,
        job_error::NAME,
        with_anyhow::NAME,
        boxed::NAME,
        io::NAME,
        custom::NAME,
    ] {
        assert!(jobs_core::__private::jobs().any(|job| job.name == name), "{name}");
    }
}
