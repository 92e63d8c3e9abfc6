//! What `jobs` says when it cannot do its work: one `error: ...` line on
//! standard error and a non-zero exit code, never a panic.

mod common;

use common::{Store, database_url, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_that_does_not_parse_is_a_clear_error() {
    let run = run(
        vec!["--database-url".into(), "not a url".into(), "status".into()],
        &[],
    )
    .await;
    let line = run.error(1);
    assert!(
        line.starts_with("error: the database URL is not valid: "),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_answer_is_a_clear_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/jobs");
    let failed = run(
        vec!["--database-url".into(), url.clone(), "list".into()],
        &[],
    )
    .await;
    let line = failed.error(1);
    assert!(
        line.starts_with("error: could not connect to the database: "),
        "{line}"
    );
    // health reports it as a verdict, exit code 3
    let health = run(
        vec![
            "--database-url".into(),
            url,
            "health".into(),
            "--json".into(),
        ],
        &[],
    )
    .await;
    assert_eq!(health.code, Some(3), "{health:#?}");
    let verdict: serde_json::Value = serde_json::from_str(&health.stdout).unwrap();
    assert_eq!(verdict["status"], "unhealthy");
    let reason = verdict["reasons"][0].as_str().unwrap();
    assert!(
        reason.starts_with("the backend cannot be used: could not connect to the database"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_database_url_is_a_clear_error_and_the_environment_is_the_default() {
    let missing = run(vec!["status".into()], &[]).await;
    assert_eq!(
        missing.error(1),
        "error: no database given: pass --database-url or set DATABASE_URL"
    );
    let store = Store::new(true).await;
    let url = database_url();
    let from_env = run(
        vec!["--schema".into(), store.schema.clone(), "workers".into()],
        &[("DATABASE_URL", url.as_str())],
    )
    .await;
    assert_eq!(from_env.ok(), "no live workers\n");
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmigrated_schema_is_a_clear_error() {
    let store = Store::new(false).await;
    let expected = format!(
        "error: schema `{0}` is not migrated (it is at version 0, this `jobs` needs {1}): run `jobs migrate --schema {0}` first",
        store.schema,
        jobs_postgres::SCHEMA_VERSION
    );
    for command in [
        &["status"][..],
        &["list"],
        &["show", "1"],
        &["retry", "1"],
        &["cancel", "1"],
        &["delete", "1"],
        &["schedules"],
        &["trigger", "cli-nightly"],
        &["workers", "--json"],
    ] {
        let run = store.jobs(command).await;
        assert_eq!(run.error(1), expected, "{command:?}");
    }
    let health = store.jobs(&["health"]).await;
    assert_eq!(health.code, Some(3), "{health:#?}");
    assert_eq!(
        health.stdout,
        format!(
            "unhealthy\n- the backend cannot be used: {}\n",
            &expected["error: ".len()..]
        ),
        "{health:#?}"
    );
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_argument_is_refused_before_connecting() {
    let store = Store::new(true).await;
    let run = store.jobs(&["list", "--state", "lost"]).await;
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr
            .contains("unknown state `lost`: use one of awaiting, scheduled"),
        "{run:#?}"
    );
    let run = store.jobs(&["retry", "--state", "completed"]).await;
    assert_eq!(
        run.error(1),
        "error: `--state completed`: only dead, cancelled, retryable and scheduled jobs can be retried"
    );
    let url = database_url();
    let run = common::run(
        vec![
            "--database-url".into(),
            url,
            "--schema".into(),
            "Not-Valid".into(),
            "status".into(),
        ],
        &[],
    )
    .await;
    assert!(
        run.error(1)
            .starts_with("error: invalid schema name `Not-Valid`"),
        "{run:#?}"
    );
    store.drop_schema().await;
}
