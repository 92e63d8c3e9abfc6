//! The conformance cases, one `pub async fn` each, grouped by concern.
//! [`conformance_suite!`](crate::conformance_suite) runs them all.

#![allow(missing_docs)]

mod admin;
mod bad_input;
mod batches;
mod continuations;
mod fleet;
mod flow;
mod leases;
mod operating;
mod ordering;
mod pruning;
mod recurring;
mod retries;
mod runtime_schedules;
mod shutdown;
mod steering;
mod storage;
mod versions;
mod wakeups;

pub use self::admin::*;
pub use self::bad_input::*;
pub use self::batches::*;
pub use self::continuations::*;
pub use self::fleet::*;
pub use self::flow::*;
pub use self::leases::*;
pub use self::operating::*;
pub use self::ordering::*;
pub use self::pruning::*;
pub use self::recurring::*;
pub use self::retries::*;
pub use self::runtime_schedules::*;
pub use self::shutdown::*;
pub use self::steering::*;
pub use self::storage::*;
pub use self::versions::*;
pub use self::wakeups::*;
