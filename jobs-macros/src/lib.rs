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
mod job;
mod keys;
mod options;
mod recurring;
mod signature;

use proc_macro::TokenStream;

/// Turns an `async fn` into a background job.
///
/// ```ignore
/// use jobs_core::{job, State};
///
/// #[job(retries = 3, backoff = "exponential", queue = "critical")]
/// async fn send_welcome_email(app: State<App>, user_id: i64, template: String) -> anyhow::Result<()> {
///     app.mailer.send(user_id, &template).await
/// }
///
/// let id = send_welcome_email::enqueue(&client, 42, "welcome".into()).await?;
/// ```
///
/// Parameters of type `State<T>` and `JobContext` are injected by the
/// worker; every other parameter is an argument, stored as JSON, so it must
/// be `Serialize + DeserializeOwned + Send + 'static`. The function returns
/// `()` or `Result<(), E>` with `E: Display + Send + 'static` (a `JobError`
/// keeps its meaning), and stays callable as written.
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
#[proc_macro_attribute]
pub fn job(args: TokenStream, item: TokenStream) -> TokenStream {
    job::expand(args.into(), item.into()).into()
}

/// Turns an `async fn` into a job that runs on a cron schedule.
///
/// ```ignore
/// use jobs_core::{recurring, State};
///
/// #[recurring(cron = "0 0 2 * * *", id = "nightly-report", tz = "Europe/Berlin")]
/// async fn nightly_report(app: State<App>) -> anyhow::Result<()> {
///     app.reports.build().await
/// }
///
/// nightly_report::trigger(&client).await?; // one run now
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
/// plus every `#[job]` key except `unique` and `name`. The expression and
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
