//! Two jobs with one kind name: no worker can be built in this binary.

use jobs_core::{BuildError, Worker, job};
use jobs_memory::MemoryBackend;

#[job(name = "send_receipt")]
async fn send_receipt_v1(order_id: i64) {
    let _ = order_id;
}

#[job(name = "send_receipt")]
async fn send_receipt_v2(order_id: i64) {
    let _ = order_id;
}

#[test]
fn a_shared_kind_name_fails_naming_both_functions() {
    assert_eq!(send_receipt_v1::NAME, send_receipt_v2::NAME);
    match Worker::builder(MemoryBackend::new()).build().unwrap_err() {
        BuildError::DuplicateKind {
            kind,
            first,
            second,
        } => {
            assert_eq!(kind, "send_receipt");
            let both = [first, second];
            assert!(
                both.iter().any(|at| at.ends_with("send_receipt_v1")),
                "{both:?}"
            );
            assert!(
                both.iter().any(|at| at.ends_with("send_receipt_v2")),
                "{both:?}"
            );
        }
        other => panic!("expected DuplicateKind, got {other:?}"),
    }
}
