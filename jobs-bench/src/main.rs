//! `jobs-bench`: measures the framework on the work users care about —
//! enqueueing in bulk, draining a queue, enqueue → start latency, scheduled
//! jobs, cost per job in the database, memory per queued job — on the
//! memory backend and on PostgreSQL, and prints a table (or, with `--json`,
//! one JSON object per workload).
//!
//! `scripts/bench` builds it in release mode, starts a throwaway PostgreSQL
//! with `fsync` and `synchronous_commit` on, and runs it; `--quick` is the
//! smoke test CI runs. Every workload is described in `workloads.rs` and
//! implemented in `memory.rs` or `postgres/`.

mod args;
mod flow;
mod jobs;
mod load;
mod memory;
mod pacer;
mod postgres;
mod report;
mod stats;
mod workloads;

use std::process::ExitCode;
use std::sync::Arc;

use jobs_memory::MemoryBackend;

use crate::args::{Args, USAGE};
use crate::report::Report;
use crate::workloads::{Sizes, WORKLOADS, Which};

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.list {
        println!("{}", Args::listing());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match &args.child {
        Some((name, jobs)) if name == "mem-rss" => runtime.block_on(memory::rss_child(*jobs)),
        Some((name, _)) => Err(format!("unknown measurement `{name}`")),
        None => runtime.block_on(run(&args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let sizes = if args.quick {
        Sizes::QUICK
    } else {
        Sizes::FULL
    };
    let selected: Vec<&str> = WORKLOADS
        .iter()
        .filter(|w| args.selects(w.name, w.backend))
        .map(|w| w.name)
        .collect();
    if selected.is_empty() {
        return Err("no workload selected".into());
    }
    let pg = if WORKLOADS
        .iter()
        .any(|w| w.backend == Which::Postgres && selected.contains(&w.name))
    {
        let pg = postgres::Pg::connect().await?;
        eprintln!("== {}", pg.describe().await?);
        Some(pg)
    } else {
        None
    };
    eprintln!(
        "== {} cores, {} run",
        std::thread::available_parallelism().map_or(1, usize::from),
        if args.quick { "quick" } else { "full" }
    );

    let mut reports = Vec::new();
    let mut emit = |report: Report| {
        if args.json {
            println!("{}", report.to_json());
        } else {
            eprintln!("   {} done", report.workload);
        }
        reports.push(report);
    };
    let wants = |name: &str| selected.contains(&name);
    // the memory workloads first: the server's background work after a
    // PostgreSQL workload (writing pages out, vacuuming its catalog) takes
    // cores the in-process ones would measure
    if wants("mem-drain") {
        eprintln!("== mem-drain");
        emit(memory::drain(&sizes).await?);
    }
    if wants("mem-latency") {
        eprintln!("== mem-latency");
        emit(memory::latency(&sizes).await?);
    }
    if wants("mem-drain-keyed") {
        eprintln!("== mem-drain-keyed");
        let backend = Arc::new(MemoryBackend::with_capacity(sizes.keyed_jobs));
        emit(flow::drain_keyed("mem-drain-keyed", "memory", backend, &sizes).await?);
    }
    if wants("mem-drain-rate") {
        eprintln!("== mem-drain-rate");
        let backend = Arc::new(MemoryBackend::with_capacity(sizes.rate_jobs));
        emit(flow::drain_rate("mem-drain-rate", "memory", backend, &sizes).await?);
    }
    if wants("mem-rss") {
        eprintln!("== mem-rss");
        emit(memory::rss(&sizes).await?);
    }
    if let Some(pg) = &pg {
        if wants("pg-enqueue-bulk") {
            eprintln!("== pg-enqueue-bulk");
            emit(postgres::bulk_enqueue(pg, &sizes).await?);
            pg.settle().await;
        }
        if wants("pg-drain") || wants("pg-cost") {
            eprintln!("== pg-drain");
            let (drain, cost) = postgres::drain(pg, &sizes).await?;
            if wants("pg-drain") {
                emit(drain);
            }
            pg.settle().await;
            if wants("pg-cost") {
                emit(cost);
            }
        }
        if wants("pg-drain-1ms") {
            eprintln!("== pg-drain-1ms");
            emit(postgres::drain_1ms(pg, &sizes).await?);
            pg.settle().await;
        }
        if wants("pg-latency") {
            eprintln!("== pg-latency");
            emit(postgres::latency(pg, &sizes).await?);
            pg.settle().await;
        }
        if wants("pg-scheduled") {
            eprintln!("== pg-scheduled");
            emit(postgres::scheduled(pg, &sizes).await?);
            pg.settle().await;
        }
        if wants("pg-drain-keyed") {
            eprintln!("== pg-drain-keyed");
            emit(postgres::drain_keyed(pg, &sizes).await?);
            pg.settle().await;
        }
        if wants("pg-drain-rate") {
            eprintln!("== pg-drain-rate");
            emit(postgres::drain_rate(pg, &sizes).await?);
            pg.settle().await;
        }
        if wants("pg-dashboard") {
            eprintln!("== pg-dashboard");
            emit(postgres::dashboard(pg, &sizes).await?);
            pg.settle().await;
        }
    }
    if !args.json {
        print!("{}", report::table(&reports));
    }
    Ok(())
}
