//! The syntax of `#[recurring(..)]`: the same `key = value` list and
//! function as `#[job]`.

use proc_macro2::TokenStream;

use crate::job::{self, Input};

pub(crate) fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Input> {
    job::parse("recurring", args, item)
}
