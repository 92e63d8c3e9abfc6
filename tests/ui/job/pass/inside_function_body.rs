#![deny(warnings)]

use jobs_core::job;

fn main() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Local {
        id: i64,
    }

    /// A job that only this function knows.
    #[job(queue = "local")]
    async fn local_job(item: Local, count: u32) {
        let _ = (item.id, count);
    }

    let job = local_job::with(Local { id: 7 }, 2)
        .into_new_job(1 << 20)
        .expect("valid");
    assert_eq!(job.kind, "local_job");
    assert_eq!(job.queue, "local");
    assert_eq!(job.args, r#"{"item":{"id":7},"count":2}"#);
    assert!(jobs_core::__private::jobs().any(|d| d.name == "local_job"));
}
