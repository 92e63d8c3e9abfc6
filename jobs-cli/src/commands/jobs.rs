//! Jobs: list, show, retry, cancel, delete.

use jobs_core::{Client, JobFilter, JobId, JobInfo, JobState};
use serde::Serialize;

use crate::cli::{ListArgs, RetryArgs};
use crate::error::CliError;
use crate::format;
use crate::output::Output;
use crate::table::{Table, one_line};

/// How many jobs `retry --state` reads at a time.
const PAGE: usize = 500;

/// The states a retry applies to.
const RETRIABLE: [JobState; 4] = [
    JobState::Dead,
    JobState::Cancelled,
    JobState::Retryable,
    JobState::Scheduled,
];

pub(crate) async fn list(client: &Client, args: ListArgs) -> Result<Output, CliError> {
    let jobs = client.list(filter(&args)).await?;
    let human = if jobs.is_empty() {
        "no jobs match\n".to_owned()
    } else {
        let mut table = Table::new(&[
            "ID",
            "STATE",
            "QUEUE",
            "KIND",
            "ATTEMPT",
            "CREATED",
            "SCHEDULED",
            "LAST ERROR",
        ]);
        for job in &jobs {
            let last_error = job
                .errors
                .last()
                .map_or_else(String::new, |error| shorten(&one_line(&error.message), 60));
            table.row(vec![
                job.id.to_string(),
                job.state.to_string(),
                one_line(&job.queue),
                one_line(&job.kind),
                format!("{}/{}", job.attempt, job.max_attempts),
                format::time(job.created_at),
                format::time(job.scheduled_at),
                last_error,
            ]);
        }
        table.render()
    };
    Output::new(human, &jobs)
}

fn filter(args: &ListArgs) -> JobFilter {
    let mut filter = JobFilter::new().limit(args.limit).offset(args.offset);
    if let Some(state) = args.state {
        filter = filter.state(state);
    }
    if let Some(queue) = &args.queue {
        filter = filter.queue(queue.clone());
    }
    if let Some(kind) = &args.kind {
        filter = filter.kind(kind.clone());
    }
    filter
}

fn shorten(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(most.saturating_sub(1)).collect();
    short.push('…');
    short
}

pub(crate) async fn show(client: &Client, id: i64) -> Result<Output, CliError> {
    let job = client
        .job(JobId::new(id))
        .await?
        .ok_or_else(|| no_such_job(id))?;
    Output::new(describe(&job), &job)
}

fn describe(job: &JobInfo) -> String {
    let mut lines = vec![
        format!("job {}", job.id),
        format!("kind:       {}", one_line(&job.kind)),
        format!("queue:      {}", one_line(&job.queue)),
        format!("state:      {}", job.state),
        format!("attempt:    {} of {}", job.attempt, job.max_attempts),
        format!("priority:   {}", job.priority),
        format!("created:    {}", format::time(job.created_at)),
        format!("scheduled:  {}", format::time(job.scheduled_at)),
        format!("attempted:  {}", format::maybe_time(job.attempted_at)),
        format!("finished:   {}", format::maybe_time(job.finished_at)),
    ];
    if let Some(key) = &job.unique_key {
        lines.push(format!("unique key: {}", one_line(key)));
    }
    if let Some(progress) = job.progress {
        lines.push(format!("progress:   {:.0} %", progress * 100.0));
    }
    if !job.parents.is_empty() {
        let parents: Vec<String> = job.parents.iter().map(ToString::to_string).collect();
        lines.push(format!("parents:    {}", parents.join(", ")));
    }
    if let Some(batch) = job.batch {
        lines.push(format!("batch:      {batch}"));
    }
    let args = serde_json::to_string_pretty(&job.args).unwrap_or_else(|_| job.args.to_string());
    lines.push("arguments:".to_owned());
    lines.extend(args.lines().map(|line| format!("  {line}")));
    if job.errors.is_empty() {
        lines.push("errors:     none".to_owned());
    } else {
        lines.push("errors:".to_owned());
        for error in &job.errors {
            lines.push(format!(
                "  attempt {} at {}: {}",
                error.attempt,
                format::time(error.at),
                one_line(&error.message)
            ));
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn no_such_job(id: i64) -> CliError {
    CliError::new(format!("job {id} does not exist"))
}

/// What an action on several jobs did.
#[derive(Debug, Default, Serialize)]
struct Acted {
    /// The jobs it changed.
    done: Vec<i64>,
    /// The jobs it did not change, each with why.
    failed: Vec<Failed>,
}

#[derive(Debug, Serialize)]
struct Failed {
    id: i64,
    error: String,
}

impl Acted {
    fn output(self, verb: &str) -> Result<Output, CliError> {
        let mut human = String::new();
        for id in &self.done {
            human.push_str(&format!("{verb} job {id}\n"));
        }
        if self.done.is_empty() && self.failed.is_empty() {
            human.push_str(&format!("no jobs {verb}\n"));
        }
        let failures = self
            .failed
            .iter()
            .map(|failed| failed.error.clone())
            .collect();
        #[derive(Serialize)]
        struct Json<'a> {
            #[serde(rename = "done")]
            ids: &'a [i64],
            failed: &'a [Failed],
        }
        let json = Json {
            ids: &self.done,
            failed: &self.failed,
        };
        Ok(Output::new(human, &json)?.failures(failures))
    }
}

/// Runs `act` on each id; a `false` is explained from the job's state.
async fn act_on_each<F, Fut>(
    client: &Client,
    ids: &[i64],
    mut act: F,
    why_not: fn(i64, &JobInfo) -> String,
) -> Result<Acted, CliError>
where
    F: FnMut(JobId) -> Fut,
    Fut: Future<Output = jobs_core::Result<bool>>,
{
    let mut acted = Acted::default();
    for &id in ids {
        if act(JobId::new(id)).await? {
            acted.done.push(id);
            continue;
        }
        let error = match client.job(JobId::new(id)).await? {
            None => no_such_job(id).to_string(),
            Some(job) => why_not(id, &job),
        };
        acted.failed.push(Failed { id, error });
    }
    Ok(acted)
}

pub(crate) async fn retry(client: &Client, args: RetryArgs) -> Result<Output, CliError> {
    let ids = match args.state {
        None => args.ids,
        Some(state) => {
            if !RETRIABLE.contains(&state) {
                return Err(CliError::new(format!(
                    "`--state {state}`: only dead, cancelled, retryable and scheduled jobs can be retried"
                )));
            }
            matching(client, state, args.queue, args.kind).await?
        }
    };
    let acted = act_on_each(client, &ids, |id| client.retry(id), |id, job| {
        if RETRIABLE.contains(&job.state) {
            format!(
                "job {id} was not retried: an unfinished job of kind `{}` holds its unique key",
                one_line(&job.kind)
            )
        } else {
            format!(
                "job {id} was not retried: it is {} (only dead, cancelled, retryable and scheduled jobs can be)",
                job.state
            )
        }
    })
    .await?;
    acted.output("retried")
}

/// Every job in `state` (and on `queue`, of `kind`), read before any
/// changes, as retrying them takes them out of the filter.
async fn matching(
    client: &Client,
    state: JobState,
    queue: Option<String>,
    kind: Option<String>,
) -> Result<Vec<i64>, CliError> {
    let mut filter = JobFilter::new().state(state).limit(PAGE);
    if let Some(queue) = queue {
        filter = filter.queue(queue);
    }
    if let Some(kind) = kind {
        filter = filter.kind(kind);
    }
    let mut ids = Vec::new();
    loop {
        let page = client.list(filter.clone().offset(ids.len())).await?;
        let last = page.len() < PAGE;
        ids.extend(page.iter().map(|job| job.id.get()));
        if last {
            return Ok(ids);
        }
    }
}

pub(crate) async fn cancel(client: &Client, ids: &[i64]) -> Result<Output, CliError> {
    let acted = act_on_each(
        client,
        ids,
        |id| client.cancel(id),
        |id, job| format!("job {id} was not cancelled: it is already {}", job.state),
    )
    .await?;
    acted.output("cancelled")
}

pub(crate) async fn delete(client: &Client, ids: &[i64]) -> Result<Output, CliError> {
    let acted = act_on_each(
        client,
        ids,
        |id| client.delete(id),
        |id, job| {
            format!(
                "job {id} was not deleted: it is {} (cancel it first)",
                job.state
            )
        },
    )
    .await?;
    acted.output("deleted")
}
