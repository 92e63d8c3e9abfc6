//! The dashboard in a real headless Chromium, driven through ChromeDriver,
//! over a real PostgreSQL: what an operator does, click by click. Each
//! page's screenshot is saved under `docs/screenshots/` for the README.
//!
//! Needs `chromium` and `chromedriver` on the PATH (Debian's `chromium` and
//! `chromium-driver`; `.ci/run` installs them) and `DATABASE_URL`. Without
//! them the test fails: it never skips.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use jobs_core::{Batch, Client, JobFilter, JobId, JobState, Schedule, Worker, job};
use jobs_dashboard::Dashboard;
use jobs_postgres::PgBackend;
use tokio::process::{Child, Command};

mod common;
use common::{database_url, unique_schema};

/// Until set, `flaky` fails with an error that looks like markup.
static FIXED: AtomicBool = AtomicBool::new(false);

#[job(name = "dashboard_flaky", retries = 0, queue = "mailer")]
async fn flaky(user_id: i64) -> Result<(), String> {
    if FIXED.load(Ordering::SeqCst) {
        return Ok(());
    }
    Err(format!(
        "<script>document.title='pwned'</script> smtp refused user {user_id}"
    ))
}

#[job(name = "dashboard_report")]
async fn report(tenant: i64) {
    let _ = tenant;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// ChromeDriver on a loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // a group of its own, so dropping the driver ends the browsers it started
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect(
                "chromedriver is not installed: install Debian's `chromium` and `chromium-driver`",
            );
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self { child, url };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen on port {port}");
    }

    async fn browser(&self) -> Browser {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900"]
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("start a headless Chromium session")
    }
}

impl Drop for Driver {
    /// Ends ChromeDriver and every browser it started (its process group),
    /// also when the test failed before closing its session.
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        let _ = self.child.start_kill();
    }
}

/// Serves the dashboard under `/jobs` on a loopback port; returns its base URL.
async fn serve(client: Client) -> String {
    let app = axum::Router::new().nest("/jobs", Dashboard::new(client).router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve the dashboard");
    });
    format!("http://{addr}/jobs")
}

async fn screenshot(browser: &Browser, name: &str) {
    let png = browser.screenshot().await.expect("take a screenshot");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("create docs/screenshots");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("save the screenshot");
}

/// The page's text; while a navigation is under way (a form that submits
/// itself), asks again until the new page is there.
async fn body_text(browser: &Browser) -> String {
    let mut last_error = None;
    for _ in 0..50 {
        match browser.find(Locator::Css("body")).await {
            Ok(body) => match body.text().await {
                Ok(text) => return text,
                Err(error) => last_error = Some(error),
            },
            Err(error) => last_error = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page has no readable body: {last_error:?}");
}

/// Reloads until the page's text contains `what`.
async fn reload_until(browser: &Browser, what: &str) {
    for _ in 0..100 {
        if body_text(browser).await.contains(what) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        browser.refresh().await.expect("reload");
    }
    panic!(
        "the page never showed {what:?}: {}",
        body_text(browser).await
    );
}

async fn wait_for(client: &Client, id: JobId, state: JobState) {
    for _ in 0..200 {
        if client
            .job(id)
            .await
            .unwrap()
            .is_some_and(|job| job.state == state)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} never became {state}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_a_dead_job_reads_its_error_and_retries_it() {
    let schema = unique_schema("dash");
    let backend = PgBackend::builder()
        .schema(&schema)
        .max_connections(6)
        .connect(&database_url())
        .await
        .expect("connect to DATABASE_URL");
    backend.migrate().await.expect("migrate");
    let client = Client::new(backend.clone());
    let worker = Worker::builder(backend.clone())
        .queue("mailer", 2)
        .queue("default", 2)
        .only(&[flaky::NAME, report::NAME])
        .poll_interval(Duration::from_millis(100))
        .build()
        .expect("a worker")
        .start();
    let dead = flaky::enqueue(&client, 7).await.unwrap();
    wait_for(&client, dead, JobState::Dead).await;
    for tenant in 0..3 {
        report::enqueue(&client, tenant).await.unwrap();
    }
    let batch = Batch::new()
        .jobs((10..13).map(report::with))
        .on_success(report::with(99))
        .enqueue(&client)
        .await
        .unwrap();
    client
        .upsert_schedule(
            Schedule::new("tenant-7-report", "0 0 6 * * *")
                .tz("Europe/Berlin")
                .job(report::with(7)),
        )
        .await
        .unwrap();

    let base = serve(client.clone()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;

    // the overview
    browser.goto(&base).await.unwrap();
    reload_until(&browser, "mailer").await;
    let overview = body_text(&browser).await;
    assert!(overview.contains("Finished in the last hour"), "{overview}");
    screenshot(&browser, "overview").await;

    // jobs by state: the dead one
    browser
        .goto(&format!("{base}/jobs?state=dead"))
        .await
        .unwrap();
    screenshot(&browser, "jobs").await;
    browser
        .find(Locator::LinkText(&dead.to_string()))
        .await
        .expect("a link to the dead job")
        .click()
        .await
        .unwrap();

    // its error history, markup shown as text and never run
    let page = body_text(&browser).await;
    assert!(page.contains("dead"), "{page}");
    assert!(
        page.contains("<script>document.title='pwned'</script> smtp refused user 7"),
        "the error renders as text: {page}"
    );
    let title = browser.title().await.unwrap();
    assert!(!title.contains("pwned"), "a stored script ran: {title}");
    let scripts = browser
        .execute("return document.scripts.length", vec![])
        .await
        .unwrap();
    assert_eq!(
        scripts,
        serde_json::json!(0),
        "no script element on the page"
    );
    screenshot(&browser, "job").await;

    // retry with one click, and watch it complete
    FIXED.store(true, Ordering::SeqCst);
    browser
        .find(Locator::XPath("//button[normalize-space()='Retry now']"))
        .await
        .expect("a retry button")
        .click()
        .await
        .unwrap();
    reload_until(&browser, "completed").await;
    wait_for(&client, dead, JobState::Completed).await;

    // pause the mailer queue: it accepts a job but starts nothing
    browser.goto(&base).await.unwrap();
    browser
        .find(Locator::Css("button[aria-label='pause queue mailer']"))
        .await
        .expect("a pause button for the mailer queue")
        .click()
        .await
        .unwrap();
    reload_until(&browser, "Paused queue mailer").await;
    let held = flaky::enqueue(&client, 8).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        client.job(held).await.unwrap().map(|job| job.state),
        Some(JobState::Available),
        "a paused queue starts nothing"
    );
    screenshot(&browser, "overview-paused").await;
    browser
        .find(Locator::Css("button[aria-label='resume queue mailer']"))
        .await
        .expect("a resume button")
        .click()
        .await
        .unwrap();
    reload_until(&browser, "Resumed queue mailer").await;
    wait_for(&client, held, JobState::Completed).await;

    // a forged cross-site POST: a page elsewhere submits a delete form
    let target = format!("{base}/jobs/{dead}/delete");
    let forged = format!(
        "data:text/html,<form method='post' action='{target}'><input name='csrf' value='guess'></form><script>document.forms[0].submit()</script>"
    );
    browser.goto(&forged).await.unwrap();
    reload_until(&browser, "refused").await;
    assert!(
        client.job(dead).await.unwrap().is_some(),
        "the forged delete was refused"
    );

    // schedules and a batch
    browser.goto(&format!("{base}/schedules")).await.unwrap();
    let page = body_text(&browser).await;
    assert!(
        page.contains("tenant-7-report") && page.contains("Europe/Berlin"),
        "{page}"
    );
    screenshot(&browser, "schedules").await;
    browser
        .find(Locator::XPath("//button[normalize-space()='Trigger now']"))
        .await
        .expect("a trigger button")
        .click()
        .await
        .unwrap();
    reload_until(&browser, "Enqueued by schedule tenant-7-report").await;
    let triggered = body_text(&browser).await;
    assert!(triggered.contains("dashboard_report"), "{triggered}");

    // the live workers
    browser.goto(&format!("{base}/workers")).await.unwrap();
    reload_until(&browser, "mailer ×2").await;
    screenshot(&browser, "workers").await;
    browser
        .goto(&format!("{base}/batches/{batch}"))
        .await
        .unwrap();
    reload_until(&browser, "finished").await;
    screenshot(&browser, "batch").await;
    let members = client.list(JobFilter::new().batch(batch)).await.unwrap();
    assert_eq!(members.len(), 3);

    browser.close().await.unwrap();
    worker.shutdown().await;
}
