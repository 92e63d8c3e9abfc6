//! SPEC §9: each attempt runs in a `job` span with `job.id`, `job.kind`,
//! `job.queue` and `job.attempt`, with start, success, retry and death as
//! events in it; counters go through the `metrics` facade.
//!
//! One test in its own binary: it installs a global tracing subscriber and a
//! global metrics recorder that capture everything the worker emits.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use jobs_core::testing::wait_for_state;
use jobs_core::{Batch, Client, JobContext, JobError, JobState, Worker, job};
use jobs_memory::MemoryBackend;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[job(retries = 1, backoff = "none")]
async fn flaky(ctx: JobContext) -> Result<(), String> {
    if ctx.attempt() == 1 {
        Err("first attempt fails".into())
    } else {
        Ok(())
    }
}

#[job(retries = 3)]
async fn doomed() -> Result<(), JobError> {
    Err(JobError::permanent("never works"))
}

/// Counters by name and sorted labels.
#[derive(Default)]
struct CountingRecorder {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

fn render(key: &Key) -> String {
    let labels: BTreeMap<_, _> = key
        .labels()
        .map(|label| (label.key().to_owned(), label.value().to_owned()))
        .collect();
    format!("{}{labels:?}", key.name())
}

impl CountingRecorder {
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let key = format!("{name}{labels:?}");
        self.counters
            .lock()
            .unwrap()
            .get(&key)
            .map_or(0, |value| value.load(Ordering::Relaxed))
    }
}

impl Recorder for CountingRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut counters = self.counters.lock().unwrap();
        Counter::from_arc(Arc::clone(counters.entry(render(key)).or_default()))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// A `job` span's fields, and the messages of the events inside it.
#[derive(Clone, Debug, Default)]
struct JobSpan {
    fields: BTreeMap<String, String>,
    events: Vec<String>,
}

#[derive(Default)]
struct Captured {
    spans: HashMap<u64, JobSpan>,
}

struct CaptureLayer(Arc<Mutex<Captured>>);

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "job" {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            self.0.lock().unwrap().spans.insert(
                id.into_u64(),
                JobSpan {
                    fields: fields.0,
                    events: Vec::new(),
                },
            );
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or_default();
        let mut captured = self.0.lock().unwrap();
        for span in scope {
            if let Some(job) = captured.spans.get_mut(&span.id().into_u64()) {
                job.events.push(message.clone());
            }
        }
    }
}

fn recorder() -> &'static CountingRecorder {
    static RECORDER: OnceLock<&'static CountingRecorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder: &'static CountingRecorder = Box::leak(Box::default());
        metrics::set_global_recorder(recorder).expect("the only recorder in this binary");
        recorder
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_run_in_job_spans_with_events_and_counters() {
    let recorder = recorder();
    let captured = Arc::new(Mutex::new(Captured::default()));
    let subscriber = tracing_subscriber::registry().with(CaptureLayer(Arc::clone(&captured)));
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber in this binary");

    let backend = MemoryBackend::new();
    let client = Client::new(backend.clone());
    let flaky_id = flaky::enqueue(&client).await.unwrap();
    let doomed_id = doomed::enqueue(&client).await.unwrap();
    let worker = Worker::builder(backend)
        .only(&[flaky::NAME, doomed::NAME])
        .build()
        .unwrap()
        .start();
    wait_for_state(&client, flaky_id, JobState::Completed).await;
    wait_for_state(&client, doomed_id, JobState::Dead).await;
    worker.shutdown().await;

    let spans: Vec<JobSpan> = captured.lock().unwrap().spans.values().cloned().collect();
    let span_of = |id: i64, attempt: u32| {
        spans
            .iter()
            .find(|span| {
                span.fields.get("job.id") == Some(&id.to_string())
                    && span.fields.get("job.attempt") == Some(&attempt.to_string())
            })
            .unwrap_or_else(|| panic!("no job span for job {id} attempt {attempt}: {spans:#?}"))
    };
    let first = span_of(flaky_id.get(), 1);
    assert_eq!(first.fields["job.kind"], "flaky");
    assert_eq!(first.fields["job.queue"], "default");
    assert_eq!(
        first.events,
        ["job started", "job failed; it will be retried"]
    );
    assert_eq!(
        span_of(flaky_id.get(), 2).events,
        ["job started", "job succeeded"]
    );
    assert_eq!(
        span_of(doomed_id.get(), 1).events,
        ["job started", "job failed permanently; it is dead"]
    );

    let flaky_labels = [("queue", "default"), ("kind", "flaky")];
    let doomed_labels = [("queue", "default"), ("kind", "doomed")];
    assert_eq!(
        recorder.counter("jobs_enqueued_total", &[("kind", "flaky")]),
        1
    );
    assert_eq!(recorder.counter("jobs_started_total", &flaky_labels), 2);
    assert_eq!(recorder.counter("jobs_failed_total", &flaky_labels), 1);
    assert_eq!(recorder.counter("jobs_retried_total", &flaky_labels), 1);
    assert_eq!(recorder.counter("jobs_succeeded_total", &flaky_labels), 1);
    assert_eq!(recorder.counter("jobs_dead_total", &flaky_labels), 0);
    assert_eq!(recorder.counter("jobs_started_total", &doomed_labels), 1);
    assert_eq!(recorder.counter("jobs_dead_total", &doomed_labels), 1);
    assert_eq!(recorder.counter("jobs_retried_total", &doomed_labels), 0);

    // every way of storing a job counts it under its kind
    client
        .enqueue_many(vec![flaky::with(), doomed::with(), doomed::with()])
        .await
        .unwrap();
    Batch::new()
        .job(flaky::with())
        .on_success(doomed::with())
        .enqueue(&client)
        .await
        .unwrap();
    assert_eq!(
        recorder.counter("jobs_enqueued_total", &[("kind", "flaky")]),
        3
    );
    assert_eq!(
        recorder.counter("jobs_enqueued_total", &[("kind", "doomed")]),
        4
    );
}
