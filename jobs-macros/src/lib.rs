//! The `#[job]` and `#[recurring]` attributes of `jobs-core`. Use them
//! through `jobs_core::{job, recurring}`.
//!
//! Each attribute runs the same pipeline: `parse` (syntax only),
//! `validate` (every key and the signature, all errors collected), then
//! `expand`. On an error the function is still emitted as written, so the
//! rest of the crate and the IDE keep working.

mod attr;
mod cron;
mod ctxt;
mod duration;
mod flow;
mod job;
mod keys;
mod options;
mod recurring;
mod signature;

use proc_macro::TokenStream;

/// Turns an `async fn` into a background job.
///
/// ```rust,standalone_crate
/// use jobs_core::{job, Client, State};
/// use jobs_memory::MemoryBackend;
/// # #[derive(Clone)]
/// # struct Mailer;
/// # impl Mailer {
/// #     async fn send(&self, _user_id: i64, _template: &str) -> anyhow::Result<()> { Ok(()) }
/// # }
///
/// #[derive(Clone)]
/// struct App { mailer: Mailer }
///
/// #[job(retries = 3, backoff = "exponential", queue = "critical")]
/// async fn send_welcome_email(app: State<App>, user_id: i64, template: String) -> anyhow::Result<()> {
///     app.mailer.send(user_id, &template).await
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// # let client = Client::new(MemoryBackend::new());
/// let id = send_welcome_email::enqueue(&client, 42, "welcome".into()).await?;
/// # let stored = client.job(id).await?.map(|job| (job.kind, job.queue));
/// # assert_eq!(stored, Some(("send_welcome_email".to_owned(), "critical".to_owned())));
/// // the function stays callable as written, as a unit test calls it
/// send_welcome_email(State::new(App { mailer: Mailer }), 42, "welcome".into()).await?;
/// # Ok(()) }
/// ```
///
/// Parameters of type `State<T>` and `JobContext` are injected by the
/// worker; every other parameter is an argument, stored as JSON, so it must
/// be `Serialize + DeserializeOwned + Send + 'static`. The function returns
/// `()` or `Result<(), E>` with `E: Display + Send + 'static`, or an alias
/// of either such as `anyhow::Result<()>` (a `JobError` keeps its meaning;
/// any other error is stored with its causes), and stays callable as
/// written.
///
/// # Keys
///
/// All optional, all checked at compile time.
///
/// | key | value | default |
/// |---|---|---|
/// | `retries` | integer ≥ 0: retries after the first attempt | `3` |
/// | `backoff` | `"exponential"`, `"linear"`, `"fixed"`, `"none"` | `"exponential"` |
/// | `backoff_base` | duration | `"1s"` |
/// | `backoff_max` | duration | `"1h"` |
/// | `delays` | `[60, 120, 300]`: seconds before each retry, the last repeats; not with `backoff*` | none |
/// | `queue` | `[a-z0-9_-]{1,64}` | `"default"` |
/// | `priority` | `i16`, lower runs first | `0` |
/// | `timeout` | duration | none |
/// | `unique` | `true`: enqueueing an equal unfinished job returns its id | `false` |
/// | `name` | the stable kind name | the function's name |
/// | `version` | integer ≥ 1: the version of the arguments, stored with each job | `1` |
/// | `upgrade` | path of a `fn(u32, serde_json::Value) -> Result<serde_json::Value, E>`, `E: Display`; only with `version` ≥ 2 | none |
///
/// Durations are a number and a unit (`ms`, `s`, `m`, `h`, `d`), or
/// several from large to small: `"500ms"`, `"30s"`, `"1h30m"`.
///
/// # Generated
///
/// Next to the function, a type of the same name (so the function itself
/// is untouched) with:
///
/// - `NAME`: the kind name;
/// - `with(args..) -> JobBuilder`: set `.delay(..)`, `.at(..)`,
///   `.priority(..)`, `.queue(..)`, `.unique_key(..)`, then `.enqueue(&client)`;
/// - `enqueue(&client, args..)`, `try_enqueue(&client, args..)` and
///   `schedule(&client, when, args..)` with `when` a `Duration` or a
///   `DateTime<Utc>`.
///
/// The arguments of these functions are the job's arguments in declared
/// order with their declared types. The job is registered with every
/// worker in the binary.
///
/// # Changing the arguments
///
/// Each stored job records the `version` its kind had at enqueue. A worker
/// never claims a job of a newer version than it has (one enqueued by a
/// newer build during a rolling deploy): that job stays `Available` for a
/// worker that knows it, and older jobs of the kind behind it still run. A
/// stored job of an older version goes through `upgrade` before its
/// arguments are decoded: `upgrade` is called once, with the stored version
/// and the stored arguments, and returns the arguments of the current
/// version (so it handles every older version itself, as in
/// `if from < 2 { .. } if from < 3 { .. }`). Its error is a permanent
/// failure: the job is `Dead` with the message, and `client.retry(id)`
/// runs it again after a fix is deployed. Without `upgrade`, older jobs
/// decode as stored.
///
/// A new argument of type `Option<T>` needs no new version: a stored job
/// that lacks it decodes it as `None`.
///
/// ```rust,standalone_crate
/// use jobs_core::job;
///
/// #[job(version = 2, upgrade = upgrade_send_email)]
/// async fn send_email(user_id: i64, template: String, locale: String) -> anyhow::Result<()> {
/// #   let _ = (user_id, template, locale);
///     Ok(())
/// }
///
/// fn upgrade_send_email(from: u32, mut args: serde_json::Value) -> Result<serde_json::Value, String> {
///     if from < 2 {
///         args["locale"] = "en".into();
///     }
///     Ok(args)
/// }
/// ```
#[proc_macro_attribute]
pub fn job(args: TokenStream, item: TokenStream) -> TokenStream {
    job::expand(args.into(), item.into()).into()
}

/// Turns an `async fn` into a job that runs on a cron schedule.
///
/// ```rust,standalone_crate
/// use jobs_core::{recurring, Client, State};
/// use jobs_memory::MemoryBackend;
/// # #[derive(Clone)]
/// # struct Reports;
/// # impl Reports {
/// #     async fn build(&self) -> anyhow::Result<()> { Ok(()) }
/// # }
/// # #[derive(Clone)]
/// # struct App { reports: Reports }
///
/// #[recurring(cron = "0 0 2 * * *", id = "nightly-report", tz = "Europe/Berlin")]
/// async fn nightly_report(app: State<App>) -> anyhow::Result<()> {
///     app.reports.build().await
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// # let client = Client::new(MemoryBackend::new());
/// nightly_report::trigger(&client).await?; // one run now
/// assert_eq!(nightly_report::ID, "nightly-report");
/// # Ok(()) }
/// ```
///
/// # Keys
///
/// | key | value | default |
/// |---|---|---|
/// | `cron` | six fields with seconds (`sec min hour day-of-month month day-of-week`), optionally a seventh (year) | required |
/// | `id` | the stable schedule id | required |
/// | `tz` | an IANA zone name | `"UTC"` |
/// | `misfire` | ticks missed while no worker ran: `"once"` (one catch-up run), `"skip"`, `"all"` | `"once"` |
///
/// plus every `#[job]` key except `unique`, `name`, `version` and
/// `upgrade` (a recurring job has no arguments to version). The expression and
/// the zone are checked at compile time, including that the expression
/// ever fires.
///
/// The function takes no arguments, only `State<T>` and `JobContext`
/// parameters. It gets everything `#[job]` generates, plus `ID` and
/// `trigger(&client)`.
#[proc_macro_attribute]
pub fn recurring(args: TokenStream, item: TokenStream) -> TokenStream {
    recurring::expand(args.into(), item.into()).into()
}
