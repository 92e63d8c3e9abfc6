//! The `#[job]` keys (shared by `#[recurring]`): read, checked, and turned
//! into the values the definition is built from.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Expr, LitStr, Path};

use crate::attr::{self, Attr, Integer};
use crate::ctxt::Ctxt;
use crate::duration;
use crate::flow::{self, RateLimit};
use crate::keys::{Entry, Key};

const SECOND: u64 = 1_000_000_000;
/// `RetryPolicy::DEFAULT_RETRIES` in jobs-core.
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_BASE: u64 = SECOND;
const DEFAULT_MAX: u64 = 3_600 * SECOND;
pub(crate) const DEFAULT_QUEUE: &str = "default";

/// The backoff curves, as jobs-core's `Backoff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backoff {
    Exponential,
    Linear,
    Fixed,
    None,
}

impl Backoff {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "exponential" => Some(Backoff::Exponential),
            "linear" => Some(Backoff::Linear),
            "fixed" => Some(Backoff::Fixed),
            "none" => Some(Backoff::None),
            _ => None,
        }
    }

    /// The variant name in jobs-core.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Backoff::Exponential => "Exponential",
            Backoff::Linear => "Linear",
            Backoff::Fixed => "Fixed",
            Backoff::None => "None",
        }
    }
}

/// How retries are delayed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delays {
    /// A curve from `base`, capped at `max` (nanoseconds).
    Backoff { kind: Backoff, base: u64, max: u64 },
    /// Explicit delays in seconds; the last repeats.
    Explicit(Vec<u64>),
}

/// The checked `#[job]` keys, defaults filled in.
#[derive(Debug)]
pub(crate) struct JobOptions {
    pub(crate) retries: u32,
    pub(crate) delays: Delays,
    pub(crate) queue: String,
    pub(crate) priority: i16,
    /// Nanoseconds.
    pub(crate) timeout: Option<u64>,
    pub(crate) unique: bool,
    /// The kind name, if `name` was given.
    pub(crate) name: Option<String>,
    /// The kind's version, 1 unless given.
    pub(crate) version: u32,
    /// The function that upgrades older arguments, as written.
    pub(crate) upgrade: Option<Path>,
    /// At most this many runs at once (`concurrency = N`).
    pub(crate) concurrency: Option<u32>,
    /// The argument the concurrency limit is kept per value of, as written
    /// (checked against the signature afterwards).
    pub(crate) concurrency_key: Option<LitStr>,
    /// At most `max` starts in any window of `per`.
    pub(crate) rate_limit: Option<RateLimit>,
}

/// The `#[job]` keys being read from one attribute.
pub(crate) struct JobKeys {
    retries: Attr<u32>,
    backoff: Attr<Backoff>,
    backoff_base: Attr<(u64, LitStr)>,
    backoff_max: Attr<u64>,
    delays: Attr<Vec<u64>>,
    queue: Attr<String>,
    priority: Attr<i16>,
    timeout: Attr<u64>,
    unique: Attr<bool>,
    name: Attr<String>,
    version: Attr<u32>,
    /// The version's value as written, to point at.
    version_expr: Option<Expr>,
    upgrade: Attr<Path>,
    concurrency: Attr<u32>,
    concurrency_key: Attr<LitStr>,
    rate_limit: Attr<RateLimit>,
    /// The values of the `backoff*` keys, to point at if `delays` is given too.
    backoff_values: Vec<(Key, TokenStream)>,
}

impl JobKeys {
    pub(crate) fn new(attribute: &'static str) -> Self {
        Self {
            retries: Attr::none(Key::Retries, attribute),
            backoff: Attr::none(Key::Backoff, attribute),
            backoff_base: Attr::none(Key::BackoffBase, attribute),
            backoff_max: Attr::none(Key::BackoffMax, attribute),
            delays: Attr::none(Key::Delays, attribute),
            queue: Attr::none(Key::Queue, attribute),
            priority: Attr::none(Key::Priority, attribute),
            timeout: Attr::none(Key::Timeout, attribute),
            unique: Attr::none(Key::Unique, attribute),
            name: Attr::none(Key::Name, attribute),
            version: Attr::none(Key::Version, attribute),
            version_expr: None,
            upgrade: Attr::none(Key::Upgrade, attribute),
            concurrency: Attr::none(Key::Concurrency, attribute),
            concurrency_key: Attr::none(Key::ConcurrencyArgument, attribute),
            rate_limit: Attr::none(Key::RateLimit, attribute),
            backoff_values: Vec::new(),
        }
    }

    /// Reads one entry whose key is a `#[job]` key; returns `false` for any
    /// other key, which the caller handles.
    pub(crate) fn read(&mut self, cx: &Ctxt, entry: &Entry, key: Key) -> bool {
        match key {
            Key::Retries => self.retries.set_with(cx, entry, read_retries),
            Key::Backoff => self.backoff.set_with(cx, entry, read_backoff),
            Key::BackoffBase => self.backoff_base.set_with(cx, entry, |cx, entry| {
                let lit = attr::string(cx, entry, key)?;
                read_duration(cx, &lit, key).map(|nanos| (nanos, lit))
            }),
            Key::BackoffMax => self.backoff_max.set_with(cx, entry, |cx, entry| {
                let lit = attr::string(cx, entry, key)?;
                read_duration(cx, &lit, key)
            }),
            Key::Delays => self.delays.set_with(cx, entry, read_delays),
            Key::Queue => self.queue.set_with(cx, entry, read_queue),
            Key::Priority => self.priority.set_with(cx, entry, read_priority),
            Key::Timeout => self.timeout.set_with(cx, entry, read_timeout),
            Key::Unique => self
                .unique
                .set_with(cx, entry, |cx, entry| attr::boolean(cx, entry, key)),
            Key::Name => self.name.set_with(cx, entry, read_name),
            Key::Version => {
                if !self.version.seen() {
                    self.version_expr = entry.value.clone();
                }
                self.version.set_with(cx, entry, read_version);
            }
            Key::Upgrade => self.upgrade.set_with(cx, entry, read_upgrade),
            Key::Concurrency => self.concurrency.set_with(cx, entry, flow::read_concurrency),
            Key::ConcurrencyArgument => {
                self.concurrency_key
                    .set_with(cx, entry, flow::read_concurrency_key);
            }
            Key::RateLimit => self.rate_limit.set_with(cx, entry, flow::read_rate_limit),
            Key::Cron | Key::Id | Key::Tz | Key::Misfire => return false,
        }
        if matches!(key, Key::Backoff | Key::BackoffBase | Key::BackoffMax) {
            let value = entry
                .value
                .as_ref()
                .map_or_else(|| entry.tokens(), ToTokens::to_token_stream);
            self.backoff_values.push((key, value));
        }
        true
    }

    /// Checks the keys against each other and fills in defaults.
    pub(crate) fn finish(self, cx: &Ctxt) -> JobOptions {
        let delays = if self.delays.seen() {
            for (key, value) in &self.backoff_values {
                cx.error_spanned_by(
                    value,
                    format!(
                        "`{}` cannot be combined with `delays`: `delays` already lists the delay before each retry; remove `{}` or `delays`",
                        key.as_str(),
                        key.as_str()
                    ),
                );
            }
            Delays::Explicit(self.delays.get().unwrap_or_default())
        } else {
            let max = self.backoff_max.get().unwrap_or(DEFAULT_MAX);
            let base = match self.backoff_base.get() {
                Some((base, lit)) if base > max => {
                    cx.error_spanned_by(
                        &lit,
                        format!(
                            "`backoff_base = {:?}` is longer than `backoff_max`, which caps every delay: raise `backoff_max` (default \"1h\") or lower `backoff_base`",
                            lit.value()
                        ),
                    );
                    base
                }
                Some((base, _)) => base,
                None => DEFAULT_BASE,
            };
            Delays::Backoff {
                kind: self.backoff.get().unwrap_or(Backoff::Exponential),
                base,
                max,
            }
        };
        let version_seen = self.version.seen();
        let version = self.version.get();
        let upgrade = self.upgrade.get();
        if let Some(path) = &upgrade
            && version.is_some_and(|version| version < 2)
        {
            let at = self
                .version_expr
                .as_ref()
                .map_or_else(|| path.to_token_stream(), ToTokens::to_token_stream);
            cx.error_spanned_by(
                at,
                "`upgrade` turns the arguments of older stored versions into this version's, so it needs `version = 2` or higher: raise `version`, or remove `upgrade`",
            );
        } else if let Some(path) = &upgrade
            && !version_seen
        {
            cx.error_spanned_by(
                path,
                "`upgrade` needs a `version` of 2 or higher next to it: write `version = 2, upgrade = upgrade_send_email` (the function gets the stored version and arguments)",
            );
        }
        let concurrency_seen = self.concurrency.seen();
        let concurrency = self.concurrency.get();
        let concurrency_key = self.concurrency_key.get();
        if let Some(key) = &concurrency_key
            && !concurrency_seen
        {
            cx.error_spanned_by(
                key,
                format!(
                    "`concurrency_key` makes `concurrency` hold per value of an argument, so it needs `concurrency` next to it: write `concurrency = 1, concurrency_key = {:?}`",
                    key.value()
                ),
            );
        }
        JobOptions {
            concurrency,
            concurrency_key,
            rate_limit: self.rate_limit.get(),
            version: version.unwrap_or(1),
            upgrade,
            retries: self.retries.get().unwrap_or(DEFAULT_RETRIES),
            delays,
            queue: self.queue.get().unwrap_or_else(|| DEFAULT_QUEUE.to_owned()),
            priority: self.priority.get().unwrap_or(0),
            timeout: self.timeout.get(),
            unique: self.unique.get().unwrap_or(false),
            name: self.name.get(),
        }
    }
}

fn read_retries(cx: &Ctxt, entry: &Entry) -> Option<u32> {
    let Integer { value, expr } = attr::integer(cx, entry, Key::Retries)?;
    if value < 0 {
        cx.error_spanned_by(
            expr,
            "`retries` cannot be negative: it counts the retries after the first attempt; write `retries = 0` for a single attempt",
        );
        return None;
    }
    match u32::try_from(value) {
        Ok(retries) => Some(retries),
        Err(_) => {
            cx.error_spanned_by(
                expr,
                format!("`retries = {value}` is too large: the most is {}", u32::MAX),
            );
            None
        }
    }
}

fn read_backoff(cx: &Ctxt, entry: &Entry) -> Option<Backoff> {
    let lit = attr::string(cx, entry, Key::Backoff)?;
    let backoff = Backoff::parse(&lit.value());
    if backoff.is_none() {
        cx.error_spanned_by(
            &lit,
            format!(
                "unknown backoff {:?}: write \"exponential\", \"linear\", \"fixed\" or \"none\"",
                lit.value()
            ),
        );
    }
    backoff
}

fn read_duration(cx: &Ctxt, lit: &LitStr, key: Key) -> Option<u64> {
    match duration::parse_nanos(&lit.value()) {
        Ok(nanos) => Some(nanos),
        Err(error) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "invalid duration {:?} for `{}`: {}",
                    lit.value(),
                    key.as_str(),
                    error.reason()
                ),
            );
            None
        }
    }
}

fn read_timeout(cx: &Ctxt, entry: &Entry) -> Option<u64> {
    let lit = attr::string(cx, entry, Key::Timeout)?;
    let nanos = read_duration(cx, &lit, Key::Timeout)?;
    if nanos == 0 {
        cx.error_spanned_by(
            &lit,
            "a `timeout` of zero would cancel every run at once: write a positive duration such as \"30s\", or remove `timeout` for none",
        );
        return None;
    }
    Some(nanos)
}

fn read_delays(cx: &Ctxt, entry: &Entry) -> Option<Vec<u64>> {
    let (delays, expr) = attr::integer_list(
        cx,
        entry,
        Key::Delays,
        |cx, Integer { value, expr }| match u64::try_from(value) {
            Ok(seconds) => Some(seconds),
            Err(_) if value < 0 => {
                cx.error_spanned_by(
                    expr,
                    "`delays` are seconds before each retry and cannot be negative",
                );
                None
            }
            Err(_) => {
                cx.error_spanned_by(
                    expr,
                    format!("this delay is too large: the most is {} seconds", u64::MAX),
                );
                None
            }
        },
    )?;
    if delays.is_empty() {
        cx.error_spanned_by(
            expr,
            "`delays` needs at least one delay: write `delays = [60, 120, 300]` (seconds; the last repeats), or remove it to use `backoff`",
        );
        return None;
    }
    Some(delays)
}

/// The rule jobs-core's `is_valid_queue_name` applies at run time.
pub(crate) fn is_valid_queue_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn read_queue(cx: &Ctxt, entry: &Entry) -> Option<String> {
    let lit = attr::string(cx, entry, Key::Queue)?;
    let queue = lit.value();
    if !is_valid_queue_name(&queue) {
        cx.error_spanned_by(
            &lit,
            format!(
                "invalid queue name {queue:?}: use 1 to 64 characters from `a-z`, `0-9`, `_` and `-`, such as \"critical\" or \"mail_v2\""
            ),
        );
        return None;
    }
    Some(queue)
}

fn read_priority(cx: &Ctxt, entry: &Entry) -> Option<i16> {
    let Integer { value, expr } = attr::integer(cx, entry, Key::Priority)?;
    match i16::try_from(value) {
        Ok(priority) => Some(priority),
        Err(_) => {
            cx.error_spanned_by(
                expr,
                format!(
                    "`priority = {value}` is out of range: priorities are `i16`, from {} to {}; lower runs first",
                    i16::MIN,
                    i16::MAX
                ),
            );
            None
        }
    }
}

fn read_version(cx: &Ctxt, entry: &Entry) -> Option<u32> {
    let Integer { value, expr } = attr::integer(cx, entry, Key::Version)?;
    match u32::try_from(value) {
        Ok(version) if version >= 1 => Some(version),
        _ => {
            cx.error_spanned_by(
                expr,
                format!(
                    "`version = {value}` is out of range: versions count from 1 (the default) to {}; raise it by one each time the arguments change",
                    u32::MAX
                ),
            );
            None
        }
    }
}

fn read_upgrade(cx: &Ctxt, entry: &Entry) -> Option<Path> {
    let expr = attr::value(cx, entry, Key::Upgrade)?;
    match expr {
        Expr::Path(path) if path.qself.is_none() => Some(path.path.clone()),
        other => {
            cx.error_spanned_by(
                other,
                "`upgrade` takes the path of a function `fn(u32, serde_json::Value) -> Result<serde_json::Value, E>`: write `upgrade = upgrade_send_email`",
            );
            None
        }
    }
}

fn read_name(cx: &Ctxt, entry: &Entry) -> Option<String> {
    let lit = attr::string(cx, entry, Key::Name)?;
    let name = lit.value();
    if name.trim().is_empty() || name.trim() != name {
        cx.error_spanned_by(
            &lit,
            "`name` is the stable kind name stored with each job: write a non-empty name without surrounding spaces, such as `name = \"send_welcome_email\"`",
        );
        return None;
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Entries;

    /// The options and every error message for an attribute's arguments.
    fn check(args: &str) -> (JobOptions, Vec<String>) {
        let entries: Entries = syn::parse_str(args).expect("syntax");
        let cx = Ctxt::new();
        let mut keys = JobKeys::new("job");
        for entry in &entries.0 {
            let key = entry.key.expect("known key");
            assert!(keys.read(&cx, entry, key));
        }
        let options = keys.finish(&cx);
        let errors = match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        };
        (options, errors)
    }

    #[test]
    fn defaults() {
        let (options, errors) = check("");
        assert!(errors.is_empty());
        assert_eq!(options.retries, 3);
        assert_eq!(
            options.delays,
            Delays::Backoff {
                kind: Backoff::Exponential,
                base: SECOND,
                max: 3_600 * SECOND
            }
        );
        assert_eq!(options.queue, "default");
        assert_eq!(options.priority, 0);
        assert_eq!(options.timeout, None);
        assert!(!options.unique);
        assert_eq!(options.name, None);
    }

    #[test]
    fn every_key() {
        let (options, errors) = check(
            r#"retries = 0, backoff = "linear", backoff_base = "500ms", backoff_max = "1h30m",
               queue = "mail_v2-eu", priority = -32768, timeout = "2m", unique = true, name = "mail""#,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(options.retries, 0);
        assert_eq!(
            options.delays,
            Delays::Backoff {
                kind: Backoff::Linear,
                base: SECOND / 2,
                max: 5_400 * SECOND
            }
        );
        assert_eq!(options.queue, "mail_v2-eu");
        assert_eq!(options.priority, i16::MIN);
        assert_eq!(options.timeout, Some(120 * SECOND));
        assert!(options.unique);
        assert_eq!(options.name.as_deref(), Some("mail"));

        let (options, errors) = check("delays = [60, 120, 300], unique");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(options.delays, Delays::Explicit(vec![60, 120, 300]));
        assert!(options.unique);
    }

    #[test]
    fn every_bad_value_is_reported() {
        let (_, errors) = check(
            r#"retries = -1, backoff = "quadratic", backoff_max = "1 hour", queue = "Mail",
               priority = 40000, timeout = "0s", unique = "yes", name = """#,
        );
        assert_eq!(errors.len(), 8, "{errors:#?}");
        assert!(errors[0].starts_with("`retries` cannot be negative"));
        assert!(errors[1].starts_with("unknown backoff \"quadratic\""));
        assert!(errors[2].contains(duration::ACCEPTED));
        assert!(errors[3].starts_with("invalid queue name \"Mail\""));
        assert!(errors[4].contains("from -32768 to 32767"));
        assert!(errors[5].contains("zero"));
        assert!(errors[6].starts_with("`unique` takes `true` or `false`"));
        assert!(errors[7].starts_with("`name` is the stable kind name"));
    }

    #[test]
    fn a_duplicate_is_reported_once_on_the_second_entry() {
        let (options, errors) = check(r#"queue = "a", queue = "b", queue = "c""#);
        assert_eq!(options.queue, "a");
        assert_eq!(errors.len(), 2);
        assert!(errors[0].starts_with("duplicate key `queue` in `#[job]`"));
    }

    #[test]
    fn delays_exclude_backoff_keys() {
        let (_, errors) = check(r#"delays = [1], backoff = "fixed", backoff_max = "1m""#);
        assert_eq!(errors.len(), 2);
        assert!(errors[0].starts_with("`backoff` cannot be combined with `delays`"));
        assert!(errors[1].starts_with("`backoff_max` cannot be combined with `delays`"));
    }

    #[test]
    fn bad_delays() {
        let (_, errors) = check("delays = []");
        assert!(errors[0].starts_with("`delays` needs at least one delay"));
        let (_, errors) = check("delays = [1, -2, x]");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].contains("cannot be negative"));
        let (_, errors) = check("delays = 60");
        assert!(errors[0].starts_with("`delays` takes a list"));
    }

    #[test]
    fn base_longer_than_max() {
        let (_, errors) = check(r#"backoff_base = "2h""#);
        assert!(
            errors[0].contains("longer than `backoff_max`"),
            "{errors:?}"
        );
        let (_, errors) = check(r#"backoff_base = "2h", backoff_max = "1d""#);
        assert!(errors.is_empty());
    }

    #[test]
    fn retries_range() {
        let (options, errors) = check("retries = 4294967295");
        assert!(errors.is_empty());
        assert_eq!(options.retries, u32::MAX);
        let (_, errors) = check("retries = 4294967296");
        assert!(errors[0].contains("too large"));
        let (_, errors) = check("retries = \"3\"");
        assert!(errors[0].starts_with("`retries` takes an integer literal: write `retries = 3`"));
    }

    #[test]
    fn flow_control_keys() {
        let (options, errors) =
            check(r#"concurrency = 3, concurrency_key = "account", rate_limit = "100/1m""#);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(options.concurrency, Some(3));
        assert_eq!(
            options.concurrency_key.map(|key| key.value()).as_deref(),
            Some("account")
        );
        assert_eq!(
            options.rate_limit,
            Some(RateLimit {
                max: 100,
                per: 60 * SECOND
            })
        );
        // each bad value is reported, together; a bad `concurrency` still
        // counts as given for `concurrency_key`
        let (_, errors) = check(r#"concurrency = 0, rate_limit = "x/1s", concurrency_key = "a""#);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].starts_with("`concurrency = 0` is out of range"));
        assert!(errors[1].starts_with("invalid `rate_limit = \"x/1s\"`"));
        let (_, errors) = check(r#"concurrency_key = "a""#);
        assert!(
            errors[0].contains("needs `concurrency` next to it"),
            "{errors:?}"
        );
    }

    #[test]
    fn queue_names() {
        assert!(is_valid_queue_name("a"));
        assert!(is_valid_queue_name(&"a".repeat(64)));
        assert!(!is_valid_queue_name(&"a".repeat(65)));
        assert!(!is_valid_queue_name("with space"));
        assert!(!is_valid_queue_name("ümlaut"));
    }
}
