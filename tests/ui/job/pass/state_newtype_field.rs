#![deny(warnings)]

// `State<T>` has no field of its own that could shadow `T`'s: `db.0` on a
// `State<Db>` is the `Db`'s field, reached through `Deref`.

use jobs_core::__private::Invocation;
use jobs_core::__private::SharedStates;
use jobs_core::{job, JobContext, JobId, State};

struct Db(Vec<u8>);

fn execute(rows: &Vec<u8>, wanted: usize) -> Result<(), String> {
    if rows.len() == wanted {
        Ok(())
    } else {
        Err(format!("{} rows, not {wanted}", rows.len()))
    }
}

#[job]
async fn count_rows(db: State<Db>, wanted: usize) -> Result<(), String> {
    let _len: usize = db.0.len();
    execute(&db.0, wanted)
}

fn main() {
    let mut states = SharedStates::default();
    states.insert(Db(vec![1, 2, 3]));
    let states = std::sync::Arc::new(states);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let run = |wanted: usize| {
        runtime.block_on((count_rows::definition().run)(Invocation {
            args: format!(r#"{{"wanted":{wanted}}}"#).into(),
            states: states.clone(),
            context: JobContext::detached(JobId::new(1), 1, 1),
        }))
    };
    assert!(run(3).is_ok());
    assert_eq!(run(2).unwrap_err().message(), "3 rows, not 2");

    // as a user calls the function in a unit test
    let db = State::new(Db(vec![7]));
    assert_eq!(db.0, vec![7]);
    runtime.block_on(count_rows(db, 1)).expect("one row");
}
