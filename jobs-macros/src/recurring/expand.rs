//! What `#[recurring]` generates: everything `#[job]` does, plus `ID`,
//! `trigger`, the hidden `recurring_definition` and its registration.

use proc_macro2::TokenStream;
use quote::quote;

use crate::job::{self, Input};

use super::validate::Checked;

pub(crate) fn expand(
    item: TokenStream,
    input: &Input,
    checked: Checked,
    errors: syn::Result<()>,
) -> TokenStream {
    let (Some(signature), Some(recurring)) = (checked.signature, checked.recurring) else {
        return match errors {
            Err(error) => job::fallback(item, error),
            Ok(()) => item,
        };
    };
    let generated = job::expand::job(&job::expand::Model {
        item: &input.item,
        options: &checked.options,
        signature: &signature,
        recurring: Some(recurring),
    });
    let errors = errors.err().map(|error| error.to_compile_error());
    quote! {
        #item
        #generated
        #errors
    }
}
