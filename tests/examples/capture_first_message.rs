//! Connects the Rust `mongodb` driver to the URI in argv[1] and runs `ping`, ignoring the result.
//!
//! Used by `tests/capture/capture_all.sh` to record the first wire message the driver sends
//! (see `crates/rpc/tests/fixtures/README.md`). Point it at `tests/capture/record_first_message.py`;
//! the ping is expected to fail once the recorder has closed the connection.

use mongodb::Client;
use mongodb::bson::doc;

#[tokio::main]
async fn main() {
    let Some(uri) = std::env::args().nth(1) else {
        eprintln!("usage: capture_first_message <mongodb-uri>");
        std::process::exit(2);
    };
    match Client::with_uri_str(&uri).await {
        Ok(client) => {
            let result = client.database("admin").run_command(doc! { "ping": 1 }).await;
            eprintln!("ping result (an error is expected): {result:?}");
        }
        Err(err) => eprintln!("client setup failed: {err}"),
    }
}
