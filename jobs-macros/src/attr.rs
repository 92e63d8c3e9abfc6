//! Reading one attribute value: the `set` helper that reports duplicate
//! keys, and the literal readers every key shares.

use syn::{Expr, ExprLit, Lit, LitBool, LitInt, LitStr, UnOp};

use crate::ctxt::Ctxt;
use crate::keys::{Entry, Key};

/// One key's value, set at most once.
pub(crate) struct Attr<T> {
    key: Key,
    attribute: &'static str,
    value: Option<T>,
    seen: bool,
}

impl<T> Attr<T> {
    pub(crate) fn none(key: Key, attribute: &'static str) -> Self {
        Self {
            key,
            attribute,
            value: None,
            seen: false,
        }
    }

    /// Reads `entry` with `read` unless the key was already given, which is
    /// reported on the second entry. `read` reports its own errors and
    /// returns `None` after one.
    pub(crate) fn set_with(
        &mut self,
        cx: &Ctxt,
        entry: &Entry,
        read: impl FnOnce(&Ctxt, &Entry) -> Option<T>,
    ) {
        if self.seen {
            cx.error_spanned_by(
                entry.tokens(),
                format!(
                    "duplicate key `{}` in `#[{}]`: it is already set earlier in this attribute; keep one",
                    self.key.as_str(),
                    self.attribute
                ),
            );
            return;
        }
        self.seen = true;
        self.value = read(cx, entry);
    }

    /// Whether the key was written, valid or not.
    pub(crate) fn seen(&self) -> bool {
        self.seen
    }

    pub(crate) fn get(self) -> Option<T> {
        self.value
    }
}

/// The value of `entry`, or an error saying a value is needed.
pub(crate) fn value<'e>(cx: &Ctxt, entry: &'e Entry, key: Key) -> Option<&'e Expr> {
    match &entry.value {
        Some(value) => Some(value),
        None => {
            cx.error_spanned_by(
                &entry.ident,
                format!(
                    "`{}` needs a value: write `{}`",
                    key.as_str(),
                    key.example()
                ),
            );
            None
        }
    }
}

/// Looks through the invisible groups `macro_rules!` wraps around `$x:expr`
/// and through parentheses.
fn peel(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => peel(&group.expr),
        Expr::Paren(paren) => peel(&paren.expr),
        other => other,
    }
}

fn wrong_kind(cx: &Ctxt, expr: &Expr, key: Key, what: &str) {
    cx.error_spanned_by(
        expr,
        format!("`{}` takes {what}: write `{}`", key.as_str(), key.example()),
    );
}

/// A string literal.
pub(crate) fn string(cx: &Ctxt, entry: &Entry, key: Key) -> Option<LitStr> {
    let expr = value(cx, entry, key)?;
    match peel(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        other => {
            wrong_kind(cx, other, key, "a string literal");
            None
        }
    }
}

/// A `true`/`false` literal; a bare key means `true`.
pub(crate) fn boolean(cx: &Ctxt, entry: &Entry, key: Key) -> Option<bool> {
    let Some(expr) = &entry.value else {
        return Some(true);
    };
    match peel(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(LitBool { value, .. }),
            ..
        }) => Some(*value),
        other => {
            wrong_kind(cx, other, key, "`true` or `false`");
            None
        }
    }
}

/// An integer literal, possibly negated, as written (the caller checks the
/// range). Suffixes other than integer types are rejected by syn already.
pub(crate) struct Integer<'e> {
    pub(crate) value: i128,
    /// The whole expression, minus sign included, for errors.
    pub(crate) expr: &'e Expr,
}

fn integer_of(expr: &Expr) -> Result<i128, &Expr> {
    match peel(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => parse_int(lit).ok_or(expr),
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match peel(&unary.expr) {
            Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            }) => parse_int(lit).map(|v| -v).ok_or(expr),
            _ => Err(expr),
        },
        _ => Err(expr),
    }
}

fn parse_int(lit: &LitInt) -> Option<i128> {
    lit.base10_parse::<i128>().ok()
}

/// An integer literal (`3`, `-5`).
pub(crate) fn integer<'e>(cx: &Ctxt, entry: &'e Entry, key: Key) -> Option<Integer<'e>> {
    let expr = value(cx, entry, key)?;
    match integer_of(expr) {
        Ok(value) => Some(Integer { value, expr }),
        Err(other) => {
            wrong_kind(cx, other, key, "an integer literal");
            None
        }
    }
}

/// A list of integer literals (`[60, 120, 300]`); each element is checked
/// with `element`, which reports its own errors.
pub(crate) fn integer_list<T>(
    cx: &Ctxt,
    entry: &Entry,
    key: Key,
    mut element: impl FnMut(&Ctxt, Integer<'_>) -> Option<T>,
) -> Option<(Vec<T>, Expr)> {
    let expr = value(cx, entry, key)?;
    let Expr::Array(array) = peel(expr) else {
        wrong_kind(cx, expr, key, "a list of integers in brackets");
        return None;
    };
    let mut values = Vec::with_capacity(array.elems.len());
    let mut ok = true;
    for elem in &array.elems {
        match integer_of(elem) {
            Ok(value) => match element(cx, Integer { value, expr: elem }) {
                Some(v) => values.push(v),
                None => ok = false,
            },
            Err(other) => {
                wrong_kind(cx, other, key, "a list of integer literals");
                ok = false;
            }
        }
    }
    ok.then(|| (values, expr.clone()))
}
