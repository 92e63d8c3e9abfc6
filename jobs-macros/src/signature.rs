//! The job function's signature: which parameters are injected, which are
//! stored arguments, and what it returns. Every shape the generated code
//! cannot handle is reported here, on the offending token.

use proc_macro2::Ident;
use quote::ToTokens;
use syn::{
    FnArg, GenericArgument, GenericParam, ItemFn, Pat, PathArguments, ReturnType, Type, TypePath,
};

use crate::ctxt::Ctxt;

/// What the worker passes for a parameter.
pub(crate) enum ParamKind {
    /// `State<T>`: the worker's shared state of type `T`.
    State(Box<Type>),
    /// `JobContext`: this run's context.
    Context,
    /// A stored argument.
    Argument,
}

/// One parameter of the job function.
pub(crate) struct Param {
    /// The name (without `mut`), also the argument's key in the JSON.
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

/// A job function that the generated code can call.
pub(crate) struct Signature {
    pub(crate) params: Vec<Param>,
    /// The return type as written; `None` for no return type.
    pub(crate) output: Option<Type>,
}

impl Signature {
    pub(crate) fn arguments(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Argument))
    }
}

/// Which attribute is checking, for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Job,
    Recurring,
}

impl Flavor {
    fn noun(self) -> &'static str {
        match self {
            Flavor::Job => "job",
            Flavor::Recurring => "recurring job",
        }
    }
}

struct Check<'a> {
    cx: &'a Ctxt,
    name: String,
    noun: &'static str,
    fine: bool,
}

impl Check<'_> {
    fn error<T: ToTokens>(&mut self, tokens: T, message: String) {
        self.fine = false;
        self.cx.error_spanned_by(tokens, message);
    }
}

/// Checks `item`'s signature; `None` if it cannot be a job (the errors are
/// in `cx`).
pub(crate) fn check(cx: &Ctxt, item: &ItemFn, flavor: Flavor) -> Option<Signature> {
    let sig = &item.sig;
    let mut check = Check {
        cx,
        name: sig.ident.to_string(),
        noun: flavor.noun(),
        fine: true,
    };
    check_header(&mut check, item);
    let mut params = Vec::new();
    for input in &sig.inputs {
        if let Some(param) = check_param(&mut check, input, flavor) {
            params.push(param);
        }
    }
    if let Some(variadic) = &sig.variadic {
        let message = format!(
            "{} `{}` cannot be variadic: remove `...`",
            check.noun, check.name
        );
        check.error(variadic, message);
    }
    let output = check_output(&mut check, &sig.output);
    check.fine.then_some(Signature { params, output })
}

fn check_header(check: &mut Check<'_>, item: &ItemFn) {
    let sig = &item.sig;
    let (noun, name) = (check.noun, check.name.clone());
    if let Some(constness) = &sig.constness {
        check.error(
            constness,
            format!("{noun} `{name}` cannot be a `const fn`: remove `const`"),
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        check.error(
            unsafety,
            format!("{noun} `{name}` cannot be `unsafe`: the worker has no way to uphold its safety contract; make it safe and use `unsafe` blocks inside"),
        );
    }
    if let Some(abi) = &sig.abi {
        check.error(
            abi,
            format!("{noun} `{name}` cannot have an `extern` ABI: remove it"),
        );
    }
    if sig.asyncness.is_none() {
        check.error(
            sig.fn_token,
            format!("{noun} `{name}` must be an `async fn`: write `async fn {name}(..)`"),
        );
    }
    for param in &sig.generics.params {
        let message = match param {
            GenericParam::Type(ty) => format!(
                "{noun} `{name}` cannot be generic: the worker decodes stored arguments into one concrete type; replace `{}` with a concrete type",
                ty.ident
            ),
            GenericParam::Lifetime(lt) => format!(
                "{noun} `{name}` cannot have lifetime parameters: job arguments are stored as JSON, so they are owned values; remove `{}`",
                lt.lifetime
            ),
            GenericParam::Const(c) => format!(
                "{noun} `{name}` cannot have const parameters: the worker must know every value; make `{}` an argument or a constant",
                c.ident
            ),
        };
        check.error(param, message);
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        check.error(
            where_clause,
            format!("{noun} `{name}` cannot have a `where` clause: a job is not generic"),
        );
    }
}

fn check_param(check: &mut Check<'_>, input: &FnArg, flavor: Flavor) -> Option<Param> {
    let (noun, name) = (check.noun, check.name.clone());
    let typed = match input {
        FnArg::Receiver(receiver) => {
            check.error(
                receiver,
                format!("{noun} `{name}` cannot take `self`: a job is a free function, not a method; move it out of the `impl` and pass what it needs as arguments or `State<T>`"),
            );
            return None;
        }
        FnArg::Typed(typed) => typed,
    };
    let ident = match &*typed.pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
        other => {
            check.error(
                other,
                format!("each parameter of {noun} `{name}` needs a plain name such as `user_id: i64`: the name is the argument's key in the stored JSON"),
            );
            return None;
        }
    };
    let ty = (*typed.ty).clone();
    let kind = classify(check, &ty)?;
    if !matches!(kind, ParamKind::Argument) {
        return Some(Param { ident, ty, kind });
    }
    if flavor == Flavor::Recurring {
        check.error(
            typed,
            format!("recurring job `{name}` cannot take arguments: each tick enqueues it with none; keep only `State<T>` and `JobContext` parameters and move `{ident}` into the body or into a `State<T>`"),
        );
        return None;
    }
    if let Some((tokens, message)) = storable(&ty) {
        check.error(
            tokens,
            format!("{message} (parameter `{ident}` of job `{name}`)"),
        );
        return None;
    }
    Some(Param { ident, ty, kind })
}

/// The last segment of a plain path type (`a::b::State<T>` → `State<T>`).
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(TypePath { qself: None, path }) => path.segments.last(),
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

fn classify(check: &mut Check<'_>, ty: &Type) -> Option<ParamKind> {
    if let Type::Reference(reference) = ty
        && let Some(segment) = last_segment(&reference.elem)
    {
        let injected = match segment.ident.to_string().as_str() {
            "State" => Some(
                "`State<T>` is given by value: drop the `&` (a `State` is cheap to clone)"
                    .to_owned(),
            ),
            "JobContext" => {
                Some("`JobContext` is given by value: write `ctx: JobContext`".to_owned())
            }
            _ => None,
        };
        if let Some(message) = injected {
            check.error(ty, message);
            return None;
        }
    }
    let Some(segment) = last_segment(ty) else {
        return Some(ParamKind::Argument);
    };
    if segment.ident == "JobContext" && segment.arguments.is_none() {
        return Some(ParamKind::Context);
    }
    if segment.ident != "State" {
        return Some(ParamKind::Argument);
    }
    if let PathArguments::AngleBracketed(args) = &segment.arguments
        && args.args.len() == 1
        && let Some(GenericArgument::Type(inner)) = args.args.first()
    {
        return Some(ParamKind::State(Box::new(inner.clone())));
    }
    check.error(
        ty,
        "`State` takes the type of the shared state, which the worker was given with `.state(value)`: write `State<App>`".to_owned(),
    );
    None
}

/// Why `ty` cannot be stored as JSON, spanned on the part that cannot.
fn storable(ty: &Type) -> Option<(proc_macro2::TokenStream, String)> {
    match ty {
        Type::Reference(reference) => {
            let owned = match &*reference.elem {
                Type::Path(path) if path.path.is_ident("str") => "String".to_owned(),
                Type::Slice(slice) => format!("Vec<{}>", pretty(&slice.elem)),
                other => pretty(other),
            };
            Some((
                reference.to_token_stream(),
                format!(
                    "job arguments are stored as JSON: pass an owned value such as an id, not a reference; write `{owned}` instead of `{}`",
                    pretty(reference)
                ),
            ))
        }
        Type::ImplTrait(impl_trait) => Some((
            impl_trait.to_token_stream(),
            "job arguments are stored as JSON and decoded into one concrete type: replace `impl Trait` with a concrete type such as `String`".to_owned(),
        )),
        Type::Array(array) => storable(&array.elem),
        Type::Group(group) => storable(&group.elem),
        Type::Paren(paren) => storable(&paren.elem),
        Type::Slice(slice) => storable(&slice.elem),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(storable),
        Type::Path(path) => {
            if let Some(qself) = &path.qself
                && let Some(found) = storable(&qself.ty) {
                    return Some(found);
                }
            path.path.segments.iter().find_map(|segment| match &segment.arguments {
                PathArguments::AngleBracketed(args) => args.args.iter().find_map(storable_arg),
                PathArguments::Parenthesized(args) => args.inputs.iter().find_map(storable),
                PathArguments::None => None,
            })
        }
        Type::TraitObject(object) => object.bounds.iter().find_map(|bound| match bound {
            syn::TypeParamBound::Lifetime(lifetime) => lifetime_error(lifetime),
            _ => None,
        }),
        _ => None,
    }
}

fn storable_arg(arg: &GenericArgument) -> Option<(proc_macro2::TokenStream, String)> {
    match arg {
        GenericArgument::Lifetime(lifetime) => lifetime_error(lifetime),
        GenericArgument::Type(ty) => storable(ty),
        GenericArgument::AssocType(assoc) => storable(&assoc.ty),
        _ => None,
    }
}

fn lifetime_error(lifetime: &syn::Lifetime) -> Option<(proc_macro2::TokenStream, String)> {
    (lifetime.ident != "static").then(|| {
        (
            lifetime.to_token_stream(),
            format!("job arguments are stored as JSON and decoded into owned values, which borrow nothing: remove `{lifetime}` and use an owned type such as `String`"),
        )
    })
}

/// A type as a user writes it (`Vec<Option<i64>>`), not as tokens print
/// (`Vec < Option < i64 > >`).
pub(crate) fn pretty<T: ToTokens>(tokens: T) -> String {
    let text = tokens.to_token_stream().to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let glue = c == ' '
            && (matches!(next, Some('<' | '>' | ',' | ';' | ':' | ')' | ']'))
                || matches!(out.chars().last(), Some('<' | ':' | '(' | '[' | '&')));
        if !glue {
            out.push(c);
        }
    }
    out
}

/// The return type as written. Whether it is one a job may return (`()`,
/// `Result<(), E: Display + Send + 'static>`, or an alias of either) is
/// for the type checker: the generated code asks for `JobOutput` on these
/// tokens, so its error lands here. Only `impl Trait`, which cannot be
/// named in that check, is refused here.
fn check_output(check: &mut Check<'_>, output: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    if let Some(opaque) = find_impl_trait(ty) {
        let message = format!(
            "{} `{}` cannot return `impl Trait`: the worker converts the outcome by its type; write `()` or `Result<(), E>` with a concrete `E`, such as `anyhow::Result<()>`",
            check.noun, check.name
        );
        check.error(opaque, message);
        return None;
    }
    Some((**ty).clone())
}

/// The first `impl Trait` inside `ty`.
fn find_impl_trait(ty: &Type) -> Option<&syn::TypeImplTrait> {
    match ty {
        Type::ImplTrait(opaque) => Some(opaque),
        Type::Array(array) => find_impl_trait(&array.elem),
        Type::Group(group) => find_impl_trait(&group.elem),
        Type::Paren(paren) => find_impl_trait(&paren.elem),
        Type::Ptr(ptr) => find_impl_trait(&ptr.elem),
        Type::Reference(reference) => find_impl_trait(&reference.elem),
        Type::Slice(slice) => find_impl_trait(&slice.elem),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(find_impl_trait),
        Type::Path(path) => path
            .qself
            .as_ref()
            .and_then(|qself| find_impl_trait(&qself.ty))
            .or_else(|| {
                path.path
                    .segments
                    .iter()
                    .find_map(|segment| match &segment.arguments {
                        PathArguments::AngleBracketed(args) => {
                            args.args.iter().find_map(|arg| match arg {
                                GenericArgument::Type(ty) => find_impl_trait(ty),
                                GenericArgument::AssocType(assoc) => find_impl_trait(&assoc.ty),
                                _ => None,
                            })
                        }
                        PathArguments::Parenthesized(args) => {
                            args.inputs.iter().find_map(find_impl_trait)
                        }
                        PathArguments::None => None,
                    })
            }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(item: &str, flavor: Flavor) -> Vec<String> {
        let item: ItemFn = syn::parse_str(item).expect("an fn");
        let cx = Ctxt::new();
        let sig = check(&cx, &item, flavor);
        match cx.check() {
            Ok(()) => {
                assert!(sig.is_some());
                Vec::new()
            }
            Err(error) => {
                assert!(sig.is_none());
                error.into_iter().map(|e| e.to_string()).collect()
            }
        }
    }

    #[test]
    fn injected_and_stored_parameters_are_told_apart() {
        let item: ItemFn = syn::parse_str(
            "async fn f(app: jobs_core::State<App>, mut id: i64, ctx: JobContext, tags: Vec<String>) -> anyhow::Result<()> {}",
        )
        .expect("an fn");
        let cx = Ctxt::new();
        let sig = check(&cx, &item, Flavor::Job).expect("valid");
        cx.check().expect("no errors");
        let kinds: Vec<_> = sig
            .params
            .iter()
            .map(|p| match &p.kind {
                ParamKind::State(inner) => format!("state {}", inner.to_token_stream()),
                ParamKind::Context => "context".to_owned(),
                ParamKind::Argument => format!("argument {}", p.ident),
            })
            .collect();
        assert_eq!(
            kinds,
            ["state App", "argument id", "context", "argument tags"]
        );
        assert_eq!(sig.arguments().count(), 2);
    }

    #[test]
    fn return_types_are_left_to_the_type_checker() {
        // aliases and anything else the type checker can judge pass here;
        // the generated `JobOutput` check reports a wrong one
        for ok in [
            "async fn f() {}",
            "async fn f() -> () {}",
            "async fn f() -> Result<(), JobError> {}",
            "async fn f() -> std::io::Result<()> {}",
            "async fn f() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {}",
            "async fn f() -> JobResult {}",
            "async fn f() -> AppResult<()> {}",
            "async fn f() -> String {}",
        ] {
            assert!(errors(ok, Flavor::Job).is_empty(), "{ok}");
        }
        for opaque in [
            "async fn f() -> impl std::fmt::Debug {}",
            "async fn f() -> Result<(), impl std::fmt::Display> {}",
        ] {
            let bad = errors(opaque, Flavor::Job);
            assert_eq!(bad.len(), 1, "{bad:?}");
            assert!(bad[0].contains("cannot return `impl Trait`"), "{bad:?}");
        }
    }

    #[test]
    fn shapes_that_cannot_be_stored() {
        let cases = [
            (
                "async fn f(name: &str) {}",
                "not a reference; write `String`",
            ),
            ("async fn f(ids: &[i64]) {}", "write `Vec<i64>`"),
            (
                "async fn f(x: Option<&User>) {}",
                "not a reference; write `User`",
            ),
            ("async fn f(x: impl Display) {}", "replace `impl Trait`"),
            ("async fn f(x: Cow<'_, str>) {}", "remove `'_`"),
            ("async fn f((a, b): (i32, i32)) {}", "plain name"),
            ("async fn f(_: i32) {}", "plain name"),
            (
                "async fn f(ctx: &JobContext) {}",
                "`JobContext` is given by value",
            ),
            (
                "async fn f(app: &State<App>) {}",
                "`State<T>` is given by value",
            ),
            ("async fn f(app: State) {}", "write `State<App>`"),
        ];
        for (item, expected) in cases {
            let found = errors(item, Flavor::Job);
            assert_eq!(found.len(), 1, "{item}: {found:?}");
            assert!(found[0].contains(expected), "{item}: {found:?}");
        }
        assert!(errors("async fn f(x: Cow<'static, str>) {}", Flavor::Job).is_empty());
    }

    #[test]
    fn header_errors() {
        let found = errors("fn f<T, 'a>(&self) where T: Copy {}", Flavor::Job);
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(found[0].contains("must be an `async fn`"));
        assert!(found[1].contains("cannot be generic"));
        assert!(found[2].contains("lifetime parameters"));
        assert!(found[3].contains("`where` clause"));
        assert!(found[4].contains("cannot take `self`"));
    }

    #[test]
    fn types_print_as_written() {
        let ty: Type =
            syn::parse_str("Vec<Option<std::collections::HashMap<String, (i64, [u8; 4])>>>")
                .expect("a type");
        assert_eq!(
            pretty(&ty),
            "Vec<Option<std::collections::HashMap<String, (i64, [u8; 4])>>>"
        );
        let ty: Type = syn::parse_str("&'a mut str").expect("a type");
        assert_eq!(pretty(&ty), "&'a mut str");
    }

    #[test]
    fn recurring_jobs_take_no_arguments() {
        assert!(
            errors(
                "async fn f(app: State<App>, ctx: JobContext) {}",
                Flavor::Recurring
            )
            .is_empty()
        );
        let found = errors("async fn f(day: u32) {}", Flavor::Recurring);
        assert!(found[0].starts_with("recurring job `f` cannot take arguments"));
    }
}
