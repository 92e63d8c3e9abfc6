#![deny(warnings)]

mod mail {
    use serde::{Deserialize, Serialize};

    /// Which mail to send.
    #[derive(Serialize, Deserialize)]
    pub struct Template {
        pub name: String,
    }

    /// Sends the welcome mail.
    #[jobs_core::job(queue = "mail")]
    pub async fn send_welcome_email(user_id: i64, template: Template) {
        let _ = (user_id, template.name);
    }

    pub(crate) mod nested {
        #[jobs_core::job]
        pub(crate) async fn crate_visible(id: u64) {
            let _ = id;
        }
    }
}

use mail::send_welcome_email;

fn main() {
    let template = mail::Template { name: "welcome".into() };
    let job = send_welcome_email::with(42, template)
        .into_new_job(1 << 20)
        .expect("valid");
    assert_eq!(job.args, r#"{"user_id":42,"template":{"name":"welcome"}}"#);
    assert_eq!(mail::nested::crate_visible::NAME, "crate_visible");

    // the function itself is still reachable under the same name
    let _future = send_welcome_email(1, mail::Template { name: "x".into() });
}
