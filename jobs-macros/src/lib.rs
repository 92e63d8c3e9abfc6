//! The `#[job]` and `#[recurring]` attributes of `jobs-core`. Use them
//! through `jobs_core::{job, recurring}`.

use proc_macro::TokenStream;

/// Turns an `async fn` into a background job. See `jobs_core` for the keys.
#[proc_macro_attribute]
pub fn job(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Turns an `async fn` into a recurring job on a cron schedule.
#[proc_macro_attribute]
pub fn recurring(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
