use jobs_core::job;

#[job]
struct SendWelcomeEmail {
    user_id: i64,
}

fn main() {}
