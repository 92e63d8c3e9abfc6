use jobs_core::{job, State};

struct App;

#[job]
async fn refresh(app: &State<App>, id: i64) {
    let _ = (app, id);
}

fn main() {}
