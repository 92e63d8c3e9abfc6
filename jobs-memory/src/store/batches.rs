//! Batches: jobs stored together, and callbacks that wait on all of them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jobs_core::backend::{
    BatchInsertParams, InsertedBatch, JobParent, NewJob, ParentCondition, dedup_parents,
};
use jobs_core::{BatchId, BatchInfo, JobId};

use super::{Rejected, Room, Store};

/// One stored batch.
#[derive(Debug)]
struct BatchRecord {
    created_at: DateTime<Utc>,
    jobs: Vec<JobId>,
    on_success: Option<JobId>,
    on_complete: Option<JobId>,
}

/// Every stored batch, by id.
#[derive(Debug, Default)]
pub(crate) struct Batches {
    records: HashMap<i64, BatchRecord>,
    next_id: i64,
}

impl Store {
    /// Stores a batch and its callbacks, or nothing.
    pub(crate) fn insert_batch(
        &mut self,
        params: Box<BatchInsertParams>,
        now: DateTime<Utc>,
        room: Room,
    ) -> Result<InsertedBatch, (Box<BatchInsertParams>, Rejected)> {
        let callbacks =
            usize::from(params.on_success.is_some()) + usize::from(params.on_complete.is_some());
        let unknown = self.unknown_parent(params.on_success.iter().chain(&params.on_complete));
        let checked = match unknown {
            Some(parent) => Err(Rejected::UnknownParent(parent)),
            None => self.check_insert(&params.jobs, callbacks, room),
        };
        if let Err(rejected) = checked {
            return Err((params, rejected));
        }
        self.batches.next_id += 1;
        let id = BatchId::new(self.batches.next_id);
        let BatchInsertParams {
            jobs,
            on_success,
            on_complete,
            mode: _,
        } = *params;
        let ids: Vec<JobId> = jobs
            .into_iter()
            .map(|mut job| {
                job.batch = Some(id);
                JobId::new(self.insert_one(job, now))
            })
            .collect();
        let mut callback = |job: Option<NewJob>, condition| {
            job.map(|mut job| {
                job.parents
                    .extend(ids.iter().map(|&id| JobParent { id, condition }));
                dedup_parents(&mut job.parents);
                JobId::new(self.insert_one(job, now))
            })
        };
        let on_success = callback(on_success, ParentCondition::Completed);
        let on_complete = callback(on_complete, ParentCondition::Finished);
        self.prune_over_limit();
        self.batches.records.insert(
            id.get(),
            BatchRecord {
                created_at: now,
                jobs: ids.clone(),
                on_success,
                on_complete,
            },
        );
        Ok(InsertedBatch {
            id,
            jobs: ids,
            on_success,
            on_complete,
        })
    }

    /// Forgets the batches created before `cutoff` none of whose jobs is
    /// stored any more.
    pub(crate) fn forget_empty_batches(&mut self, cutoff: DateTime<Utc>) {
        if self.batches.records.is_empty() {
            return;
        }
        let jobs = &self.jobs;
        self.batches.records.retain(|_, record| {
            record.created_at >= cutoff || record.jobs.iter().any(|id| jobs.get(id.get()).is_some())
        });
    }

    /// A batch's jobs counted by state.
    pub(crate) fn batch(&mut self, id: BatchId, now: DateTime<Utc>) -> Option<BatchInfo> {
        self.promote_all(now);
        let record = self.batches.records.get(&id.get())?;
        let info = BatchInfo::new(id, record.created_at)
            .with_callbacks(record.on_success, record.on_complete);
        Some(
            record
                .jobs
                .iter()
                .fold(info, |info, job| match self.jobs.get(job.get()) {
                    Some(job) => info.count(job.state, 1, job.finished_at()),
                    None => info,
                }),
        )
    }
}
