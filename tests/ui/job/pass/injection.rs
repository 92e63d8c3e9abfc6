#![deny(warnings)]

use jobs_core::{job, JobContext, State};

#[derive(Clone)]
struct App {
    greeting: String,
}

struct Metrics;

#[job]
async fn greet(app: State<App>, ctx: JobContext, user_id: i64, metrics: jobs_core::State<Metrics>) {
    let _ = (&app.greeting, ctx.id(), user_id, &*metrics);
}

#[job]
async fn only_injected(app: State<App>, ctx: JobContext) {
    let _ = (&app.greeting, ctx.attempt());
}

fn main() {
    let states: Vec<&str> = greet::definition().states.iter().map(|s| (s.type_name)()).collect();
    assert_eq!(states, [std::any::type_name::<App>(), std::any::type_name::<Metrics>()]);
    assert_eq!(
        (greet::definition().states[0].type_id)(),
        std::any::TypeId::of::<App>()
    );
    // only the argument is left for enqueueing
    let _builder = greet::with(42);
    let _builder = only_injected::with();
}
