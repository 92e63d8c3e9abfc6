//! A copy of one job taken under the lock, turned into a [`JobInfo`] after
//! the lock is released (decoding the arguments is not done under the lock).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jobs_core::{AttemptError, BatchId, JobId, JobInfo, JobState};
use serde_json::Value;

use crate::job::Job;
use crate::names::Names;

/// A copy of one job's fields.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JobView {
    pub(crate) id: i64,
    pub(crate) kind: Arc<str>,
    pub(crate) queue: Arc<str>,
    pub(crate) args: Arc<str>,
    pub(crate) state: JobState,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) priority: i16,
    pub(crate) errors: Vec<AttemptError>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) scheduled_at: DateTime<Utc>,
    pub(crate) attempted_at: Option<DateTime<Utc>>,
    pub(crate) finished_at: Option<DateTime<Utc>>,
    pub(crate) unique_key: Option<Box<str>>,
    pub(crate) progress: Option<f32>,
    pub(crate) parents: Vec<JobId>,
    pub(crate) batch: Option<BatchId>,
}

impl JobView {
    /// Copies `job`, resolving its names.
    pub(crate) fn of(job: &Job, kinds: &Names, queues: &Names) -> Self {
        Self {
            id: job.id,
            kind: Arc::clone(kinds.name(job.kind)),
            queue: Arc::clone(queues.name(job.queue)),
            args: job.args.clone(),
            state: job.state,
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            priority: job.priority,
            errors: job.errors().to_vec(),
            created_at: job.created_at,
            scheduled_at: job.scheduled_at,
            attempted_at: job.attempted_at,
            finished_at: job.finished_at(),
            unique_key: job.unique_key().map(Box::from),
            progress: job.progress(),
            parents: job.parents().to_vec(),
            batch: job.batch(),
        }
    }

    /// The client's view of the job. Arguments that are not valid JSON
    /// (only possible through a hand-written `NewJob`) are shown as a string.
    pub(crate) fn into_info(self) -> JobInfo {
        let args = serde_json::from_str(&self.args)
            .unwrap_or_else(|_| Value::String(String::from(&*self.args)));
        JobInfo {
            id: JobId::new(self.id),
            kind: String::from(&*self.kind),
            queue: String::from(&*self.queue),
            args,
            state: self.state,
            attempt: self.attempt,
            max_attempts: self.max_attempts,
            priority: self.priority,
            errors: self.errors,
            created_at: self.created_at,
            scheduled_at: self.scheduled_at,
            attempted_at: self.attempted_at,
            finished_at: self.finished_at,
            unique_key: self.unique_key.map(String::from),
            progress: self.progress,
            parents: self.parents,
            batch: self.batch,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn view() -> JobView {
        let now = Utc::now();
        JobView {
            id: 7,
            kind: Arc::from("resize"),
            queue: Arc::from("media"),
            args: r#"{"width":640}"#.into(),
            state: JobState::Retryable,
            attempt: 2,
            max_attempts: 4,
            priority: -3,
            errors: vec![AttemptError {
                attempt: 1,
                message: "boom".into(),
                at: now,
            }],
            created_at: now,
            // nanoseconds survive the round trip
            scheduled_at: now + TimeDelta::nanoseconds(123_456_789),
            attempted_at: Some(now),
            finished_at: None,
            unique_key: Some("img-7".into()),
            progress: Some(0.5),
            parents: vec![JobId::new(3), JobId::new(5)],
            batch: Some(BatchId::new(2)),
        }
    }

    #[test]
    fn every_field_reaches_the_job_info() {
        let view = view();
        let info = view.clone().into_info();
        assert_eq!(info.id, JobId::new(7));
        assert_eq!(
            (info.kind.as_str(), info.queue.as_str()),
            ("resize", "media")
        );
        assert_eq!(info.args, serde_json::json!({ "width": 640 }));
        assert_eq!(info.state, JobState::Retryable);
        assert_eq!((info.attempt, info.max_attempts, info.priority), (2, 4, -3));
        assert_eq!(info.errors, view.errors);
        assert_eq!(info.created_at, view.created_at);
        assert_eq!(info.scheduled_at, view.scheduled_at);
        assert_eq!(info.attempted_at, view.attempted_at);
        assert_eq!(info.finished_at, None);
        assert_eq!(info.unique_key.as_deref(), Some("img-7"));
        assert_eq!(info.parents, [JobId::new(3), JobId::new(5)]);
        assert_eq!(info.batch, Some(BatchId::new(2)));
    }

    #[test]
    fn extreme_times_and_bad_json_still_convert() {
        let mut view = view();
        view.scheduled_at = DateTime::<Utc>::MAX_UTC;
        view.created_at = DateTime::<Utc>::MIN_UTC;
        view.args = "not json".into();
        let info = view.into_info();
        assert_eq!(info.scheduled_at, DateTime::<Utc>::MAX_UTC);
        assert_eq!(info.created_at, DateTime::<Utc>::MIN_UTC);
        assert_eq!(info.args, Value::String("not json".into()));
    }
}
