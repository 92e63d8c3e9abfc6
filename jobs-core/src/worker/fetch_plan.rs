//! How one queue's jobs are claimed: the kinds without flow-control limits
//! in one fetch, exactly as if no kind had limits, and each limited kind
//! (SPEC §11: `concurrency`, `rate_limit`) in a fetch of its own that
//! carries its limits, so the backend claims only what they leave room for,
//! atomically with every other worker's claims of that kind.
//!
//! A queue without limited kinds costs nothing more: one fetch, as before.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use crate::BoxError;
use crate::backend::{FetchedBatch, FlowLimits, JobFetchParams};
use crate::worker::WorkerShared;
use crate::worker::queue::LocalQueue;

/// One limited kind, with the one-element slices its fetch passes.
struct LimitedKind {
    kind: [&'static str; 1],
    version: [u32; 1],
    limits: FlowLimits,
}

/// The fetches that claim one queue's jobs.
pub(crate) struct FetchPlan {
    /// The kinds without limits, and their versions at the same index.
    kinds: Vec<&'static str>,
    versions: Vec<u32>,
    limited: Vec<LimitedKind>,
    /// Which limited kind goes first next time, so that one kind's claims
    /// never take every free slot for good.
    turn: AtomicUsize,
}

/// A fetch that failed after earlier fetches of the same round claimed
/// jobs: those are `Running` now and must be run or given back.
pub(crate) struct PartialFetch {
    pub(crate) claimed: FetchedBatch,
    pub(crate) error: BoxError,
}

impl FetchPlan {
    /// The plan for `queue`: every kind the worker runs, split by whether
    /// it has limits.
    pub(crate) fn new(shared: &WorkerShared, queue: &LocalQueue) -> Self {
        let mut plan = FetchPlan {
            kinds: Vec::with_capacity(shared.kinds.len()),
            versions: Vec::with_capacity(shared.kinds.len()),
            limited: Vec::new(),
            turn: AtomicUsize::new(0),
        };
        for (at, &kind) in shared.kinds.iter().enumerate() {
            let version = shared.versions.get(at).copied().unwrap_or(1);
            match queue
                .kind(kind)
                .and_then(|(definition, _)| definition.flow_limits())
            {
                Some(limits) => plan.limited.push(LimitedKind {
                    kind: [kind],
                    version: [version],
                    limits,
                }),
                None => {
                    plan.kinds.push(kind);
                    plan.versions.push(version);
                }
            }
        }
        plan
    }

    /// Whether some kind of the queue has limits.
    pub(crate) fn is_limited(&self) -> bool {
        !self.limited.is_empty()
    }

    /// Claims up to `limit` jobs of `queue`: limited kinds first, then the
    /// other kinds with what is left. Limited jobs are buffered like any
    /// other: a buffered job counts as running for a concurrency limit, and
    /// its claim counts as its start for a rate limit (the buffer holds what
    /// the slots start within the prefetch horizon, so a claimed job starts
    /// within it; a horizon of zero claims only into free slots).
    pub(crate) async fn fetch(
        &self,
        shared: &WorkerShared,
        queue: &str,
        limit: usize,
    ) -> Result<FetchedBatch, PartialFetch> {
        fn request<'a>(
            shared: &'a WorkerShared,
            queue: &'a str,
            kinds: &'a [&'static str],
            versions: &'a [u32],
            limit: usize,
            flow: Option<FlowLimits>,
        ) -> JobFetchParams<'a> {
            JobFetchParams {
                queue,
                kinds,
                versions,
                limit,
                worker_id: &shared.id,
                lease: shared.config.lease,
                flow,
            }
        }
        if self.limited.is_empty() {
            let params = request(shared, queue, &self.kinds, &self.versions, limit, None);
            return shared
                .backend
                .job_fetch(params)
                .await
                .map_err(|error| PartialFetch {
                    claimed: FetchedBatch::default(),
                    error,
                });
        }
        let mut claimed = FetchedBatch::default();
        let first = self.turn.fetch_add(1, Ordering::Relaxed) % self.limited.len();
        let (later, earlier) = self.limited.split_at(first);
        for limited in earlier.iter().chain(later) {
            let room = limit.saturating_sub(claimed.jobs.len());
            if room == 0 {
                break;
            }
            let params = request(
                shared,
                queue,
                &limited.kind,
                &limited.version,
                room,
                Some(limited.limits),
            );
            match shared.backend.job_fetch(params).await {
                Ok(batch) => merge(&mut claimed, batch),
                Err(error) => return Err(PartialFetch { claimed, error }),
            }
        }
        let room = limit.saturating_sub(claimed.jobs.len());
        if room > 0 && !self.kinds.is_empty() {
            let params = request(shared, queue, &self.kinds, &self.versions, room, None);
            match shared.backend.job_fetch(params).await {
                Ok(batch) => merge(&mut claimed, batch),
                Err(error) => return Err(PartialFetch { claimed, error }),
            }
        }
        Ok(claimed)
    }
}

fn merge(into: &mut FetchedBatch, batch: FetchedBatch) {
    into.jobs.extend(batch.jobs);
    into.next_due_at = earliest(into.next_due_at, batch.next_due_at);
    into.held_until = earliest(into.held_until, batch.held_until);
}

pub(crate) fn earliest(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
