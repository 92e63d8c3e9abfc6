//! `jobs status`, `workers`, `health`, `schedules` and `trigger`, with a
//! live worker on the schema.

mod common;

use std::time::Duration;

use common::{Store, cli_mail, cli_nightly};
use jobs_core::{Worker, WorkerHandle};

/// A worker serving `cli_mail` with concurrency 3 that runs no job (only
/// the recurring one, which it stores), listed when this returns.
async fn start_worker(store: &Store) -> (String, WorkerHandle) {
    let worker = Worker::builder(store.backend.clone())
        .queue("cli_mail", 3)
        .only(&[cli_nightly::NAME])
        .build()
        .unwrap();
    let id = worker.id().to_owned();
    let handle = worker.start();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let listed = store.client.workers().await.unwrap();
        let stored = store.client.schedules().await.unwrap();
        if listed.iter().any(|worker| worker.id == id) && !stored.is_empty() {
            return (id, handle);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker never showed up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_lists_the_live_workers() {
    let store = Store::new(true).await;
    assert_eq!(store.jobs(&["workers"]).await.ok(), "no live workers\n");
    assert_eq!(
        store.jobs(&["workers", "--json"]).await.json(),
        serde_json::json!([])
    );

    let (id, handle) = start_worker(&store).await;
    let json = store.jobs(&["workers", "--json"]).await.json();
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(json[0]["id"], id.as_str());
    assert_eq!(json[0]["pid"], std::process::id());
    assert_eq!(
        json[0]["queues"],
        serde_json::json!([{"name": "cli_mail", "concurrency": 3}])
    );
    assert_eq!(json[0]["running"], 0);
    let text = store.jobs(&["workers"]).await;
    let lines: Vec<&str> = text.ok().lines().collect();
    assert!(lines[0].starts_with("WORKER"), "{text:#?}");
    assert!(
        lines[1].starts_with(&id) && lines[1].contains(" cli_mail:3 "),
        "{text:#?}"
    );

    handle.shutdown().await;
    assert_eq!(store.jobs(&["workers"]).await.ok(), "no live workers\n");
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_counts_jobs_per_queue_and_state_and_shows_workers() {
    let store = Store::new(true).await;
    let empty = store.jobs(&["status"]).await;
    assert_eq!(
        empty.ok(),
        format!("schema `{}`\n\nno jobs\n\nno live workers\n", store.schema)
    );

    for n in 0..2 {
        cli_mail::enqueue(&store.client, format!("{n}@example.com"))
            .await
            .unwrap();
    }
    store.dead_jobs(1).await;
    let (id, handle) = start_worker(&store).await;

    let json = store.jobs(&["status", "--json"]).await.json();
    assert_eq!(json["schema"], store.schema.as_str());
    assert_eq!(json["queues"]["cli_mail"]["available"], 2);
    assert_eq!(json["queues"]["cli_mail"]["dead"], 0);
    assert_eq!(json["queues"]["default"]["dead"], 1);
    assert!(
        json["queues"]["cli_mail"]["oldest_available_at"].is_string(),
        "{json}"
    );
    assert_eq!(json["workers"][0]["id"], id.as_str());

    let text = store.jobs(&["status"]).await;
    let lines: Vec<&str> = text.ok().lines().collect();
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        [
            "QUEUE",
            "AWAITING",
            "SCHEDULED",
            "AVAILABLE",
            "RUNNING",
            "RETRYABLE",
            "COMPLETED",
            "DEAD",
            "CANCELLED",
            "LAG"
        ],
        "{text:#?}"
    );
    let mail: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(
        mail[..9],
        ["cli_mail", "0", "0", "2", "0", "0", "0", "0", "0"],
        "{text:#?}"
    );
    assert!(mail[9].ends_with('s'), "the lag, in seconds: {text:#?}");
    let default: Vec<&str> = lines[4].split_whitespace().collect();
    assert_eq!(
        default,
        ["default", "0", "0", "0", "0", "0", "0", "1", "0", "-"],
        "{text:#?}"
    );
    assert!(lines[6].starts_with("WORKER"), "{text:#?}");
    assert!(lines[7].starts_with(&id), "{text:#?}");
    handle.shutdown().await;
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_says_the_verdict_and_why() {
    let store = Store::new(true).await;
    assert_eq!(store.jobs(&["health"]).await.ok(), "healthy\n");
    assert_eq!(
        store.jobs(&["health", "--json"]).await.json(),
        serde_json::json!({"status": "healthy", "reasons": []})
    );

    cli_mail::enqueue(&store.client, "a@example.com".into())
        .await
        .unwrap();
    let degraded = store.jobs(&["health"]).await;
    assert_eq!(
        degraded.ok(),
        "degraded\n- queue `cli_mail` has 1 available job, but no live worker serves it\n"
    );
    let json = store.jobs(&["health", "--json"]).await.json();
    assert_eq!(json["status"], "degraded");

    let (_id, handle) = start_worker(&store).await;
    assert_eq!(store.jobs(&["health"]).await.ok(), "healthy\n");
    handle.shutdown().await;
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_lists_them_and_trigger_enqueues_one_now() {
    let store = Store::new(true).await;
    assert_eq!(store.jobs(&["schedules"]).await.ok(), "no schedules\n");
    let (_id, handle) = start_worker(&store).await;

    let json = store.jobs(&["schedules", "--json"]).await.json();
    assert_eq!(json[0]["id"], "cli-nightly");
    assert_eq!(json[0]["kind"], cli_nightly::NAME);
    assert_eq!(json[0]["cron"], "0 0 3 * * *");
    assert_eq!(json[0]["orphaned"], false);
    assert_eq!(json[0]["misfire"], "once");
    assert_eq!(json[0]["origin"], "declared");
    let text = store.jobs(&["schedules"]).await;
    let lines: Vec<&str> = text.ok().lines().collect();
    assert!(lines[0].starts_with("SCHEDULE"), "{text:#?}");
    assert!(
        lines[1].starts_with("cli-nightly") && lines[1].ends_with("no"),
        "{text:#?}"
    );
    handle.shutdown().await;

    let triggered = store
        .jobs(&["trigger", "cli-nightly", "--json"])
        .await
        .json();
    assert_eq!(triggered["schedule"], "cli-nightly");
    let job = jobs_core::JobId::new(triggered["job"].as_i64().expect("a job id"));
    let stored = store.client.job(job).await.unwrap().expect("enqueued");
    assert_eq!(stored.kind, cli_nightly::NAME);
    assert_eq!(stored.state, jobs_core::JobState::Available);
    let again = store.jobs(&["trigger", "cli-nightly"]).await;
    assert!(again.ok().starts_with("enqueued job "), "{again:#?}");

    let unknown = store.jobs(&["trigger", "no-such-schedule"]).await;
    assert_eq!(
        unknown.error(1),
        "error: no recurring schedule with id `no-such-schedule` is stored"
    );
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_a_queue() {
    let store = Store::new(true).await;
    let paused = store.jobs(&["pause", "cli_mail"]).await;
    assert_eq!(paused.ok(), "paused queue `cli_mail`\n");
    let again = store.jobs(&["pause", "cli_mail", "--json"]).await.json();
    assert_eq!(
        again,
        serde_json::json!({"queue": "cli_mail", "paused": true, "changed": false})
    );
    let queues = store.client.queues().await.unwrap();
    assert!(
        queues
            .iter()
            .any(|queue| queue.name == "cli_mail" && queue.paused)
    );
    let status = store.jobs(&["status"]).await;
    assert!(
        status.ok().contains("paused queues: cli_mail"),
        "{status:#?}"
    );
    let json = store.jobs(&["status", "--json"]).await.json();
    assert_eq!(json["paused"], serde_json::json!(["cli_mail"]));

    assert_eq!(
        store.jobs(&["resume", "cli_mail"]).await.ok(),
        "resumed queue `cli_mail`\n"
    );
    assert_eq!(
        store.jobs(&["resume", "cli_mail"]).await.ok(),
        "queue `cli_mail` was not paused\n"
    );
    let queues = store.client.queues().await.unwrap();
    assert!(!queues.iter().any(|queue| queue.paused));

    let bad = store.jobs(&["pause", "Not A Queue"]).await;
    let line = bad.error(1);
    assert!(line.contains("invalid queue name"), "{line}");
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_refuses_an_address_it_cannot_listen_on() {
    let store = Store::new(true).await;
    // a port in use: the command says so in one line and exits non-zero
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = store.jobs(&["dashboard", "--bind", &addr]).await;
    let line = run.error(1);
    assert!(line.contains("could not listen on"), "{line}");
    store.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_serves_the_store_on_a_loopback_port() {
    use std::io::{Read, Write};

    let store = Store::new(true).await;
    cli_mail::enqueue(&store.client, "ada@example.com".into())
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jobs"))
        .args(["--database-url", &common::database_url()])
        .args(["--schema", &store.schema])
        .args(["dashboard", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start `jobs dashboard`");
    let mut page = String::new();
    for _ in 0..100 {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let request = format!(
                "GET /jobs/jobs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).unwrap();
            stream.read_to_string(&mut page).unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("cli_mail"),
        "the page lists the stored job: {page}"
    );
    store.drop_schema().await;
}
