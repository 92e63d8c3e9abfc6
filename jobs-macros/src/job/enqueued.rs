//! `NAME::enqueued(&client)`, for tests: the typed arguments of the job's
//! waiting jobs, decoded as the runner decodes them.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use crate::job::expand::Model;

/// `enqueued`: a `Vec` of the argument tuple, of the single argument's
/// type for one argument, of `()` for none.
pub(crate) fn enqueued_fn(model: &Model<'_>, ident: &Ident) -> TokenStream {
    let arguments: Vec<_> = model.signature.arguments().collect();
    let names: Vec<&Ident> = arguments.iter().map(|p| &p.ident).collect();
    let types: Vec<&syn::Type> = arguments.iter().map(|p| &p.ty).collect();
    let item = match types.as_slice() {
        [ty] => quote!(#ty),
        types => quote!((#(#types,)*)),
    };
    let value = match names.as_slice() {
        [name] => quote!(#name),
        names => quote!((#(#names,)*)),
    };
    // the same generic struct as the runner's, so a type that is not an
    // argument fails only in the `ArgumentCheck` of `with`
    let generics: Vec<Ident> = (0..names.len())
        .map(|i| format_ident!("__JobArg{}", i))
        .collect();
    let decode = if names.is_empty() {
        // the runner ignores what a job without arguments stores
        quote!(|_: &str| ::core::result::Result::Ok(()))
    } else {
        quote! {
            |__stored: &str| {
                #[allow(unused_imports)]
                use ::jobs_core::__private::{Decode as _, DecodeUnchecked as _};
                #[derive(::jobs_core::__private::serde::Deserialize)]
                #[serde(crate = "::jobs_core::__private::serde")]
                struct __JobArgs<#(#generics),*> {
                    #(#names: #generics,)*
                }
                let __JobArgs { #(#names,)* } =
                    (&::jobs_core::__private::DecodeProbe::<__JobArgs<#(#types),*>>::new())
                        .decode(#ident::NAME, __stored)?;
                ::core::result::Result::Ok(#value)
            }
        }
    };
    let doc = format!(
        "The arguments of every stored `{}` job not yet started or finished (`Awaiting`, `Scheduled` or `Available`), in enqueue order: for tests.",
        ident.unraw()
    );
    quote! {
        #[doc = #doc]
        pub async fn enqueued(
            client: &::jobs_core::__private::Client,
        ) -> ::core::result::Result<::jobs_core::__private::Vec<#item>, ::jobs_core::__private::Error> {
            ::jobs_core::__private::enqueued(client, #ident::NAME, #decode).await
        }
    }
}
