//! The backend conformance suite: the behaviour every backend must show,
//! defined once and run against each backend with one macro call.
//!
//! ```ignore
//! // in a backend crate's tests/conformance.rs
//! jobs_core::conformance_suite!(async { jobs_memory::MemoryBackend::new() });
//! ```
//!
//! The expression is evaluated once per test and must produce a fresh,
//! empty backend (for a database: a new schema). Each case becomes its own
//! `#[tokio::test]`, so failures name the behaviour that broke. The crate
//! calling the macro needs `tokio` (with `macros` and `rt-multi-thread`) as
//! a dev-dependency.
//!
//! The jobs the suite runs are declared in [`jobs`] and record what they see
//! in a [`Probe`] given to the worker as state. Each case narrows its worker
//! to the jobs it uses with `.only(..)`.

pub mod cases;
pub mod jobs;
mod probe;
mod wait;

pub use self::probe::{KeyedGuard, Probe, Run};
pub use self::wait::{PATIENCE, eventually, wait_for_state};
pub use crate::worker::outcome::{Outcome, WORKER_LOST, rescue};

use std::sync::Arc;
use std::time::Duration;

use crate::backend::Backend;
use crate::{Client, Worker, WorkerBuilder};

/// A backend under test, with a client on it and a probe for its jobs.
pub struct Env {
    /// The backend.
    pub backend: Arc<dyn Backend>,
    /// A client on it.
    pub client: Client,
    /// What the suite's jobs record.
    pub probe: Probe,
}

impl Env {
    /// Wraps a fresh backend.
    pub fn new<B: Backend>(backend: B) -> Self {
        let backend: Arc<dyn Backend> = Arc::new(backend);
        Self {
            client: Client::from_arc(Arc::clone(&backend)),
            backend,
            probe: Probe::default(),
        }
    }

    /// A worker builder on this backend with the probe as state, quick
    /// polling and short timeouts, running only `kinds`.
    pub fn worker(&self, kinds: &[&str]) -> WorkerBuilder {
        Worker::builder_from_arc(Arc::clone(&self.backend))
            .state(self.probe.clone())
            .only(kinds)
            .poll_interval(Duration::from_millis(50))
            .lease(Duration::from_millis(900))
            .scheduler_interval(Duration::from_millis(100))
            .maintenance_interval(Duration::from_millis(200))
            .shutdown_timeout(Duration::from_secs(5))
    }
}

/// Expands to one `#[tokio::test]` per conformance case, each on a fresh
/// backend from `$make` (an expression of type `impl Future<Output = impl
/// Backend>`, evaluated per test).
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            retries_give_exactly_retries_plus_one_attempts_then_dead,
            failed_attempts_are_kept_in_history,
            exponential_backoff_delays_the_retry,
            explicit_delays_delay_the_retry,
            permanent_error_goes_dead_at_once,
            snooze_runs_again_without_using_an_attempt,
            job_error_cancel_ends_cancelled,
            client_cancel_of_a_waiting_job_prevents_its_run,
            client_cancel_of_a_running_job_fires_its_cancellation,
            progress_is_visible_while_running,
            timeout_is_a_failed_attempt,
            panic_is_a_failed_attempt_and_the_worker_lives,
            unique_jobs_are_stored_once_while_unfinished,
            unique_key_from_the_builder,
            priority_orders_jobs_within_a_queue,
            queues_are_isolated_and_concurrency_is_capped,
            delayed_job_does_not_run_early,
            undecodable_arguments_go_dead_and_can_be_retried,
            unknown_kind_stays_available,
            shutdown_leaves_nothing_running,
            shutdown_lets_short_jobs_finish,
            enqueue_many_stores_every_kind_in_order,
            list_filters_and_pages,
            counts_by_queue_and_state,
            every_state_lists_and_counts_alike,
            delete_removes_a_finished_job,
            retry_runs_a_dead_job_again,
            oversized_payload_and_bad_queue_are_rejected,
            trigger_enqueues_a_recurring_job_now,
            recurring_ticks_once_per_tick_across_workers,
            recurring_spring_forward_fires_after_the_gap,
            recurring_fall_back_fires_once,
            recurring_quarter_hours_run_through_the_repeated_hour,
            misfire_once_runs_one_catch_up,
            misfire_skip_drops_missed_ticks,
            misfire_all_runs_every_missed_tick,
            removed_schedule_is_forgotten,
            an_expired_lease_is_rescued_with_the_jobs_backoff,
            an_expired_lease_on_the_last_attempt_is_dead,
            a_renewed_lease_is_not_rescued,
            a_late_outcome_of_a_rescued_run_is_fenced_out,
            a_released_job_keeps_its_place_in_the_queue,
            a_new_job_wakes_an_idle_worker,
            a_new_job_starts_while_another_run_waits,
            a_burst_on_an_idle_queue_runs_without_waiting_for_the_poll,
            a_batch_across_queues_wakes_each_queue,
            a_job_due_soon_runs_when_due_not_at_the_next_poll,
            leadership_is_exclusive_and_handed_over,
            finished_jobs_are_pruned_after_their_retention,
            pruning_takes_only_what_is_past_the_cutoffs,
            a_schedule_no_worker_declares_still_ticks_and_is_orphaned,
            a_declared_schedule_is_not_orphaned,
            shutdown_returns_within_its_timeout,
            each_transition_is_stored_as_given,
            admin_retry_cancel_and_delete_follow_their_rules,
            schedule_advance_is_a_compare_and_set_with_its_jobs,
            a_time_past_the_clock_saturates_and_the_slot_lives,
            each_job_stores_the_version_of_its_kind,
            an_older_job_is_upgraded_before_it_runs,
            a_failed_upgrade_is_dead_and_retry_runs_it_after_a_fix,
            a_newer_job_stays_available_and_does_not_block_older_ones,
            a_missing_option_argument_decodes_as_none,
            a_continuation_runs_only_after_its_parent_completes,
            after_finished_runs_after_a_dead_parent,
            a_dead_parent_cancels_its_after_children_in_cascade,
            a_child_waits_for_every_parent,
            a_released_child_keeps_its_delay,
            a_finished_parent_is_judged_at_enqueue,
            an_unknown_parent_is_refused_and_nothing_is_stored,
            cancelling_or_deleting_a_parent_settles_its_children,
            a_batch_runs_on_success_once_after_every_job_completes,
            a_dead_job_cancels_on_success_and_on_complete_still_runs,
            batch_counts_are_exact_at_every_step,
            a_batch_is_stored_all_or_nothing,
            a_started_worker_is_listed_with_its_queues,
            a_workers_running_count_reflects_a_running_job,
            a_worker_is_gone_after_graceful_shutdown,
            a_worker_that_stops_heartbeating_drops_off_within_its_lease,
            the_leader_forgets_workers_that_stopped_heartbeating,
            health_is_healthy_for_a_served_store,
            health_flags_available_jobs_no_live_worker_serves,
            health_flags_a_queue_waiting_past_the_threshold,
            trigger_schedule_enqueues_the_stored_job_now,
            a_batch_whose_jobs_were_all_pruned_is_forgotten,
            finished_jobs_are_counted_per_minute,
            a_runtime_schedule_ticks_once_per_tick_across_workers,
            a_leader_that_does_not_run_the_kind_ticks_a_runtime_schedule,
            a_runtime_schedule_update_takes_effect,
            a_removed_runtime_schedule_stops_ticking,
            an_unchanged_runtime_upsert_keeps_its_next_tick,
            invalid_runtime_schedules_are_refused,
            a_runtime_schedule_is_orphaned_only_while_no_live_worker_runs_its_kind,
            a_declared_schedule_wins_its_id_over_a_runtime_one,
            concurrency_one_never_overlaps_across_workers,
            a_concurrency_key_limits_each_value_and_lets_others_run,
            a_rate_limit_holds_in_every_window,
            drain_respects_the_rate_limit,
            a_held_back_kind_does_not_hold_back_other_kinds,
            a_recurring_job_with_concurrency_one_never_overlaps,
            a_paused_queue_starts_nothing_until_resumed,
            queues_lists_queues_with_jobs_or_a_pause,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let backend = $make.await;
                $crate::testing::cases::$case($crate::testing::Env::new(backend)).await;
            }
        )+
    };
}
