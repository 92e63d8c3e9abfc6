//! Unique jobs: one row under concurrent enqueues, large keys, and a
//! competing transaction that rolls back.

use super::*;

#[tokio::test]
async fn fifty_concurrent_unique_enqueues_store_one_job() {
    let backend = fresh_backend().await;
    let mut tasks = Vec::new();
    for n in 0..50 {
        let backend = backend.clone();
        tasks.push(tokio::spawn(async move {
            let job = NewJob {
                unique_key: Some("report-7".into()),
                args: format!("{{\"n\":{n}}}"),
                ..job("report")
            };
            backend
                .job_insert_many(vec![job], InsertMode::Wait)
                .await
                .unwrap()[0]
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    assert!(
        ids.iter().all(|&id| id == ids[0]),
        "everyone gets the one id: {ids:?}"
    );
    let count: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{}\".jobs",
        backend.schema()
    )))
    .fetch_one(backend.pool())
    .await
    .unwrap();
    assert_eq!(count, 1);

    // in one batch, and alongside other jobs
    let batch = insert(
        &backend,
        vec![
            NewJob {
                unique_key: Some("report-7".into()),
                ..job("report")
            },
            job("plain"),
            NewJob {
                unique_key: Some("report-8".into()),
                ..job("report")
            },
            NewJob {
                unique_key: Some("report-8".into()),
                ..job("report")
            },
            NewJob {
                unique_key: Some("report-7".into()),
                ..job("other-kind")
            },
        ],
    )
    .await;
    assert_eq!(batch[0], ids[0]);
    assert_eq!(batch[2], batch[3]);
    assert!(batch[1] > ids[0] && batch[2] > batch[1] && batch[4] > batch[2]);

    // once finished, the key is free again
    let claimed = backend
        .job_fetch(request(&["report"], 10))
        .await
        .unwrap()
        .jobs;
    backend
        .job_complete_many(
            claimed
                .iter()
                .map(|j| Completion {
                    id: j.id,
                    attempt: 1,
                    outcome: Outcome::Completed,
                })
                .collect(),
        )
        .await
        .unwrap();
    let again = insert(
        &backend,
        vec![NewJob {
            unique_key: Some("report-7".into()),
            ..job("report")
        }],
    )
    .await;
    assert_ne!(again[0], ids[0]);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn unique_keys_may_be_larger_than_an_index_entry() {
    let backend = fresh_backend().await;
    // a unique job's key defaults to its arguments, which may be large
    let key = format!("{{\"blob\":\"{}\"}}", "x".repeat(100_000));
    let big = || NewJob {
        args: key.clone(),
        unique_key: Some(key.clone()),
        ..job("report")
    };
    let first = insert(&backend, vec![big()]).await;
    let again = insert(&backend, vec![big(), big()]).await;
    assert_eq!(again, [first[0], first[0]]);
    let other = insert(
        &backend,
        vec![NewJob {
            unique_key: Some(format!("{key} ")),
            ..big()
        }],
    )
    .await;
    assert_ne!(other[0], first[0]);
    drop_schema(&backend).await;
}

#[tokio::test]
async fn a_unique_insert_waits_for_a_competing_transaction_that_rolls_back() {
    let backend = fresh_backend().await;
    let mut tx = backend.pool().begin().await.unwrap();
    let ours = backend
        .enqueue_tx(
            &mut tx,
            JobBuilder::new(&crate::tx::UNIQUE, Ok("{\"user\":1}".into())),
        )
        .await
        .unwrap();
    let competing = {
        let backend = backend.clone();
        tokio::spawn(async move {
            let job = NewJob {
                unique_key: Some("{\"user\":1}".into()),
                ..job(crate::tx::UNIQUE.name)
            };
            backend
                .job_insert_many(vec![job], InsertMode::Wait)
                .await
                .unwrap()[0]
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !competing.is_finished(),
        "the competing insert waits for our transaction"
    );
    tx.rollback().await.unwrap();
    let theirs = competing.await.unwrap();
    assert_ne!(theirs, ours);
    assert!(backend.job_get(ours).await.unwrap().is_none());
    assert_eq!(state_of(&backend, theirs).await, JobState::Available);
    drop_schema(&backend).await;
}
