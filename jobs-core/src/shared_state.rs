//! Shared application state, as a job receives it: the `State<T>`
//! parameter. (Not to be confused with a job's [`JobState`](crate::JobState),
//! the place in its life cycle, nor the worker's map of all such values.)

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Shared application state, injected into any job parameter of type
/// `State<T>`. Give it to the worker with `Worker::builder(..).state(value)`.
///
/// `State<T>` derefs to `T` and clones cheaply (it holds an `Arc<T>`). It
/// has no public field, so nothing shadows `T`'s own: with a newtype
/// `struct Db(Pool)`, `db.0` on a `State<Db>` is the pool.
///
/// ```
/// use jobs_core::State;
/// struct App { name: &'static str }
/// struct Db(Vec<&'static str>);
///
/// let state = State::new(App { name: "shop" });
/// assert_eq!(state.name, "shop");
/// let db = State::new(Db(vec!["users"]));
/// assert_eq!(db.0.len(), 1);
/// ```
pub struct State<T: ?Sized> {
    shared: Arc<T>,
}

impl<T> State<T> {
    /// Wraps a value (handy to call a job function directly in a unit test).
    pub fn new(value: T) -> Self {
        State {
            shared: Arc::new(value),
        }
    }
}

impl<T: ?Sized> State<T> {
    /// The shared handle.
    pub fn arc(&self) -> &Arc<T> {
        &self.shared
    }
}

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        State {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.shared
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.shared).finish()
    }
}

impl<T: ?Sized> From<Arc<T>> for State<T> {
    fn from(shared: Arc<T>) -> Self {
        State { shared }
    }
}
