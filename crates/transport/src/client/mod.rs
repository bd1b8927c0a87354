//! The egress client: connections to other servers that finished mongod's handshake, and the plain
//! remote-command types the pool and the executor build on.

mod async_client;
mod hello_reply;
mod remote_command;
pub mod scram_client;

pub use async_client::{AsyncDbClient, ClientOptions, ExhaustStream, canceled};
pub use hello_reply::{CLIENT_MAX_WIRE_VERSION, CLIENT_MIN_WIRE_VERSION, HelloReply};
pub use remote_command::{
    RemoteCommandOnAnyResponse, RemoteCommandRequest, RemoteCommandRequestOnAny, RemoteCommandResponse,
    next_request_id,
};
pub use scram_client::{Credentials, authenticate};
