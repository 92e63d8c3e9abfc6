//! `jobs dashboard`: the web dashboard over this store, until Ctrl-C.

use std::net::SocketAddr;

use jobs_core::Client;
use serde::Serialize;

use crate::error::CliError;
use crate::output::Output;

pub(crate) async fn serve(client: Client, bind: SocketAddr) -> Result<Output, CliError> {
    let app = axum::Router::new().nest("/jobs", jobs_dashboard::Dashboard::new(client).router());
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|error| CliError::new(format!("could not listen on {bind}: {error}")))?;
    let address = listener
        .local_addr()
        .map_err(|error| CliError::new(format!("could not listen on {bind}: {error}")))?;
    // printed at once: the command runs until it is stopped
    eprintln!("serving the dashboard at http://{address}/jobs (Ctrl-C stops it)");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|error| CliError::new(format!("the dashboard stopped: {error}")))?;
    #[derive(Serialize)]
    struct Served {
        address: String,
    }
    Output::new(
        "dashboard stopped\n".to_owned(),
        &Served {
            address: address.to_string(),
        },
    )
}
