//! Checks every key of `#[job(..)]` and the function's signature,
//! collecting all errors.

use crate::ctxt::Ctxt;
use crate::flow;
use crate::keys::{self, JOB_KEYS, Key};
use crate::options::{JobKeys, JobOptions};
use crate::signature::{self, Flavor, Signature};

use super::parse::Input;

/// What `#[job]` found. `signature` is `None` when the function cannot be
/// a job; `options` always holds values (defaults where a key was bad), so
/// the enqueue functions can still be generated when only a key is wrong.
pub(crate) struct Job {
    pub(crate) options: JobOptions,
    pub(crate) signature: Option<Signature>,
}

pub(crate) fn validate(cx: &Ctxt, input: &Input) -> Job {
    let mut job_keys = JobKeys::new("job");
    for entry in &input.entries {
        match entry.key {
            Some(key) if job_keys.read(cx, entry, key) => {}
            Some(key @ (Key::Cron | Key::Id | Key::Tz | Key::Misfire)) => cx.error_spanned_by(
                &entry.ident,
                format!(
                    "`{}` is a key of `#[recurring]`, not `#[job]`: for a job on a cron schedule, write `#[recurring(cron = \"0 0 2 * * *\", id = \"{}\")]`",
                    key.as_str(),
                    input.item.sig.ident.to_string().replace('_', "-")
                ),
            ),
            _ => unknown_key(cx, &entry.ident, "job", JOB_KEYS),
        }
    }
    let options = job_keys.finish(cx);
    let signature = signature::check(cx, &input.item, Flavor::Job);
    if let (Some(key), Some(signature)) = (&options.concurrency_key, &signature) {
        flow::check_concurrency_key(cx, key, signature);
    }
    Job { options, signature }
}

/// Reports a key the attribute does not know, listing those it does.
pub(crate) fn unknown_key(cx: &Ctxt, ident: &proc_macro2::Ident, attribute: &str, valid: &[Key]) {
    cx.error_spanned_by(
        ident,
        format!(
            "unknown key `{ident}` in `#[{attribute}]`: valid keys are {}",
            keys::list(valid)
        ),
    );
}
