use jobs_core::job;

#[job]
async fn greet<'a>(name: String) {
    let _ = name;
}

fn main() {}
