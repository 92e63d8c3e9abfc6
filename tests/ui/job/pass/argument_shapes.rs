#![deny(warnings)]

use std::borrow::Cow;
use std::collections::HashMap;

use jobs_core::job;

#[job]
async fn shapes(
    mut attempts: u32,
    r#type: String,
    tags: Vec<String>,
    limits: HashMap<String, (u64, Option<i8>)>,
    label: Cow<'static, str>,
    pair: [u8; 2],
) {
    attempts += 1;
    let _ = (attempts, r#type, tags, limits, label, pair);
}

/// A parameter named like a generated one still works.
#[job]
async fn clashing(client: String, when: u64) {
    let _ = (client, when);
}

fn main() {
    let job = shapes::with(
        1,
        "kind".into(),
        vec!["a".into()],
        HashMap::new(),
        Cow::Borrowed("x"),
        [1, 2],
    )
    .into_new_job(1 << 20)
    .expect("valid");
    assert_eq!(
        job.args,
        r#"{"attempts":1,"type":"kind","tags":["a"],"limits":{},"label":"x","pair":[1,2]}"#
    );
    let job = clashing::with("c".into(), 5).into_new_job(1 << 20).expect("valid");
    assert_eq!(job.args, r#"{"client":"c","when":5}"#);
}
