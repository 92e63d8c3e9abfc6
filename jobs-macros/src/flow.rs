//! The flow-control keys (SPEC §11): `concurrency`, `concurrency_key` and
//! `rate_limit`, read and checked. `concurrency_key` names an argument, so
//! its last check waits for the signature ([`check_concurrency_key`]).

use syn::LitStr;
use syn::ext::IdentExt;

use crate::attr::{self, Integer};
use crate::ctxt::Ctxt;
use crate::duration;
use crate::keys::{Entry, Key};
use crate::signature::Signature;

/// `rate_limit = "N/duration"`, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateLimit {
    pub(crate) max: u32,
    /// The window, in nanoseconds (never zero).
    pub(crate) per: u64,
}

pub(crate) fn read_concurrency(cx: &Ctxt, entry: &Entry) -> Option<u32> {
    let Integer { value, expr } = attr::integer(cx, entry, Key::Concurrency)?;
    match u32::try_from(value) {
        Ok(max) if max >= 1 => Some(max),
        _ => {
            cx.error_spanned_by(
                expr,
                format!(
                    "`concurrency = {value}` is out of range: it is how many runs of this kind may run at once across all workers, from 1 to {}; write `concurrency = 1` for one at a time",
                    u32::MAX
                ),
            );
            None
        }
    }
}

pub(crate) fn read_concurrency_key(cx: &Ctxt, entry: &Entry) -> Option<LitStr> {
    let lit = attr::string(cx, entry, Key::ConcurrencyArgument)?;
    if lit.value().is_empty() {
        cx.error_spanned_by(
            &lit,
            "`concurrency_key` names one of the job's arguments, such as `concurrency_key = \"account_id\"`",
        );
        return None;
    }
    Some(lit)
}

pub(crate) fn read_rate_limit(cx: &Ctxt, entry: &Entry) -> Option<RateLimit> {
    let lit = attr::string(cx, entry, Key::RateLimit)?;
    match parse_rate_limit(&lit.value()) {
        Ok(rate) => Some(rate),
        Err(reason) => {
            cx.error_spanned_by(
                &lit,
                format!("invalid `rate_limit = {:?}`: {reason}", lit.value()),
            );
            None
        }
    }
}

/// Parses `"N/duration"`; the error finishes the sentence "invalid
/// rate_limit: ...".
pub(crate) fn parse_rate_limit(text: &str) -> Result<RateLimit, String> {
    const FORM: &str =
        "write the most starts, a slash and the window, such as \"100/1m\" or \"5000/1s\"";
    let Some((count, window)) = text.split_once('/') else {
        return Err(FORM.to_owned());
    };
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{count:?} is not a count of starts: {FORM}"));
    }
    let max = match count.parse::<u32>() {
        Ok(0) => return Err(format!("a limit of 0 starts would never run a job: {FORM}")),
        Ok(max) => max,
        Err(_) => return Err(format!("the most starts is {}", u32::MAX)),
    };
    let per = match duration::parse_nanos(window) {
        Ok(0) => return Err(format!("the window cannot be zero: {FORM}")),
        Ok(per) => per,
        Err(error) => {
            return Err(format!(
                "the window {window:?} is not a duration: {}",
                error.reason()
            ));
        }
    };
    Ok(RateLimit { max, per })
}

/// Checks that `key` names one of the job's arguments (not a `State` or
/// `JobContext` parameter).
pub(crate) fn check_concurrency_key(cx: &Ctxt, key: &LitStr, signature: &Signature) {
    let wanted = key.value();
    let arguments: Vec<String> = signature
        .arguments()
        .map(|param| param.ident.unraw().to_string())
        .collect();
    if arguments.contains(&wanted) {
        return;
    }
    let listed = match arguments.as_slice() {
        [] => "this job takes no arguments, so there is nothing to key on; remove `concurrency_key` to limit the kind as a whole".to_owned(),
        [only] => format!("its only argument is `{only}`"),
        [rest @ .., last] => {
            let rest: Vec<String> = rest.iter().map(|name| format!("`{name}`")).collect();
            format!("its arguments are {} and `{last}`", rest.join(", "))
        }
    };
    cx.error_spanned_by(
        key,
        format!("`concurrency_key = {wanted:?}` names no argument of this job: {listed}"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits() {
        assert_eq!(
            parse_rate_limit("100/1m"),
            Ok(RateLimit {
                max: 100,
                per: 60_000_000_000
            })
        );
        assert_eq!(parse_rate_limit("5000/1s").map(|r| r.max), Ok(5000));
        for bad in [
            "100",
            "0/1s",
            "100/banana",
            "x/1s",
            "/1s",
            "-1/1s",
            "1/0s",
            "1/",
        ] {
            assert!(parse_rate_limit(bad).is_err(), "{bad}");
        }
    }
}
