//! The command line.

use crate::workloads::{WORKLOADS, Which};

/// Which backends to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backends {
    Memory,
    Postgres,
    All,
}

impl Backends {
    pub(crate) fn includes(self, backend: Which) -> bool {
        matches!(
            (self, backend),
            (Backends::All, _)
                | (Backends::Memory, Which::Memory)
                | (Backends::Postgres, Which::Postgres)
        )
    }
}

/// What to run and how to print it.
#[derive(Clone, Debug)]
pub(crate) struct Args {
    pub(crate) quick: bool,
    pub(crate) json: bool,
    pub(crate) backends: Backends,
    /// Only these workloads (empty: every one).
    pub(crate) workloads: Vec<String>,
    pub(crate) help: bool,
    pub(crate) list: bool,
    /// Run one measurement in this fresh process and print its result (how
    /// the memory workload measures resident memory without what earlier
    /// workloads left in the allocator).
    pub(crate) child: Option<(String, usize)>,
}

pub(crate) const USAGE: &str = "\
jobs-bench: throughput, latency and cost of the jobs framework

USAGE: jobs-bench [--quick] [--json] [--backend memory|postgres|all] [--workload NAME]...

  --quick           smaller counts and durations (a smoke test, under two minutes)
  --json            one JSON object per workload instead of the table
  --backend B       run only the workloads of backend B (default: all)
  --workload NAME   run only this workload (repeatable); see --list
  --list            list the workloads
  --help            this text

The PostgreSQL workloads connect to DATABASE_URL and create (and drop) their
own schemas there; `scripts/bench` starts a throwaway server for them.";

impl Args {
    pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Args {
            quick: false,
            json: false,
            backends: Backends::All,
            workloads: Vec::new(),
            help: false,
            list: false,
            child: None,
        };
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match flag.as_str() {
                "--quick" => parsed.quick = true,
                "--json" => parsed.json = true,
                "-h" | "--help" => parsed.help = true,
                "--list" => parsed.list = true,
                "--backend" => {
                    parsed.backends = match value("--backend")?.as_str() {
                        "memory" => Backends::Memory,
                        "postgres" => Backends::Postgres,
                        "all" => Backends::All,
                        other => {
                            return Err(format!(
                                "unknown backend `{other}`: write memory, postgres or all"
                            ));
                        }
                    }
                }
                "--workload" => {
                    let name = value("--workload")?;
                    if !WORKLOADS.iter().any(|w| w.name == name) {
                        return Err(format!("unknown workload `{name}`; --list shows them"));
                    }
                    parsed.workloads.push(name);
                }
                "--child" => {
                    let name = value("--child")?;
                    let jobs = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .ok_or("--child needs a job count")?;
                    parsed.child = Some((name, jobs));
                }
                other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
            }
        }
        Ok(parsed)
    }

    /// The workloads, one per line with what they measure.
    pub(crate) fn listing() -> String {
        let lines: Vec<String> = WORKLOADS
            .iter()
            .map(|w| format!("{:<16} {}", w.name, w.about))
            .collect();
        lines.join("\n")
    }

    /// Whether `name` (of `backend`) is to run.
    pub(crate) fn selects(&self, name: &str, backend: Which) -> bool {
        self.backends.includes(backend)
            && (self.workloads.is_empty() || self.workloads.iter().any(|w| w == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn flags_and_values() {
        let args = parse(&["--quick", "--backend", "memory", "--workload=mem-drain"]).unwrap();
        assert!(args.quick && !args.json);
        assert_eq!(args.backends, Backends::Memory);
        assert!(args.selects("mem-drain", Which::Memory));
        assert!(!args.selects("mem-latency", Which::Memory));
        assert!(!args.selects("mem-drain", Which::Postgres));
        assert!(parse(&["--backend", "mysql"]).is_err());
        assert!(parse(&["--workload", "nope"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }
}
