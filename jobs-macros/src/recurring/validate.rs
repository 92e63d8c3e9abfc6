//! Checks `#[recurring(..)]`: its own keys (`cron`, `id`, `tz`, `misfire`),
//! the `#[job]` keys that apply, and a signature without arguments.

use proc_macro2::Span;

use crate::attr::{self, Attr};
use crate::cron;
use crate::ctxt::Ctxt;
use crate::job::Input;
use crate::job::expand::Recurring;
use crate::job::unknown_key;
use crate::keys::{Entry, Key, RECURRING_KEYS};
use crate::options::{JobKeys, JobOptions};
use crate::signature::{self, Flavor, Signature};

/// What `#[recurring]` found; `recurring` is `None` if `cron` or `id` is
/// missing or bad.
pub(crate) struct Checked {
    pub(crate) options: JobOptions,
    pub(crate) recurring: Option<Recurring>,
    pub(crate) signature: Option<Signature>,
}

struct RecurringKeys {
    cron: Attr<String>,
    id: Attr<String>,
    tz: Attr<String>,
    misfire: Attr<&'static str>,
}

pub(crate) fn validate(cx: &Ctxt, input: &Input) -> Checked {
    let mut job_keys = JobKeys::new("recurring");
    let mut keys = RecurringKeys {
        cron: Attr::none(Key::Cron, "recurring"),
        id: Attr::none(Key::Id, "recurring"),
        tz: Attr::none(Key::Tz, "recurring"),
        misfire: Attr::none(Key::Misfire, "recurring"),
    };
    for entry in &input.entries {
        match entry.key {
            Some(
                key @ (Key::Unique
                | Key::Name
                | Key::Version
                | Key::Upgrade
                | Key::ConcurrencyArgument),
            ) => does_not_apply(cx, entry, key),
            Some(Key::Cron) => keys.cron.set_with(cx, entry, read_cron),
            Some(Key::Id) => keys.id.set_with(cx, entry, read_id),
            Some(Key::Tz) => keys.tz.set_with(cx, entry, read_tz),
            Some(Key::Misfire) => keys.misfire.set_with(cx, entry, read_misfire),
            Some(key) if job_keys.read(cx, entry, key) => {}
            _ => unknown_key(cx, &entry.ident, "recurring", RECURRING_KEYS),
        }
    }
    let name = input.item.sig.ident.to_string();
    let example_id = name.trim_start_matches("r#").replace('_', "-");
    if !keys.cron.seen() {
        cx.error_at(
            Span::call_site(),
            format!("`#[recurring]` on `{name}` needs a `cron` key, the schedule with seconds: write `#[recurring(cron = \"0 0 2 * * *\", id = \"{example_id}\")]`"),
        );
    }
    if !keys.id.seen() {
        cx.error_at(
            Span::call_site(),
            format!("`#[recurring]` on `{name}` needs an `id` key, the stable schedule id that survives renames and redeploys: add `id = \"{example_id}\"`"),
        );
    }
    let options = job_keys.finish(cx);
    let signature = signature::check(cx, &input.item, Flavor::Recurring);
    let tz_seen = keys.tz.seen();
    let recurring = match (keys.cron.get(), keys.id.get(), keys.tz.get()) {
        (Some(cron), Some(id), tz) if tz.is_some() || !tz_seen => Some(Recurring {
            id,
            cron,
            tz: tz.unwrap_or_else(|| "UTC".to_owned()),
            misfire: keys.misfire.get().unwrap_or("Once"),
        }),
        _ => None,
    };
    Checked {
        options,
        recurring,
        signature,
    }
}

fn does_not_apply(cx: &Ctxt, entry: &Entry, key: Key) {
    let why = match key {
        Key::Unique => "each tick already enqueues exactly one run, however many workers run",
        Key::Version | Key::Upgrade => {
            "a recurring job takes no arguments, so there are none to version or upgrade"
        }
        Key::ConcurrencyArgument => {
            "a recurring job takes no arguments to key on; `concurrency = 1` alone keeps its runs from overlapping"
        }
        _ => "the kind name of a recurring job is its function's name; `id` names the schedule",
    };
    cx.error_spanned_by(
        &entry.ident,
        format!(
            "`{}` does not apply to `#[recurring]`: {why}; remove it",
            key.as_str()
        ),
    );
}

fn read_id(cx: &Ctxt, entry: &Entry) -> Option<String> {
    let lit = attr::string(cx, entry, Key::Id)?;
    let id = lit.value();
    if id.trim().is_empty() || id.trim() != id {
        cx.error_spanned_by(
            &lit,
            "`id` is the stable schedule id: write a non-empty id without surrounding spaces, such as `id = \"nightly-report\"`",
        );
        return None;
    }
    Some(id)
}

fn read_cron(cx: &Ctxt, entry: &Entry) -> Option<String> {
    let lit = attr::string(cx, entry, Key::Cron)?;
    match cron::check_expression(&lit.value()) {
        Ok(()) => Some(lit.value()),
        Err(message) => {
            cx.error_spanned_by(&lit, message);
            None
        }
    }
}

fn read_tz(cx: &Ctxt, entry: &Entry) -> Option<String> {
    let lit = attr::string(cx, entry, Key::Tz)?;
    match cron::parse_zone(&lit.value()) {
        Ok(_) => Some(lit.value()),
        Err(message) => {
            cx.error_spanned_by(&lit, message);
            None
        }
    }
}

fn read_misfire(cx: &Ctxt, entry: &Entry) -> Option<&'static str> {
    let lit = attr::string(cx, entry, Key::Misfire)?;
    match cron::check_misfire(&lit.value()) {
        Ok(variant) => Some(variant),
        Err(message) => {
            cx.error_spanned_by(&lit, message);
            None
        }
    }
}
