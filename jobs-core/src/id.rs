//! Job and batch identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Defines a newtype over a backend's `i64` id, with `new`, `get`,
/// `Display`, `FromStr` and `From<_> for i64`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw id, as stored by a backend.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_type!(
/// The identifier a backend gives a stored job.
///
/// Ids are positive and grow with insertion order within one backend, so they
/// double as a stable tie-breaker when ordering jobs.
///
/// ```
/// use jobs_core::JobId;
/// let id: JobId = "42".parse().unwrap();
/// assert_eq!(id.get(), 42);
/// assert_eq!(id.to_string(), "42");
/// ```
    JobId
);

id_type!(
/// The identifier of a batch of jobs ([`Batch`](crate::Batch)), given by
/// the backend that stored it.
///
/// ```
/// use jobs_core::BatchId;
/// let id: BatchId = "7".parse().unwrap();
/// assert_eq!(id.get(), 7);
/// assert_eq!(id.to_string(), "7");
/// ```
    BatchId
);
