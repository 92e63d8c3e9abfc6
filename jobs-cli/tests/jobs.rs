//! `jobs migrate`, `list`, `show`, `retry`, `cancel` and `delete`, each in
//! human and JSON form.

mod common;

use common::{Store, cli_fails, cli_mail};
use jobs_core::JobState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_schema_and_runs_again_harmlessly() {
    let store = Store::new(false).await;
    let expected = format!(
        "schema `{}` is migrated to version {}\n",
        store.schema,
        jobs_postgres::SCHEMA_VERSION
    );
    assert_eq!(store.jobs(&["migrate"]).await.ok(), expected);
    assert_eq!(store.jobs(&["migrate"]).await.ok(), expected);
    let json = store.jobs(&["migrate", "--json"]).await.json();
    assert_eq!(
        json,
        serde_json::json!({"schema": store.schema, "version": jobs_postgres::SCHEMA_VERSION})
    );
    store.backend.check_schema().await.expect("usable now");
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_by_state_queue_and_kind_and_pages() {
    let store = Store::new(true).await;
    let mut mails = Vec::new();
    for n in 0..5 {
        let to = format!("user{n}@example.com");
        mails.push(cli_mail::enqueue(&store.client, to).await.unwrap().get());
    }
    let dead = store.dead_jobs(1).await[0].get();

    let all = store.jobs(&["list", "--json"]).await.json();
    let ids: Vec<i64> = ids_of(&all);
    assert_eq!(ids, [mails.clone(), vec![dead]].concat());

    let page = store
        .jobs(&[
            "list", "--queue", "cli_mail", "--kind", "cli_mail", "--limit", "2", "--offset", "1",
            "--json",
        ])
        .await
        .json();
    assert_eq!(ids_of(&page), mails[1..3]);
    assert_eq!(
        page[0]["args"],
        serde_json::json!({"to": "user1@example.com"})
    );

    let dead_only = store
        .jobs(&["list", "--state", "dead", "--json"])
        .await
        .json();
    assert_eq!(ids_of(&dead_only), [dead]);
    assert_eq!(dead_only[0]["state"], "dead");
    assert_eq!(dead_only[0]["kind"], "cli_fails");

    let text = store.jobs(&["list", "--state", "DEAD"]).await;
    let lines: Vec<&str> = text.ok().lines().collect();
    assert_eq!(lines.len(), 2, "{text:#?}");
    assert!(
        lines[0].starts_with("ID  STATE  QUEUE    KIND"),
        "{text:#?}"
    );
    assert!(lines[1].starts_with(&format!("{dead}")), "{text:#?}");
    assert!(
        lines[1].contains(" dead ") && lines[1].contains("cli_fails"),
        "{text:#?}"
    );
    assert!(
        lines[1].ends_with("boom 0 second line"),
        "the last error, on one line: {text:#?}"
    );

    let none = store.jobs(&["list", "--kind", "nothing_like_it"]).await;
    assert_eq!(none.ok(), "no jobs match\n");
    assert_eq!(
        store
            .jobs(&["list", "--kind", "nothing_like_it", "--json"])
            .await
            .json(),
        serde_json::json!([])
    );
    store.drop_schema().await;
}

fn ids_of(jobs: &serde_json::Value) -> Vec<i64> {
    jobs.as_array()
        .expect("an array of jobs")
        .iter()
        .map(|job| job["id"].as_i64().expect("an id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_prints_one_job_and_an_unknown_id_fails() {
    let store = Store::new(true).await;
    let dead = store.dead_jobs(1).await[0].get();
    let id = dead.to_string();

    let text = store.jobs(&["show", &id]).await;
    let text = text.ok();
    assert!(
        text.starts_with(&format!("job {dead}\nkind:       cli_fails\n")),
        "{text}"
    );
    assert!(text.contains("\nstate:      dead\n"), "{text}");
    assert!(text.contains("\nattempt:    1 of 1\n"), "{text}");
    assert!(
        text.contains("\narguments:\n  {\n    \"n\": 0\n  }\n"),
        "{text}"
    );
    assert!(text.contains("\nerrors:\n  attempt 1 at "), "{text}");
    assert!(text.ends_with(": boom 0 second line\n"), "{text}");

    let json = store.jobs(&["show", &id, "--json"]).await.json();
    assert_eq!(json["id"], dead);
    assert_eq!(json["state"], "dead");
    assert_eq!(json["errors"][0]["message"], "boom 0\nsecond line");
    assert_eq!(json["errors"][0]["attempt"], 1);

    let unknown = store.jobs(&["show", "987654321"]).await;
    assert_eq!(unknown.error(1), "error: job 987654321 does not exist");
    let unknown = store.jobs(&["show", "987654321", "--json"]).await;
    assert_eq!(unknown.error(1), "error: job 987654321 does not exist");
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_by_id_and_by_filter() {
    let store = Store::new(true).await;
    let dead = store.dead_jobs(3).await;
    let first = dead[0].get().to_string();

    assert_eq!(
        store.jobs(&["retry", &first]).await.ok(),
        format!("retried job {first}\n")
    );
    assert_eq!(
        store.client.job(dead[0]).await.unwrap().unwrap().state,
        JobState::Available
    );

    // one not retriable (available now), one unknown: both said, exit 1
    let mixed = store.jobs(&["retry", &first, "987654321", "--json"]).await;
    assert_eq!(mixed.code, Some(1), "{mixed:#?}");
    let json: serde_json::Value = serde_json::from_str(&mixed.stdout).unwrap();
    assert_eq!(json["done"], serde_json::json!([]));
    assert_eq!(json["failed"][1]["id"], 987654321);
    let errors: Vec<&str> = mixed.stderr.lines().collect();
    assert_eq!(
        errors,
        [
            format!(
                "error: job {first} was not retried: it is available (only dead, cancelled, retryable and scheduled jobs can be)"
            )
            .as_str(),
            "error: job 987654321 does not exist",
        ]
    );

    let by_filter = store
        .jobs(&["retry", "--state", "dead", "--kind", "cli_fails", "--json"])
        .await
        .json();
    assert_eq!(
        by_filter,
        serde_json::json!({"done": [dead[1].get(), dead[2].get()], "failed": []})
    );
    for id in &dead {
        assert_eq!(
            store.client.job(*id).await.unwrap().unwrap().state,
            JobState::Available
        );
    }
    let nothing = store.jobs(&["retry", "--state", "dead"]).await;
    assert_eq!(nothing.ok(), "no jobs retried\n");
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_delete_say_what_they_did() {
    let store = Store::new(true).await;
    let job = cli_mail::enqueue(&store.client, "a@example.com".into())
        .await
        .unwrap();
    let id = job.get().to_string();

    assert_eq!(
        store.jobs(&["cancel", &id]).await.ok(),
        format!("cancelled job {id}\n")
    );
    assert_eq!(
        store.client.job(job).await.unwrap().unwrap().state,
        JobState::Cancelled
    );
    let again = store.jobs(&["cancel", &id]).await;
    assert_eq!(
        again.error(1),
        format!("error: job {id} was not cancelled: it is already cancelled")
    );

    let deleted = store.jobs(&["delete", &id, "--json"]).await.json();
    assert_eq!(
        deleted,
        serde_json::json!({"done": [job.get()], "failed": []})
    );
    assert_eq!(store.client.job(job).await.unwrap(), None);
    let gone = store.jobs(&["delete", &id]).await;
    assert_eq!(gone.error(1), format!("error: job {id} does not exist"));
    let gone = store.jobs(&["cancel", &id]).await;
    assert_eq!(gone.error(1), format!("error: job {id} does not exist"));

    // several at once, a waiting job deleted without cancelling it first
    let first = cli_fails::enqueue(&store.client, 1).await.unwrap().get();
    let second = cli_fails::enqueue(&store.client, 2).await.unwrap().get();
    let (first, second) = (first.to_string(), second.to_string());
    assert_eq!(
        store.jobs(&["delete", &first, &second]).await.ok(),
        format!("deleted job {first}\ndeleted job {second}\n")
    );
    store.drop_schema().await;
}
