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
                .job_insert_many(JobInsertManyParams {
                    jobs: vec![job],
                    mode: InsertMode::Wait,
                })
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
        .job_complete_many(JobCompleteManyParams {
            transitions: claimed
                .iter()
                .map(|j| {
                    let run = RunningAttempt {
                        id: j.id,
                        attempt: 1,
                    };
                    Outcome::Completed.into_transition(run)
                })
                .collect(),
        })
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
                .job_insert_many(JobInsertManyParams {
                    jobs: vec![job],
                    mode: InsertMode::Wait,
                })
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
    assert!(
        backend
            .job_get(JobIdParams { id: ours })
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(state_of(&backend, theirs).await, JobState::Available);
    drop_schema(&backend).await;
}

/// A batch whose unique job collides, and whose later round fails, stores
/// nothing: not even the jobs the first statement inserted (#9).
///
/// Two triggers in the test's schema play the race deterministically: when
/// the batch's first insert ends, the job its unique row collided with
/// finishes (as a worker may complete it between the statements), so the
/// row goes into a second round; and that round's insert fails.
#[tokio::test]
async fn a_batch_whose_later_round_fails_stores_nothing() {
    let backend = fresh_backend().await;
    let schema = backend.schema().to_owned();
    let blocker = insert(
        &backend,
        vec![NewJob {
            unique_key: Some("report-9".into()),
            ..job("report")
        }],
    )
    .await[0];
    sqlx::raw_sql(AssertSqlSafe(format!(
        r#"
        CREATE FUNCTION "{schema}".finish_blocker() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE "{schema}".jobs SET state = 'completed', finished_at = now()
            WHERE id = {blocker} AND state <> 'completed';
            RETURN NULL;
        END $$;
        CREATE TRIGGER finish_blocker AFTER INSERT ON "{schema}".jobs
            FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".finish_blocker();
        CREATE FUNCTION "{schema}".fail_second_round() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.unique_key = 'report-9'
               AND EXISTS (SELECT 1 FROM "{schema}".jobs WHERE id = {blocker} AND state = 'completed')
            THEN
                RAISE EXCEPTION 'the second round fails';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fail_second_round BEFORE INSERT ON "{schema}".jobs
            FOR EACH ROW EXECUTE FUNCTION "{schema}".fail_second_round();
        "#,
        blocker = blocker.get()
    )))
    .execute(backend.pool())
    .await
    .expect("install the fault triggers");

    let error = backend
        .job_insert_many(JobInsertManyParams {
            jobs: vec![
                job("plain"),
                NewJob {
                    unique_key: Some("report-9".into()),
                    ..job("report")
                },
                job("plain"),
            ],
            mode: InsertMode::Wait,
        })
        .await
        .expect_err("the second round fails");
    assert!(
        format!("{error:?}").contains("the second round fails"),
        "{error:?}"
    );
    let kinds: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT kind || ':' || state FROM \"{schema}\".jobs ORDER BY id"
    )))
    .fetch_all(backend.pool())
    .await
    .unwrap();
    assert_eq!(
        kinds,
        ["report:available"],
        "nothing of the batch is stored, and the first round's effects are undone"
    );
    drop_schema(&backend).await;
}
