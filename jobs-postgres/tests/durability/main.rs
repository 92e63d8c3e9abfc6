//! Durability under real faults, with real worker processes: SIGKILL in the
//! middle of a job, SIGSTOP past the lease, the leader killed while a
//! schedule ticks every second, and PostgreSQL restarted while 10,000 jobs
//! are worked.
//!
//! The worker processes are this test binary run again with only the
//! ignored `worker_process` test selected and `JOBS_DURABILITY_CHILD` set.
//! The tests run one at a time: they measure timing, and one of them
//! restarts the server.

#[path = "../common/mod.rs"]
mod common;

mod child;
mod fleet;
mod jobs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jobs_core::backend::{
    Backend, JobCompleteManyParams, JobFetchParams, JobHeartbeatParams, RunningAttempt,
};
use jobs_core::retry::RetryPolicy;
use jobs_core::testing::Outcome;
use jobs_core::{Client, JobFilter, JobId, JobState};
use jobs_postgres::PgBackend;
use jobs_postgres::sqlx::postgres::PgPoolOptions;
use jobs_postgres::sqlx::{self, AssertSqlSafe};

use crate::jobs::{hold, quick, tick};

/// Short settings so the faults play out in seconds.
const LEASE: Duration = Duration::from_secs(2);
const SWEEP: Duration = Duration::from_millis(500);
const LEADER_TERM: Duration = Duration::from_secs(1);

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[test]
#[ignore = "the entry point of the worker processes the durability tests start"]
fn worker_process() {
    if std::env::var_os(child::CHILD).is_none() {
        panic!("run by the durability tests as a worker process, not directly");
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(child::run());
}

/// One test's schema, run log and worker processes.
struct Scene {
    backend: PgBackend,
    client: Client,
    dir: PathBuf,
    log: PathBuf,
    workers: Vec<Process>,
    lease: Duration,
}

/// A worker process, killed when dropped so a failing test leaves none.
struct Process {
    child: std::process::Child,
    output: PathBuf,
}

impl Process {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {}", self.pid());
    }

    fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then waits for a graceful exit.
    fn stop(mut self) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.is_alive() {
            assert!(
                Instant::now() < deadline,
                "worker {} did not stop on SIGTERM",
                self.pid()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of the run log.
#[derive(Clone, Debug)]
struct Event {
    at: i64,
    pid: u32,
    event: String,
    job: i64,
    attempt: u32,
}

impl Scene {
    async fn new(name: &str) -> Self {
        let backend = common::fresh_backend().await;
        let dir = std::env::temp_dir().join(format!("jobs-durability-{}", backend.schema()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let log = dir.join("runs.log");
        std::fs::write(&log, "").expect("create the run log");
        eprintln!(
            "{name}: schema {}, files in {}",
            backend.schema(),
            dir.display()
        );
        Self {
            client: Client::new(backend.clone()),
            backend,
            dir,
            log,
            workers: Vec::new(),
            lease: LEASE,
        }
    }

    /// Starts a worker process serving `queues` (`name:concurrency,..`)
    /// with the jobs `only`; returns its index.
    fn spawn(&mut self, queues: &str, only: &[&str]) -> usize {
        let index = self.workers.len();
        let output = self.dir.join(format!("worker-{index}.out"));
        let file = std::fs::File::create(&output).expect("create the worker's output file");
        let child = Command::new(std::env::current_exe().expect("this test binary"))
            .args([
                "--ignored",
                "--exact",
                "worker_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(child::CHILD, "1")
            .env("DATABASE_URL", common::database_url())
            .env("JOBS_SCHEMA", self.backend.schema())
            .env("JOBS_RUN_LOG", &self.log)
            .env("JOBS_QUEUES", queues)
            .env("JOBS_ONLY", only.join(","))
            .env("JOBS_LEASE_MS", self.lease.as_millis().to_string())
            .env("JOBS_SWEEP_MS", SWEEP.as_millis().to_string())
            .env("JOBS_LEADER_TERM_MS", LEADER_TERM.as_millis().to_string())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone a file handle"))
            .stderr(file)
            .spawn()
            .expect("start a worker process");
        self.workers.push(Process { child, output });
        index
    }

    fn pid(&self, index: usize) -> u32 {
        self.workers[index].pid()
    }

    fn events(&self) -> Vec<Event> {
        let text = std::fs::read_to_string(&self.log).expect("read the run log");
        text.lines()
            .map(|line| {
                let f: Vec<&str> = line.split(' ').collect();
                Event {
                    at: f[0].parse().expect("a time"),
                    pid: f[1].parse().expect("a pid"),
                    event: f[2].to_owned(),
                    job: f[3].parse().expect("a job id"),
                    attempt: f[4].parse().expect("an attempt"),
                }
            })
            .collect()
    }

    /// Waits up to `limit` for an event matching `found`.
    async fn wait_for_event(
        &self,
        what: &str,
        limit: Duration,
        found: impl Fn(&Event) -> bool,
    ) -> Event {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(event) = self.events().into_iter().find(|e| found(e)) {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {limit:?}\n{}",
                self.outputs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait_for_state(
        &self,
        id: JobId,
        state: JobState,
        limit: Duration,
    ) -> jobs_core::JobInfo {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(info)) = self.client.job(id).await {
                if info.state == state {
                    return info;
                }
                assert!(
                    Instant::now() < deadline,
                    "job {id} is not {state} within {limit:?}: {info:#?}\n{}",
                    self.outputs()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn outputs(&self) -> String {
        self.workers
            .iter()
            .enumerate()
            .map(|(i, w)| format!("--- worker {i} (pid {}):\n{}", w.pid(), w.output()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn finish(mut self) {
        for worker in self.workers.drain(..) {
            worker.stop();
        }
        common::drop_schema(&self.backend).await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).expect("a short duration")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_job_reruns_it_in_another_worker_within_lease_and_sweep() {
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new("sigkill").await;
    let doomed = scene.spawn("hold:1", &[hold::NAME]);
    let bystander = scene.spawn("default:4", &[quick::NAME]);
    let id = hold::enqueue(&scene.client, 60_000).await.unwrap();
    let doomed_pid = scene.pid(doomed);
    scene
        .wait_for_event("start of attempt 1", Duration::from_secs(20), |e| {
            e.job == id.get() && e.attempt == 1 && e.event == "start"
        })
        .await;
    let mut others = Vec::new();
    for _ in 0..20 {
        others.push(quick::enqueue(&scene.client).await.unwrap());
    }

    scene.workers[doomed].signal("KILL");
    let killed_at = now_ms();
    let rescuer = scene.spawn("hold:1", &[hold::NAME]);
    // when the rescuer process is up (a process start on a busy machine
    // varies): it lists itself among the live workers when it starts
    let rescuer_pid = scene.pid(rescuer);
    let rescuer_up_at = loop {
        let workers = scene.client.workers().await.unwrap();
        if workers.iter().any(|worker| worker.pid == rescuer_pid) {
            break now_ms();
        }
        assert!(now_ms() - killed_at < 20_000, "the rescuer never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let rerun = scene
        .wait_for_event("start of attempt 2", Duration::from_secs(20), |e| {
            e.job == id.get() && e.attempt == 2 && e.event == "start"
        })
        .await;
    let done = scene
        .wait_for_state(id, JobState::Completed, Duration::from_secs(10))
        .await;

    assert_eq!(rerun.pid, scene.pid(rescuer), "another worker ran it");
    assert_ne!(rerun.pid, doomed_pid);
    // rerun within a sweep and the retry's delay (and a second of slack)
    // of the later of the lease's end and the rescuer being up: the rescue
    // counts the lost attempt as failed, so the rerun waits the job's
    // first retry delay (`retries = 3`: 1 s ± 10 %), up to 1.1 s
    let first_retry = RetryPolicy::new(3).delay_with(1, 1.0);
    let delay = rerun.at - killed_at;
    let due = (killed_at + ms(LEASE)).max(rescuer_up_at);
    let late = rerun.at - due;
    let bound = ms(SWEEP) + ms(first_retry) + 1_000;
    eprintln!(
        "sigkill: attempt 2 started {delay} ms after the kill, {late} ms after the lease \
         ended with the rescuer up (bound {bound} ms)"
    );
    assert!(
        late <= bound,
        "rerun {late} ms after the lease ended with the rescuer up, over a sweep ({bound} ms)"
    );
    assert_eq!(done.attempt, 2);
    assert_eq!(done.errors.len(), 1, "{:?}", done.errors);
    assert_eq!(done.errors[0].attempt, 1);
    assert!(
        done.errors[0].message.starts_with("worker lost"),
        "{:?}",
        done.errors
    );

    // nothing else was disturbed: each other job ran once, the bystander lives
    for other in &others {
        let info = scene
            .wait_for_state(*other, JobState::Completed, Duration::from_secs(10))
            .await;
        assert_eq!(info.attempt, 1);
    }
    let runs_of_others = scene
        .events()
        .iter()
        .filter(|e| others.iter().any(|o| o.get() == e.job))
        .count();
    assert_eq!(runs_of_others, others.len());
    assert!(scene.workers[bystander].is_alive());
    scene.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstop_past_the_lease_cannot_overwrite_the_rescued_attempt() {
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new("sigstop").await;
    scene.spawn("hold:1", &[hold::NAME]);
    scene.spawn("hold:1", &[hold::NAME]);
    let id = hold::enqueue(&scene.client, 2_500).await.unwrap();
    let first = scene
        .wait_for_event("start of attempt 1", Duration::from_secs(20), |e| {
            e.job == id.get() && e.attempt == 1 && e.event == "start"
        })
        .await;
    let stalled = scene
        .workers
        .iter()
        .position(|w| w.pid() == first.pid)
        .expect("one of ours");
    scene.workers[stalled].signal("STOP");

    let done = scene
        .wait_for_state(id, JobState::Completed, Duration::from_secs(20))
        .await;
    assert_eq!(done.attempt, 2, "rescued and run again by the other worker");
    // stay stopped past the first attempt's 2.5 s, so it ends at once on resume
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    scene.workers[stalled].signal("CONT");
    scene
        .wait_for_event("the stale attempt's end", Duration::from_secs(10), |e| {
            e.job == id.get() && e.attempt == 1 && e.event == "end"
        })
        .await;
    // give its late failure time to reach the database
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let after = scene.client.job(id).await.unwrap().unwrap();
    assert_eq!(
        after.state,
        JobState::Completed,
        "the late failure must not overwrite: {after:#?}"
    );
    assert_eq!(after.attempt, 2);
    assert_eq!(
        after.errors.len(),
        1,
        "only the lost attempt: {:?}",
        after.errors
    );
    assert!(after.errors[0].message.starts_with("worker lost"));
    assert!(
        after
            .errors
            .iter()
            .all(|e| !e.message.contains("failed late"))
    );
    assert!(
        scene.workers[stalled].is_alive(),
        "the stalled worker carries on"
    );
    scene.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_tick_once_per_second_and_survive_the_leader_s_death() {
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new("recurring").await;
    for _ in 0..3 {
        scene.spawn("default:2", &[tick::NAME]);
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let leader: String = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT worker_id FROM \"{}\".leader",
        scene.backend.schema()
    )))
    .fetch_one(scene.backend.pool())
    .await
    .expect("a leader");
    // worker ids are `host-pid-random`
    let leader_pid: u32 = leader
        .rsplit('-')
        .nth(1)
        .and_then(|pid| pid.parse().ok())
        .expect("a pid in the worker id");
    let leader_index = scene
        .workers
        .iter()
        .position(|w| w.pid() == leader_pid)
        .expect("the leader is one of ours");
    scene.workers[leader_index].signal("KILL");
    let killed_at = chrono::Utc::now();
    tokio::time::sleep(Duration::from_secs(20).saturating_sub(started.elapsed())).await;
    let stopped_at = chrono::Utc::now();
    drop(scene.workers.remove(leader_index));
    scene.finish_workers();

    let sorted = fleet::ticks(&scene).await;
    assert!(sorted.len() >= 15, "only {} ticks in ~20 s", sorted.len());
    let last = *sorted.last().expect("ticks");
    assert!(
        last > killed_at + chrono::Duration::seconds(5),
        "ticks went on after the leader died"
    );
    assert!(
        last >= stopped_at - chrono::Duration::seconds(3),
        "last tick {last}, stopped {stopped_at}"
    );
    scene.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_while_ten_thousand_jobs_run_loses_and_repeats_nothing() {
    let _serial = SERIAL.lock().await;
    let pg_ctl = pg_ctl();
    let mut scene = Scene::new("restart").await;
    scene.lease = Duration::from_secs(10);
    const TOTAL: usize = 10_000;
    let mut ids: Vec<JobId> = Vec::with_capacity(TOTAL);
    for _ in 0..TOTAL / 1_000 {
        let batch = (0..1_000).map(|_| quick::with()).collect();
        ids.extend(scene.client.enqueue_many(batch).await.unwrap());
    }
    scene.spawn("default:16", &[quick::NAME]);
    scene.spawn("default:16", &[quick::NAME]);

    let completed = || count_completed(&scene.backend);
    let deadline = Instant::now() + Duration::from_secs(120);
    while completed().await.unwrap_or(0) < 2_000 {
        assert!(
            Instant::now() < deadline,
            "workers too slow\n{}",
            scene.outputs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    restart_postgres(&pg_ctl);
    let at_restart = scene.events().len();
    assert!(
        at_restart < TOTAL,
        "the restart came after the work was done"
    );
    // a client idle across the restart carries on without an error
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let after = scene.client.enqueue(quick::with()).await;
    ids.push(after.expect("enqueue after the restart"));

    loop {
        if completed().await.unwrap_or(0) == ids.len() as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every job completed\n{}",
            scene.outputs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = scene.events();
    let mut runs: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for event in &events {
        runs.entry(event.job).or_default().push(event.attempt);
    }
    assert_eq!(runs.len(), ids.len(), "every job ran");
    let mut repeated = 0;
    for (&job, attempts) in &runs {
        let distinct: BTreeSet<_> = attempts.iter().collect();
        assert_eq!(
            distinct.len(),
            attempts.len(),
            "job {job} ran attempt twice: {attempts:?}"
        );
        if attempts.len() > 1 {
            // a rerun is only allowed for an attempt whose lease was lost
            repeated += 1;
            let info = scene.client.job(JobId::new(job)).await.unwrap().unwrap();
            for attempt in attempts.iter().filter(|&&a| a < info.attempt) {
                assert!(
                    info.errors.iter().any(|e| e.attempt == *attempt),
                    "job {job}: attempt {attempt} was rerun without being lost: {info:#?}"
                );
            }
        }
    }
    let outputs = scene.outputs();
    let hiccups = outputs.lines().filter(|line| line.contains("WARN")).count();
    eprintln!(
        "{} runs ({at_restart} before the restart), {repeated} jobs rerun after a lost lease, \
         {hiccups} warnings from the workers while the server was away",
        events.len()
    );
    scene.finish().await;
}

async fn count_completed(backend: &PgBackend) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{}\".jobs WHERE state = 'completed'",
        backend.schema()
    )))
    .fetch_one(backend.pool())
    .await
}

impl Scene {
    /// Stops the remaining workers without dropping the schema.
    fn finish_workers(&mut self) {
        for worker in self.workers.drain(..) {
            worker.stop();
        }
    }
}

/// The `pg_ctl` command line of the server the tests use.
fn pg_ctl() -> String {
    std::env::var("JOBS_TEST_PG_CTL").unwrap_or_else(|_| {
        panic!(
            "JOBS_TEST_PG_CTL is not set: this test restarts PostgreSQL and needs the pg_ctl \
             command of the server DATABASE_URL names (scripts/test sets it for the server it starts)"
        )
    })
}

/// Restarts PostgreSQL as an administrator would (`-m fast`: every session
/// is terminated), and waits until it accepts connections again.
fn restart_postgres(pg_ctl: &str) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{pg_ctl} restart -m fast -w -t 60"))
        .stdout(Stdio::null())
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl restart failed");
}

/// A busy client across a restart (#4, SPEC §8): every connection of its
/// warm pool died with the server, and the pool hands them out unchecked,
/// as it does with connections used within the last second. The first
/// statements after the restart, concurrent, each meet a dead connection;
/// enqueues, a claim, a heartbeat and a completion all succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_client_s_first_statements_after_a_restart_succeed() {
    let _serial = SERIAL.lock().await;
    let pg_ctl = pg_ctl();
    const WARM: u32 = 6;
    // a pool without a check at checkout: every warm connection is handed
    // out as it is, which is what a busy client's pool does
    let pool = PgPoolOptions::new()
        .max_connections(WARM)
        .test_before_acquire(false)
        .connect(&common::database_url())
        .await
        .expect("connect");
    let backend = PgBackend::builder()
        .schema(common::schema_name())
        .build(pool.clone())
        .expect("a backend on the test's schema");
    backend.migrate().await.expect("migrate");
    let client = Client::new(backend.clone());
    let running = quick::enqueue(&client).await.expect("enqueue");
    let waiting = quick::enqueue(&client).await.expect("enqueue");
    let kinds = [quick::NAME];
    let request = || JobFetchParams {
        queue: "default",
        kinds: &kinds,
        versions: &[],
        limit: 1,
        worker_id: "restart-test",
        lease: Duration::from_secs(60),
        flow: None,
    };
    let claimed = backend.job_fetch(request()).await.expect("claim");
    assert_eq!(
        claimed.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        [running]
    );

    // warm the pool: WARM connections, all idle
    let mut held = Vec::new();
    for _ in 0..WARM {
        held.push(pool.acquire().await.expect("a connection"));
    }
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.num_idle() < WARM as usize {
        assert!(
            Instant::now() < deadline,
            "the pool did not take its connections back"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    restart_postgres(&pg_ctl);

    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..3 {
        let client = client.clone();
        tasks.spawn(async move {
            quick::enqueue(&client)
                .await
                .map(|id| format!("enqueued {id}"))
                .map_err(|error| format!("enqueue {n}: {error}"))
        });
    }
    {
        let backend = backend.clone();
        tasks.spawn(async move {
            let kinds = [quick::NAME];
            let request = JobFetchParams {
                queue: "default",
                kinds: &kinds,
                versions: &[],
                limit: 1,
                worker_id: "restart-test",
                lease: Duration::from_secs(60),
                flow: None,
            };
            match backend.job_fetch(request).await {
                Ok(batch) if batch.jobs.len() == 1 && batch.jobs[0].id == waiting => {
                    Ok("claimed".to_owned())
                }
                Ok(batch) => Err(format!("claimed {:?}", batch.jobs)),
                Err(error) => Err(format!("claim: {error}")),
            }
        });
    }
    {
        let backend = backend.clone();
        tasks.spawn(async move {
            backend
                .job_heartbeat(JobHeartbeatParams {
                    running: &[RunningAttempt {
                        id: running,
                        attempt: 1,
                    }],
                    lease: Duration::from_secs(60),
                })
                .await
                .map(|gone| format!("renewed, gone: {gone:?}"))
                .map_err(|error| format!("heartbeat: {error}"))
        });
    }
    {
        let backend = backend.clone();
        tasks.spawn(async move {
            let run = RunningAttempt {
                id: running,
                attempt: 1,
            };
            let transitions = vec![Outcome::Completed.into_transition(run)];
            backend
                .job_complete_many(JobCompleteManyParams { transitions })
                .await
                .map(|()| "completed".to_owned())
                .map_err(|error| format!("complete: {error}"))
        });
    }
    let mut failures = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        match outcome.expect("a task") {
            Ok(what) => eprintln!("after the restart: {what}"),
            Err(error) => failures.push(error),
        }
    }
    assert!(
        failures.is_empty(),
        "statements failed right after the restart:\n{}",
        failures.join("\n")
    );
    let info = client.job(running).await.unwrap().expect("stored");
    assert_eq!(info.state, JobState::Completed);
    let info = client.job(waiting).await.unwrap().expect("stored");
    assert_eq!(info.state, JobState::Running);
    let stored = client
        .list(JobFilter::new().kind(quick::NAME).limit(100))
        .await
        .unwrap();
    assert_eq!(stored.len(), 5, "two before and three after the restart");
    common::drop_schema(&backend).await;
    pool.close().await;
}
