//! `AsyncDbClient`: one egress connection that finished its handshake, running commands as OP_MSG with
//! fresh request ids, the negotiated compressor and optional checksums (mongod's AsyncDBClient), over
//! TCP, TLS or a Unix socket.

use std::time::Duration;

use bson::{Document, doc};
use docwire_rpc::{
    Compressor, ErrorCode, Message, OpCode, OpMsg, OpMsgBuilder, OpMsgFlags, OpReply, Status, StatusResult,
    append_checksum, build_op_query, compress_message, decompress_message,
};
use tokio_util::sync::CancellationToken;

use super::hello_reply::HelloReply;
use crate::egress::connect_tls;
use crate::session::{Received, Session};
use crate::state_machine::next_message_id;
use crate::tls::ClientTls;

/// How the client connects and talks.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// `client.application.name` in the handshake.
    pub app_name: Option<String>,
    /// Compressors to offer, in preference order.
    pub compressors: Vec<Compressor>,
    /// Append a CRC-32C checksum to every request (not over TLS, which protects the bytes already).
    pub checksums: bool,
    /// TLS to the server (TCP hosts only); plain when `None`.
    pub tls: Option<ClientTls>,
}

/// A connected, handshaken egress connection. Not shareable: one command at a time (the pool hands it
/// to one user at a time).
pub struct AsyncDbClient {
    session: Session,
    host: String,
    hello: HelloReply,
    compressor: Option<Compressor>,
    checksums: bool,
    /// Set when a command was abandoned mid-reply: the stream is out of step and must not be reused.
    poisoned: bool,
}

impl std::fmt::Debug for AsyncDbClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncDbClient")
            .field("host", &self.host)
            .field("compressor", &self.compressor)
            .finish()
    }
}

/// A command failed because the caller cancelled it.
pub fn canceled() -> Status {
    Status::new(
        ErrorCode::CallbackCanceled,
        "Async network operation was canceled",
    )
}

impl AsyncDbClient {
    /// Connects to `host` and runs the handshake (hello on admin with docwire's metadata and the
    /// compression offer; legacy OP_QUERY isMaster if the peer does not know hello), all within
    /// `timeout`.
    pub async fn connect(
        host: &str,
        timeout: Duration,
        options: &ClientOptions,
    ) -> StatusResult<AsyncDbClient> {
        let work = async {
            let session = connect_tls(host, timeout, options.tls.as_ref()).await?;
            let tls = session.info().is_tls();
            let mut client = AsyncDbClient {
                session,
                host: host.to_owned(),
                // Filled in by the handshake below, which runs uncompressed and without checksums.
                hello: HelloReply::default(),
                compressor: None,
                checksums: false,
                poisoned: false,
            };
            let hello = client.handshake(options).await?;
            client.compressor = hello.compression.first().copied();
            // mongod neither sends nor expects checksums on TLS sessions.
            client.checksums = options.checksums && !tls;
            client.hello = hello;
            Ok(client)
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(Status::new(
                ErrorCode::NetworkTimeout,
                format!("Timed out connecting to {host} after {timeout:?}"),
            )),
        }
    }

    fn handshake_document(options: &ClientOptions, command: &str) -> Document {
        let mut client = doc! {
            "driver": {"name": "docwire", "version": env!("CARGO_PKG_VERSION")},
            "os": {"type": std::env::consts::OS, "architecture": std::env::consts::ARCH},
            "platform": "rust",
        };
        if let Some(name) = &options.app_name {
            client.insert("application", doc! {"name": name});
        }
        let mut hello = doc! {command: 1, "helloOk": true, "client": client};
        if !options.compressors.is_empty() {
            let names: Vec<&str> = options.compressors.iter().map(|c| c.name()).collect();
            hello.insert("compression", names);
        }
        hello
    }

    async fn handshake(&mut self, options: &ClientOptions) -> StatusResult<HelloReply> {
        let reply = self
            .run_command("admin", Self::handshake_document(options, "hello"))
            .await?;
        let unknown =
            Status::from_reply_document(&reply).is_some_and(|s| s.code() == ErrorCode::CommandNotFound);
        if !unknown {
            return HelloReply::from_reply(reply);
        }
        // An old peer: the legacy handshake, as OP_QUERY isMaster on admin.$cmd.
        let mut query = build_op_query(
            0,
            "admin.$cmd",
            0,
            -1,
            &Self::handshake_document(options, "isMaster"),
        )?;
        let id = next_message_id();
        query.set_ids(id, 0);
        self.session.sink_message(&query).await?;
        let reply = self.receive(id).await?;
        if reply.op_code() != OpCode::Reply {
            return Err(Status::new(
                ErrorCode::ProtocolError,
                "expected an OP_REPLY to OP_QUERY isMaster",
            ));
        }
        HelloReply::from_reply(OpReply::parse(&reply)?.command_reply()?)
    }

    /// The host this client talks to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The peer's validated handshake reply.
    pub fn hello(&self) -> &HelloReply {
        &self.hello
    }

    /// The compressor in use (the first one both sides support).
    pub fn compressor(&self) -> Option<Compressor> {
        self.compressor
    }

    /// Whether the connection can be used again (no command was abandoned mid-reply, the peer is there).
    pub fn is_healthy(&self) -> bool {
        use docwire_service::TransportSession;
        !self.poisoned && self.session.info().is_connected()
    }

    fn request(&self, db: &str, mut command: Document, flags: OpMsgFlags) -> StatusResult<(Message, i32)> {
        command.insert("$db", db);
        let mut message = OpMsgBuilder::new(flags).finish_with_body(&command)?;
        let id = next_message_id();
        message.set_ids(id, 0);
        if self.checksums {
            append_checksum(&mut message);
        }
        if let Some(c) = self.compressor {
            message = compress_message(&message, c)?;
        }
        Ok((message, id))
    }

    async fn receive(&mut self, expected_response_to: i32) -> StatusResult<Message> {
        let received = self.session.source_message(Duration::from_secs(3600)).await;
        let message = match received {
            Ok(Received::Message(m)) => m,
            Ok(Received::Closed) => {
                return Err(Status::new(
                    ErrorCode::HostUnreachable,
                    format!("{} closed the connection", self.host),
                ));
            }
            Err(status) => return Err(status),
        };
        let (message, _) = decompress_message(&message)?;
        if message.response_to() != expected_response_to {
            self.poisoned = true;
            return Err(Status::new(
                50787,
                format!(
                    "Expected response to {expected_response_to} but got response to {}",
                    message.response_to()
                ),
            ));
        }
        Ok(message)
    }

    fn reply_body(message: &Message) -> StatusResult<(Document, bool)> {
        let msg = OpMsg::parse(message)?;
        let body = Document::try_from(msg.body())
            .map_err(|e| Status::new(ErrorCode::InvalidBSON, format!("invalid reply: {e}")))?;
        Ok((body, msg.flags().more_to_come()))
    }

    /// Runs a command and returns its reply document (whatever its `ok`); `Err` only for transport
    /// failures.
    pub async fn run_command(&mut self, db: &str, command: Document) -> StatusResult<Document> {
        let (message, id) = self.request(db, command, OpMsgFlags::NONE)?;
        self.session
            .sink_message(&message)
            .await
            .inspect_err(|_| self.poisoned = true)?;
        let reply = self.receive(id).await.inspect_err(|_| self.poisoned = true)?;
        Ok(Self::reply_body(&reply)?.0)
    }

    /// Like [`run_command`](Self::run_command), but gives up when `cancel` fires (CallbackCanceled);
    /// the connection is then out of step and reports itself unhealthy.
    pub async fn run_command_cancellable(
        &mut self,
        db: &str,
        command: Document,
        cancel: &CancellationToken,
    ) -> StatusResult<Document> {
        if cancel.is_cancelled() {
            return Err(canceled());
        }
        let result = tokio::select! {
            r = self.run_command(db, command) => r,
            _ = cancel.cancelled() => Err(canceled()),
        };
        if result
            .as_ref()
            .is_err_and(|s| s.code() == ErrorCode::CallbackCanceled)
        {
            self.poisoned = true;
        }
        result
    }

    /// Sends a command with moreToCome: no reply is read; the result is a synthetic `{ok: 1}`.
    pub async fn run_fire_and_forget(&mut self, db: &str, command: Document) -> StatusResult<Document> {
        let (message, _) = self.request(db, command, OpMsgFlags::MORE_TO_COME)?;
        self.session
            .sink_message(&message)
            .await
            .inspect_err(|_| self.poisoned = true)?;
        Ok(doc! {"ok": 1})
    }

    /// Sends a message built elsewhere (a proxied OP_MSG, without a checksum) under a fresh request id,
    /// compressed and checksummed as this connection negotiated; returns the id its reply answers. The
    /// connection counts as mid-reply until [`receive_message`](Self::receive_message) reads a final reply.
    pub async fn send_message(&mut self, mut message: Message) -> StatusResult<i32> {
        let id = next_message_id();
        message.set_ids(id, 0);
        if self.checksums {
            append_checksum(&mut message);
        }
        if let Some(c) = self.compressor {
            message = compress_message(&message, c)?;
        }
        self.poisoned = true;
        self.session.sink_message(&message).await?;
        Ok(id)
    }

    /// Reads the (decompressed) reply to request `response_to`. A reply with moreToCome leaves the
    /// connection mid-stream (read on with the reply's own request id); the final one makes it reusable.
    pub async fn receive_message(&mut self, response_to: i32) -> StatusResult<Message> {
        self.poisoned = true;
        let reply = self.receive(response_to).await?;
        // The flag word is all that is needed: no need to walk the sections.
        let streaming = reply.op_code() == OpCode::Msg
            && reply
                .data()
                .first_chunk::<4>()
                .is_some_and(|flags| OpMsgFlags(u32::from_le_bytes(*flags)).more_to_come());
        self.poisoned = streaming;
        Ok(reply)
    }

    /// Sends a message that expects no reply (moreToCome set by the caller): the connection stays usable.
    pub async fn send_message_no_reply(&mut self, message: Message) -> StatusResult<()> {
        self.send_message(message).await?;
        self.poisoned = false;
        Ok(())
    }

    /// Sends an exhaust command (exhaustAllowed); read the replies with [`ExhaustStream::next`].
    pub async fn run_exhaust_command(
        &mut self,
        db: &str,
        command: Document,
    ) -> StatusResult<ExhaustStream<'_>> {
        let (message, id) = self.request(db, command, OpMsgFlags::EXHAUST_ALLOWED)?;
        self.session
            .sink_message(&message)
            .await
            .inspect_err(|_| self.poisoned = true)?;
        // Until the stream ends, the connection is mid-reply.
        self.poisoned = true;
        Ok(ExhaustStream {
            client: self,
            expected_response_to: id,
            done: false,
        })
    }
}

/// The replies of one exhaust command: each later reply answers the previous one.
pub struct ExhaustStream<'c> {
    client: &'c mut AsyncDbClient,
    expected_response_to: i32,
    done: bool,
}

impl ExhaustStream<'_> {
    /// The next reply and whether more follow; `None` once the last reply (without moreToCome) was read.
    pub async fn next(&mut self) -> Option<StatusResult<(Document, bool)>> {
        if self.done {
            return None;
        }
        let reply = match self.client.receive(self.expected_response_to).await {
            Ok(reply) => reply,
            Err(status) => {
                self.done = true;
                return Some(Err(status));
            }
        };
        self.expected_response_to = reply.request_id();
        let parsed = AsyncDbClient::reply_body(&reply);
        match &parsed {
            Ok((_, true)) => {}
            Ok((_, false)) => {
                self.done = true;
                // The stream ended cleanly: the connection is usable again.
                self.client.poisoned = false;
            }
            Err(_) => self.done = true,
        }
        Some(parsed)
    }
}
