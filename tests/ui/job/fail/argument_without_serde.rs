use jobs_core::job;

struct Invoice {
    total: u64,
}

#[job]
async fn bill(invoice: Invoice) {
    let _ = invoice.total;
}

fn main() {}
