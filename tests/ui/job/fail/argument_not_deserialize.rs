use jobs_core::job;

#[derive(serde::Serialize)]
struct Report {
    day: u32,
}

#[job]
async fn publish(id: i64, report: Vec<Report>) {
    let _ = (id, report.len());
}

fn main() {}
