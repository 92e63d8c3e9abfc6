//! The `#[job]` and `#[recurring]` attributes of `jobs-core`. Use them
//! through `jobs_core::{job, recurring}`; the keys are documented there.
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

/// Turns an `async fn` into a background job. See `jobs_core` for the keys.
#[proc_macro_attribute]
pub fn job(args: TokenStream, item: TokenStream) -> TokenStream {
    job::expand(args.into(), item.into()).into()
}

/// Turns an `async fn` into a recurring job on a cron schedule. See
/// `jobs_core` for the keys.
#[proc_macro_attribute]
pub fn recurring(args: TokenStream, item: TokenStream) -> TokenStream {
    recurring::expand(args.into(), item.into()).into()
}
