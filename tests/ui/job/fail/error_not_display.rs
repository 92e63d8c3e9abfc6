use jobs_core::job;

#[derive(Debug)]
struct Oops;

#[job]
async fn flaky() -> Result<(), Oops> {
    Err(Oops)
}

fn main() {}
