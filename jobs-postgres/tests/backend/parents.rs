//! Waiting on parents under concurrency: the races the conformance suite
//! cannot provoke on purpose, provoked many times.

use jobs_core::backend::{JobParent, ParentCondition};

use super::*;

fn child_of(parents: &[JobId]) -> NewJob {
    NewJob {
        parents: parents
            .iter()
            .map(|&id| JobParent {
                id,
                condition: ParentCondition::Completed,
            })
            .collect(),
        ..job("child")
    }
}

async fn complete_one(backend: &PgBackend, id: JobId) {
    let run = RunningAttempt { id, attempt: 1 };
    backend
        .job_complete_many(JobCompleteManyParams {
            transitions: vec![Outcome::Completed.into_transition(run)],
        })
        .await
        .expect("complete");
}

async fn claim_all(backend: &PgBackend, kind: &'static str, n: usize) -> Vec<JobId> {
    let kinds = [kind];
    let claimed = backend.job_fetch(request(&kinds, n)).await.unwrap().jobs;
    assert_eq!(claimed.len(), n);
    claimed.iter().map(|job| job.id).collect()
}

#[tokio::test]
async fn the_last_two_parents_ending_at_once_release_their_child() {
    let backend = fresh_backend().await;
    const PAIRS: usize = 150;
    insert(&backend, (0..2 * PAIRS).map(|_| job("parent")).collect()).await;
    let parents = claim_all(&backend, "parent", 2 * PAIRS).await;
    let children = insert(
        &backend,
        parents.chunks(2).map(child_of).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(state_of(&backend, children[0]).await, JobState::Awaiting);
    // each child's two parents end in two transactions racing each other
    let (evens, odds): (Vec<_>, Vec<_>) = parents.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let racer = |half: Vec<(usize, &JobId)>| {
        let backend = backend.clone();
        let ids: Vec<JobId> = half.into_iter().map(|(_, &id)| id).collect();
        tokio::spawn(async move {
            for id in ids {
                complete_one(&backend, id).await;
            }
        })
    };
    let (a, b) = (racer(evens), racer(odds));
    a.await.unwrap();
    b.await.unwrap();
    for &child in &children {
        assert_eq!(
            state_of(&backend, child).await,
            JobState::Available,
            "child {child} was stranded"
        );
    }
}

#[tokio::test]
async fn a_child_stored_while_its_parent_ends_is_never_stranded() {
    let backend = fresh_backend().await;
    const ROUNDS: usize = 60;
    insert(&backend, (0..ROUNDS).map(|_| job("parent")).collect()).await;
    let parents = claim_all(&backend, "parent", ROUNDS).await;
    for parent in parents {
        let ender = {
            let backend = backend.clone();
            tokio::spawn(async move { complete_one(&backend, parent).await })
        };
        let child = insert(&backend, vec![child_of(&[parent])]).await[0];
        ender.await.unwrap();
        assert_eq!(
            state_of(&backend, child).await,
            JobState::Available,
            "the child of job {parent} was stranded"
        );
    }
}

#[tokio::test]
async fn a_unique_child_that_exists_is_returned_and_left_as_it_is() {
    let backend = fresh_backend().await;
    let parent = insert(&backend, vec![job("parent")]).await[0];
    let holder = insert(
        &backend,
        vec![NewJob {
            unique_key: Some("k".into()),
            ..job("child")
        }],
    )
    .await[0];
    let again = insert(
        &backend,
        vec![NewJob {
            unique_key: Some("k".into()),
            ..child_of(&[parent])
        }],
    )
    .await[0];
    assert_eq!(again, holder);
    let info = backend
        .job_get(JobIdParams { id: holder })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.state, JobState::Available);
    assert!(info.parents.is_empty(), "the holder gained no parent");
}
