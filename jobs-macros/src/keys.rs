//! The keys of `#[job(..)]` and `#[recurring(..)]`, and the syntax both
//! share: a comma-separated list of `key = value`.

use proc_macro2::Ident;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Token};

macro_rules! keys {
    ($($variant:ident => $kw:ident,)*) => {
        mod kw {
            $(syn::custom_keyword!($kw);)*
        }

        /// Every key either attribute knows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Key {
            $($variant,)*
        }

        impl Key {
            /// The key as written.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Key::$variant => stringify!($kw),)*
                }
            }

            fn peek(input: ParseStream<'_>) -> Option<Key> {
                $(if input.peek(kw::$kw) {
                    return Some(Key::$variant);
                })*
                None
            }
        }
    };
}

keys! {
    Retries => retries,
    Backoff => backoff,
    BackoffBase => backoff_base,
    BackoffMax => backoff_max,
    Delays => delays,
    Queue => queue,
    Priority => priority,
    Timeout => timeout,
    Unique => unique,
    Name => name,
    Version => version,
    Upgrade => upgrade,
    Concurrency => concurrency,
    ConcurrencyArgument => concurrency_key,
    RateLimit => rate_limit,
    Cron => cron,
    Id => id,
    Tz => tz,
    Misfire => misfire,
}

/// The keys of `#[job]`, in the order the docs list them.
pub(crate) const JOB_KEYS: &[Key] = &[
    Key::Retries,
    Key::Backoff,
    Key::BackoffBase,
    Key::BackoffMax,
    Key::Delays,
    Key::Queue,
    Key::Priority,
    Key::Timeout,
    Key::Unique,
    Key::Name,
    Key::Version,
    Key::Upgrade,
    Key::Concurrency,
    Key::ConcurrencyArgument,
    Key::RateLimit,
];

/// The keys of `#[recurring]`: its own, then the `#[job]` keys that apply.
pub(crate) const RECURRING_KEYS: &[Key] = &[
    Key::Cron,
    Key::Id,
    Key::Tz,
    Key::Misfire,
    Key::Retries,
    Key::Backoff,
    Key::BackoffBase,
    Key::BackoffMax,
    Key::Delays,
    Key::Queue,
    Key::Priority,
    Key::Timeout,
    Key::Concurrency,
    Key::RateLimit,
];

impl Key {
    /// An example of the key with a valid value, for messages.
    pub(crate) fn example(self) -> &'static str {
        match self {
            Key::Retries => "retries = 3",
            Key::Backoff => "backoff = \"exponential\"",
            Key::BackoffBase => "backoff_base = \"1s\"",
            Key::BackoffMax => "backoff_max = \"1h\"",
            Key::Delays => "delays = [60, 120, 300]",
            Key::Queue => "queue = \"critical\"",
            Key::Priority => "priority = -5",
            Key::Timeout => "timeout = \"30s\"",
            Key::Unique => "unique = true",
            Key::Name => "name = \"send_welcome_email\"",
            Key::Version => "version = 2",
            Key::Upgrade => "upgrade = upgrade_send_email",
            Key::Concurrency => "concurrency = 1",
            Key::ConcurrencyArgument => "concurrency_key = \"account_id\"",
            Key::RateLimit => "rate_limit = \"100/1m\"",
            Key::Cron => "cron = \"0 0 2 * * *\"",
            Key::Id => "id = \"nightly-report\"",
            Key::Tz => "tz = \"Europe/Berlin\"",
            Key::Misfire => "misfire = \"skip\"",
        }
    }
}

/// `keys` as "`a`, `b` and `c`".
pub(crate) fn list(keys: &[Key]) -> String {
    let names: Vec<String> = keys.iter().map(|k| format!("`{}`", k.as_str())).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// One `key = value` (or a bare `key`) as written.
pub(crate) struct Entry {
    /// The key, if it is one either attribute knows.
    pub(crate) key: Option<Key>,
    /// The key as written, for spans and messages.
    pub(crate) ident: Ident,
    /// The value; `None` for a bare key such as `unique`.
    pub(crate) value: Option<Expr>,
}

impl Entry {
    /// The key and its value, for errors about the whole entry.
    pub(crate) fn tokens(&self) -> proc_macro2::TokenStream {
        let ident = &self.ident;
        match &self.value {
            Some(value) => quote::quote!(#ident = #value),
            None => quote::quote!(#ident),
        }
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = Key::peek(input);
        let ident = Ident::parse_any(input).map_err(|e| {
            syn::Error::new(e.span(), "expected a key such as `queue = \"critical\"`")
        })?;
        if input.is_empty() || input.peek(Token![,]) {
            return Ok(Entry {
                key,
                ident,
                value: None,
            });
        }
        let eq: Option<Token![=]> = input.parse()?;
        if eq.is_none() {
            return Err(input.error(format!("expected `=` after `{ident}`")));
        }
        let value: Expr = input.parse()?;
        Ok(Entry {
            key,
            ident,
            value: Some(value),
        })
    }
}

/// The whole argument list of an attribute.
pub(crate) struct Entries(pub(crate) Vec<Entry>);

impl Parse for Entries {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let list = input.parse_terminated(Entry::parse, Token![,])?;
        Ok(Entries(list.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_with_their_values() {
        let entries: Entries =
            syn::parse_str(r#"retries = 3, priority = -5, delays = [1, 2], unique, queue = "a""#)
                .expect("parses");
        let keys: Vec<_> = entries.0.iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            [
                Some(Key::Retries),
                Some(Key::Priority),
                Some(Key::Delays),
                Some(Key::Unique),
                Some(Key::Queue)
            ]
        );
        assert!(entries.0[3].value.is_none());
    }

    #[test]
    fn unknown_keys_parse_and_are_checked_later() {
        let entries: Entries = syn::parse_str(r#"retry = 3, type = "x""#).expect("parses");
        assert_eq!(entries.0[0].key, None);
        assert_eq!(entries.0[0].ident, "retry");
        assert_eq!(entries.0[1].ident, "type");
    }

    #[test]
    fn the_prefix_of_a_key_is_not_that_key() {
        let entries: Entries = syn::parse_str(r#"backoff_base = "1s""#).expect("parses");
        assert_eq!(entries.0[0].key, Some(Key::BackoffBase));
    }

    #[test]
    fn a_missing_equals_sign_is_a_syntax_error() {
        assert!(syn::parse_str::<Entries>("retries 3").is_err());
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&[Key::Cron]), "`cron`");
        assert_eq!(
            list(&[Key::Cron, Key::Id, Key::Tz]),
            "`cron`, `id` and `tz`"
        );
    }
}
