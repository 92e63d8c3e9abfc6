use jobs_core::{job, State};

#[job]
async fn refresh(app: State, id: i64) {
    let _ = (app, id);
}

fn main() {}
