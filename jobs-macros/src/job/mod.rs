//! `#[job(..)]`: parse → validate → expand.

mod enqueued;
pub(crate) mod expand;
mod parse;
mod validate;

pub(crate) use parse::{Input, parse};
pub(crate) use validate::unknown_key;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

/// The whole expansion of `#[job(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let input = match parse::parse("job", args, item.clone()) {
        Ok(input) => input,
        Err(error) => return fallback(item, error),
    };
    let cx = Ctxt::new();
    let job = validate::validate(&cx, &input);
    let checked = cx.check();
    let Some(signature) = job.signature else {
        return match checked {
            Err(error) => fallback(item, error),
            Ok(()) => item,
        };
    };
    let generated = expand::job(&expand::Model {
        item: &input.item,
        options: &job.options,
        signature: &signature,
        recurring: None,
    });
    // A bad key still gets the enqueue functions (with the default for that
    // key), so the only errors the user sees are the ones about the key.
    let errors = checked.err().map(|error| error.to_compile_error());
    quote! {
        #item
        #generated
        #errors
    }
}

/// The function as written plus the errors, so the rest of the crate and
/// the IDE still see the function.
pub(crate) fn fallback(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote! {
        #item
        #error
    }
}
