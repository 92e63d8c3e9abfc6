//! One stored job, kept compact: a million queued jobs should cost well
//! under 250 MB, so the record holds interned name numbers instead of
//! strings, and the rarely used parts (unique key, error history) live in
//! an optional box.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jobs_core::{AttemptError, BatchId, JobId, JobState};

use crate::names::NameId;

/// A stored job.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) id: i64,
    /// The arguments as JSON text, as enqueued: shared with each run that
    /// claims the job, which then copies nothing.
    pub(crate) args: Arc<str>,
    pub(crate) created_at: DateTime<Utc>,
    /// When it may run (next). Also the time key of the queue indexes, so it
    /// only changes while the job is out of them.
    pub(crate) scheduled_at: DateTime<Utc>,
    pub(crate) attempted_at: Option<DateTime<Utc>>,
    /// While `Running`: when the lease expires. While finished: when it
    /// finished. Otherwise `None`. One field for both, because a job is
    /// never running and finished at once.
    until: Option<DateTime<Utc>>,
    extra: Option<Box<Extra>>,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    /// The version of its kind it was enqueued with.
    pub(crate) version: u32,
    pub(crate) kind: NameId,
    pub(crate) queue: NameId,
    pub(crate) priority: i16,
    pub(crate) state: JobState,
}

/// The rarely used parts of a job.
#[derive(Debug, Default)]
struct Extra {
    unique_key: Option<Box<str>>,
    /// The value of the kind's `concurrency_key` argument, as JSON text.
    concurrency_key: Option<Box<str>>,
    errors: Vec<AttemptError>,
    progress: Option<f32>,
    parents: Box<[JobId]>,
    batch: Option<BatchId>,
}

/// The fields of a new job, before it is placed in a state.
#[derive(Debug)]
pub(crate) struct JobSeed {
    pub(crate) id: i64,
    pub(crate) args: Arc<str>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) scheduled_at: DateTime<Utc>,
    pub(crate) max_attempts: u32,
    pub(crate) version: u32,
    pub(crate) kind: NameId,
    pub(crate) queue: NameId,
    pub(crate) priority: i16,
    pub(crate) unique_key: Option<Box<str>>,
    /// Every parent's id, in order (empty for almost every job).
    pub(crate) parents: Box<[JobId]>,
    pub(crate) batch: Option<BatchId>,
    pub(crate) concurrency_key: Option<Box<str>>,
}

impl Job {
    /// A new job in `state` (`Scheduled`, `Available`, `Awaiting`, or
    /// `Cancelled` when a parent it needed completed already failed).
    pub(crate) fn new(seed: JobSeed, state: JobState) -> Self {
        Self {
            id: seed.id,
            args: seed.args,
            created_at: seed.created_at,
            scheduled_at: seed.scheduled_at,
            attempted_at: None,
            until: None,
            extra: (seed.unique_key.is_some()
                || seed.concurrency_key.is_some()
                || !seed.parents.is_empty()
                || seed.batch.is_some())
            .then(|| {
                Box::new(Extra {
                    unique_key: seed.unique_key,
                    concurrency_key: seed.concurrency_key,
                    parents: seed.parents,
                    batch: seed.batch,
                    ..Extra::default()
                })
            }),
            attempt: 0,
            max_attempts: seed.max_attempts,
            version: seed.version,
            kind: seed.kind,
            queue: seed.queue,
            priority: seed.priority,
            state,
        }
    }

    /// When the lease of the running attempt expires.
    pub(crate) fn lease_until(&self) -> Option<DateTime<Utc>> {
        (self.state == JobState::Running)
            .then_some(self.until)
            .flatten()
    }

    /// When it reached `Completed`, `Dead` or `Cancelled`.
    pub(crate) fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.state.is_finished().then_some(self.until).flatten()
    }

    /// Sets the lease expiry (while running) or finish time (when
    /// finished); cleared for waiting jobs.
    pub(crate) fn set_until(&mut self, until: Option<DateTime<Utc>>) {
        self.until = until;
    }

    /// The uniqueness key, for unique jobs.
    pub(crate) fn unique_key(&self) -> Option<&str> {
        self.extra.as_ref()?.unique_key.as_deref()
    }

    /// Its parents' ids, in the order given.
    pub(crate) fn parents(&self) -> &[JobId] {
        self.extra.as_ref().map_or(&[], |extra| &extra.parents)
    }

    /// The batch it belongs to.
    pub(crate) fn batch(&self) -> Option<BatchId> {
        self.extra.as_ref()?.batch
    }

    /// The value its concurrency limit is kept per, for keyed kinds.
    pub(crate) fn concurrency_key(&self) -> Option<&str> {
        self.extra.as_ref()?.concurrency_key.as_deref()
    }

    /// Every failed attempt, oldest first.
    pub(crate) fn errors(&self) -> &[AttemptError] {
        self.extra.as_ref().map_or(&[], |extra| &extra.errors)
    }

    /// The progress the current or last run reported.
    pub(crate) fn progress(&self) -> Option<f32> {
        self.extra.as_ref()?.progress
    }

    /// Sets the reported progress; `None` clears it (a new attempt).
    pub(crate) fn set_progress(&mut self, progress: Option<f32>) {
        match (&mut self.extra, progress) {
            (Some(extra), _) => extra.progress = progress,
            (None, None) => {}
            (extra @ None, Some(_)) => extra.get_or_insert_with(Box::default).progress = progress,
        }
    }

    /// Appends a failed attempt to the history.
    pub(crate) fn push_error(&mut self, error: AttemptError) {
        self.extra
            .get_or_insert_with(Box::default)
            .errors
            .push(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_stays_compact() {
        // 8 id + 16 args + 4 * 12 times + 8 extra + 8 attempts + 8 names
        // + 2 priority + 1 state, rounded up to the alignment.
        assert!(
            size_of::<Job>() <= 104,
            "Job grew to {} bytes",
            size_of::<Job>()
        );
        assert_eq!(size_of::<Option<Job>>(), size_of::<Job>());
    }

    #[test]
    fn until_means_lease_or_finish_by_state() {
        let now = Utc::now();
        let seed = JobSeed {
            id: 1,
            args: "{}".into(),
            created_at: now,
            scheduled_at: now,
            max_attempts: 1,
            version: 1,
            kind: 0,
            queue: 0,
            priority: 0,
            unique_key: None,
            parents: Box::default(),
            batch: None,
            concurrency_key: None,
        };
        let mut job = Job::new(seed, JobState::Available);
        job.set_until(Some(now));
        job.state = JobState::Running;
        assert_eq!(job.lease_until(), Some(now));
        assert_eq!(job.finished_at(), None);
        job.state = JobState::Completed;
        assert_eq!(job.lease_until(), None);
        assert_eq!(job.finished_at(), Some(now));
        assert!(job.errors().is_empty());
        assert_eq!(job.unique_key(), None);
    }
}
