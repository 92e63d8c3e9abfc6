//! A panicking run, caught with where it panicked.
//!
//! The payload of a panic has its message but not its location; only the
//! panic hook sees that. So a hook, installed once and chained to the hook
//! it replaces (which still prints the panic as before), records the
//! location in a thread-local, but only while a job's run is being polled
//! on that thread: the run is polled inside `catch_unwind` on the thread
//! that panics, so the location is read back right after the unwind.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

thread_local! {
    /// Whether a job's run is being polled on this thread.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// `file:line:column` of the last panic while capturing.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A caught panic: its message and, when the hook saw it, its location.
pub(crate) struct Panic {
    message: String,
    location: Option<String>,
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "panicked at {location}: {}", self.message),
            None => write!(f, "panicked: {}", self.message),
        }
    }
}

/// `future`, with a panic while polling it caught and returned as a [`Panic`].
pub(crate) fn catch_panic<F: Future + Unpin>(future: F) -> CatchPanic<F> {
    install_hook();
    CatchPanic { future }
}

/// The future [`catch_panic`] returns.
pub(crate) struct CatchPanic<F> {
    future: F,
}

impl<F: Future + Unpin> Future for CatchPanic<F> {
    type Output = Result<F::Output, Panic>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = {
            let _capturing = Capturing::start();
            panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut self.future).poll(cx)))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(Panic {
                message: message_of(payload),
                location: LOCATION.with(|slot| slot.borrow_mut().take()),
            })),
        }
    }
}

/// Capturing on this thread until dropped (also when the poll unwinds).
struct Capturing {
    was: bool,
}

impl Capturing {
    fn start() -> Self {
        LOCATION.with(|slot| slot.borrow_mut().take());
        Capturing {
            was: CAPTURING.with(|capturing| capturing.replace(true)),
        }
    }
}

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURING.with(|capturing| capturing.set(self.was));
    }
}

fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // `try_with`: a panic while this thread's locals are torn down
            // must not panic again inside the hook
            if CAPTURING.try_with(Cell::get).unwrap_or(false)
                && let Some(location) = info.location()
            {
                let _ = LOCATION.try_with(|slot| {
                    if let Ok(mut slot) = slot.try_borrow_mut() {
                        *slot = Some(location.to_string());
                    }
                });
            }
            previous(info);
        }));
    });
}

pub(crate) fn message_of(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(message) => (*message).to_owned(),
            Err(_) => "a value that is not a string".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::future::ready;

    use super::*;

    fn poll_once<F: Future + Unpin>(mut future: F) -> Poll<F::Output> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        Pin::new(&mut future).poll(&mut cx)
    }

    #[test]
    fn a_panic_is_caught_with_its_location() {
        let line = line!() + 2;
        let future = catch_panic(Box::pin(async {
            panic!("kaboom {}", 7);
        }));
        let Poll::Ready(Err(caught)) = poll_once(future) else {
            panic!("the panic is caught");
        };
        assert_eq!(
            caught.to_string(),
            format!("panicked at {}:{line}:13: kaboom 7", file!())
        );
        assert!(!CAPTURING.with(Cell::get), "capturing ends with the poll");
    }

    #[test]
    fn outputs_pass_through_and_other_panics_are_not_recorded() {
        assert!(matches!(
            poll_once(catch_panic(ready(5))),
            Poll::Ready(Ok(5))
        ));
        // a panic outside a job's run leaves nothing behind
        install_hook();
        assert!(panic::catch_unwind(|| panic!("not a job")).is_err());
        assert!(LOCATION.with(|slot| slot.borrow().is_none()));
        let caught = Panic {
            message: "no hook".to_owned(),
            location: None,
        };
        assert_eq!(caught.to_string(), "panicked: no hook");
    }
}
