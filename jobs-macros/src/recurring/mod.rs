//! `#[recurring(..)]`: parse → validate → expand. A recurring job is a job
//! with no arguments plus a schedule, so most of the expansion is `#[job]`'s.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::job;

/// The whole expansion of `#[recurring(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let input = match parse::parse(args, item.clone()) {
        Ok(input) => input,
        Err(error) => return job::fallback(item, error),
    };
    let cx = Ctxt::new();
    let checked = validate::validate(&cx, &input);
    let errors = cx.check();
    expand::expand(item, &input, checked, errors)
}
