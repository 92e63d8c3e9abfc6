use jobs_core::job;

#[job]
async fn greet(name: &str) {
    let _ = name;
}

fn main() {}
