//! Every workload: its name, backend and size in full and quick runs.

/// A workload's backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    Memory,
    Postgres,
}

/// A workload the program can run.
#[derive(Debug)]
pub(crate) struct Workload {
    pub(crate) name: &'static str,
    pub(crate) backend: Which,
    pub(crate) about: &'static str,
}

/// As `--list` shows them (the memory workloads run first).
pub(crate) const WORKLOADS: &[Workload] = &[
    Workload {
        name: "pg-enqueue-bulk",
        backend: Which::Postgres,
        about: "store jobs with enqueue_many in batches",
    },
    Workload {
        name: "pg-drain",
        backend: Which::Postgres,
        about: "run queued no-op jobs at concurrency 1, 16 and 64",
    },
    Workload {
        name: "pg-cost",
        backend: Which::Postgres,
        about: "commits, WAL bytes, statements and rows per job in the drain",
    },
    Workload {
        name: "pg-drain-1ms",
        backend: Which::Postgres,
        about: "run queued 1 ms jobs at concurrency 4",
    },
    Workload {
        name: "pg-latency",
        backend: Which::Postgres,
        about: "enqueue -> start latency at a steady rate",
    },
    Workload {
        name: "pg-scheduled",
        backend: Which::Postgres,
        about: "start - scheduled time of jobs scheduled evenly",
    },
    Workload {
        name: "pg-drain-keyed",
        backend: Which::Postgres,
        about: "run no-op jobs with concurrency = 8 per key over 1,000 keys",
    },
    Workload {
        name: "pg-drain-rate",
        backend: Which::Postgres,
        about: "run no-op jobs with rate_limit = \"5000/1s\"",
    },
    Workload {
        name: "pg-dashboard",
        backend: Which::Postgres,
        about: "each dashboard page's answer time over a store of 1,000,000 jobs",
    },
    Workload {
        name: "mem-drain",
        backend: Which::Memory,
        about: "run queued no-op jobs",
    },
    Workload {
        name: "mem-latency",
        backend: Which::Memory,
        about: "enqueue -> start latency at a steady rate",
    },
    Workload {
        name: "mem-drain-keyed",
        backend: Which::Memory,
        about: "run no-op jobs with concurrency = 8 per key over 1,000 keys",
    },
    Workload {
        name: "mem-drain-rate",
        backend: Which::Memory,
        about: "run no-op jobs with rate_limit = \"5000/1s\"",
    },
    Workload {
        name: "mem-rss",
        backend: Which::Memory,
        about: "resident memory growth of queued jobs with a 32-byte argument",
    },
];

/// How big each workload is.
#[derive(Clone, Debug)]
pub(crate) struct Sizes {
    pub(crate) pg_bulk_jobs: usize,
    pub(crate) pg_bulk_batch: usize,
    pub(crate) pg_drain_jobs: usize,
    pub(crate) pg_drain_concurrency: &'static [usize],
    pub(crate) pg_drain_1ms_jobs: usize,
    pub(crate) pg_latency_rate: u32,
    pub(crate) pg_latency_secs: u32,
    pub(crate) pg_scheduled_jobs: usize,
    pub(crate) pg_scheduled_secs: u32,
    pub(crate) mem_drain_jobs: usize,
    pub(crate) mem_drain_concurrency: usize,
    pub(crate) mem_latency_rate: u32,
    pub(crate) mem_latency_secs: u32,
    pub(crate) mem_rss_jobs: usize,
    /// Jobs of the keyed drains, and how many keys they spread over.
    pub(crate) keyed_jobs: usize,
    pub(crate) keyed_keys: u32,
    /// Jobs of the rate-limited drains (at 5,000 a second).
    pub(crate) rate_jobs: usize,
    /// Jobs kept in the dashboard's store, views of each page timed, and
    /// first views of the overview (each on a dashboard that has counted
    /// nothing yet).
    pub(crate) dashboard_jobs: usize,
    pub(crate) dashboard_views: usize,
    pub(crate) dashboard_first_views: usize,
}

impl Sizes {
    /// What the targets are stated for.
    pub(crate) const FULL: Sizes = Sizes {
        pg_bulk_jobs: 200_000,
        pg_bulk_batch: 5_000,
        pg_drain_jobs: 200_000,
        pg_drain_concurrency: &[1, 16, 64],
        pg_drain_1ms_jobs: 20_000,
        pg_latency_rate: 500,
        pg_latency_secs: 20,
        pg_scheduled_jobs: 10_000,
        pg_scheduled_secs: 30,
        mem_drain_jobs: 1_000_000,
        mem_drain_concurrency: 16,
        mem_latency_rate: 10_000,
        mem_latency_secs: 20,
        mem_rss_jobs: 1_000_000,
        keyed_jobs: 100_000,
        keyed_keys: 1_000,
        rate_jobs: 20_000,
        dashboard_jobs: 1_000_000,
        dashboard_views: 20,
        dashboard_first_views: 5,
    };

    /// A smoke test: every workload, a tenth of the size or less.
    pub(crate) const QUICK: Sizes = Sizes {
        pg_bulk_jobs: 20_000,
        pg_bulk_batch: 5_000,
        pg_drain_jobs: 20_000,
        pg_drain_concurrency: &[1, 16, 64],
        pg_drain_1ms_jobs: 2_000,
        pg_latency_rate: 500,
        pg_latency_secs: 3,
        pg_scheduled_jobs: 1_000,
        pg_scheduled_secs: 3,
        mem_drain_jobs: 100_000,
        mem_drain_concurrency: 16,
        mem_latency_rate: 10_000,
        mem_latency_secs: 2,
        mem_rss_jobs: 100_000,
        keyed_jobs: 10_000,
        keyed_keys: 1_000,
        rate_jobs: 10_000,
        dashboard_jobs: 100_000,
        dashboard_views: 5,
        dashboard_first_views: 2,
    };
}
