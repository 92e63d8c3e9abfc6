//! The syntax of `#[job(..)]`: the key list and the function it sits on.
//! Only syntax errors stop here; every value is checked in `validate`.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

use crate::keys::{Entries, Entry};

/// An attribute and its function, as written.
pub(crate) struct Input {
    pub(crate) entries: Vec<Entry>,
    pub(crate) item: ItemFn,
}

/// Parses `#[attribute(args)] item`; the error is a syntax error in `args`,
/// or `item` not being a function.
pub(crate) fn parse(attribute: &str, args: TokenStream, item: TokenStream) -> syn::Result<Input> {
    let item = match syn::parse2::<Item>(item)? {
        Item::Fn(item) => item,
        other => {
            return Err(syn::Error::new(
                other.span(),
                format!(
                    "`#[{attribute}]` goes on an `async fn` with a body, such as `async fn send_email(user_id: i64) {{ .. }}`"
                ),
            ));
        }
    };
    let entries: Entries = syn::parse2(args)?;
    Ok(Input {
        entries: entries.0,
        item,
    })
}
