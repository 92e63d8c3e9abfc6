use jobs_core::job;

#[job]
async fn greet(name: impl std::fmt::Display + Send) {
    let _ = name.to_string();
}

fn main() {}
