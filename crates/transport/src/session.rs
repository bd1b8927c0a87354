//! `Session`: one connection (TCP or Unix socket) with a framed reader and writer on the rpc codec, and
//! `SessionInfo`, the part of it other tasks may see (ids, addresses, tags, whether the peer is there,
//! whether it runs over TLS).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use docwire_rpc::{CodecError, ErrorCode, Message, MessageCodec, Status, StatusResult};
use docwire_service::TransportSession;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Decoder;

use crate::tags;
use crate::tls::{TlsInfo, TransportSecurityCounters};

/// What other tasks may know of a session. Shared as `Arc<SessionInfo>`.
#[derive(Debug)]
pub struct SessionInfo {
    id: u64,
    local: String,
    remote: String,
    is_unix: bool,
    tags: AtomicU32,
    connected: AtomicBool,
    // Set once, after the TLS handshake (which runs after admission, in the session's task).
    tls: OnceLock<TlsInfo>,
}

impl SessionInfo {
    /// A new session's info: connected and pending.
    pub fn new(id: u64, local: String, remote: String, is_unix: bool) -> SessionInfo {
        SessionInfo {
            id,
            local,
            remote,
            is_unix,
            tags: AtomicU32::new(tags::PENDING),
            connected: AtomicBool::new(true),
            tls: OnceLock::new(),
        }
    }

    /// The session (connection) id, counted from 1.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The local address (`host:port`, or the socket path).
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The peer's address (`host:port`; for a Unix socket, the socket path).
    pub fn remote(&self) -> &str {
        &self.remote
    }

    /// Whether this session came in over the Unix socket.
    pub fn is_unix(&self) -> bool {
        self.is_unix
    }

    /// Records that the session runs over TLS (once; later calls are ignored).
    pub fn set_tls(&self, info: TlsInfo) {
        let _ = self.tls.set(info);
    }

    /// What the session's TLS handshake negotiated; `None` for a plain session.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.get()
    }

    /// Whether the session runs over TLS (its messages then carry no checksums, as in mongod).
    pub fn is_tls(&self) -> bool {
        self.tls.get().is_some()
    }

    /// The tags (see [`crate::tags`]).
    pub fn tags(&self) -> u32 {
        self.tags.load(Ordering::Acquire)
    }

    /// Replaces the tags with `f(tags)`.
    pub fn mutate_tags(&self, f: impl Fn(u32) -> u32) {
        let _ = self
            .tags
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| Some(f(t)));
    }

    /// Marks the peer as gone (it hung up, or the session ended).
    pub fn mark_disconnected(&self) {
        self.connected.store(false, Ordering::Release);
    }
}

impl TransportSession for SessionInfo {
    fn connection_id(&self) -> u64 {
        self.id
    }

    fn remote_address(&self) -> String {
        self.remote.clone()
    }

    fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }
}

/// Any byte stream a session can run on.
pub trait SessionStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> SessionStream for T {}

/// Byte counters shared by every session (serverStatus.network, and transportSecurity).
#[derive(Debug, Default)]
pub struct NetworkCounters {
    /// Bytes received.
    pub bytes_in: AtomicU64,
    /// Bytes sent.
    pub bytes_out: AtomicU64,
    /// Requests received.
    pub num_requests: AtomicU64,
    /// Incoming TLS connections by version (serverStatus.transportSecurity).
    pub transport_security: TransportSecurityCounters,
}

/// What a read from the peer produced.
#[derive(Debug)]
pub enum Received {
    /// One whole message.
    Message(Message),
    /// The peer closed the connection between messages.
    Closed,
}

/// One connection with its framing state. Reads buffer into one growable buffer whose growth is bounded
/// by the codec's length check; writes go straight to the socket.
pub struct Session {
    info: Arc<SessionInfo>,
    stream: Box<dyn SessionStream>,
    codec: MessageCodec,
    read_buf: BytesMut,
    counters: Arc<NetworkCounters>,
}

impl Session {
    /// Wraps a connected stream.
    pub fn new(
        info: Arc<SessionInfo>,
        stream: Box<dyn SessionStream>,
        max_message_size: usize,
        counters: Arc<NetworkCounters>,
    ) -> Session {
        Session {
            info,
            stream,
            codec: MessageCodec::new(max_message_size),
            read_buf: BytesMut::new(),
            counters,
        }
    }

    /// Puts bytes already read from the stream (to tell TLS from plain) ahead of what comes next.
    pub fn prepend(&mut self, bytes: &[u8]) {
        self.counters
            .bytes_in
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let mut buf = BytesMut::with_capacity(bytes.len() + self.read_buf.len());
        buf.extend_from_slice(bytes);
        buf.extend_from_slice(&self.read_buf);
        self.read_buf = buf;
    }

    /// The shared info.
    pub fn info(&self) -> &Arc<SessionInfo> {
        &self.info
    }

    /// The bytes read but not yet framed into a message.
    pub fn buffered(&self) -> &[u8] {
        &self.read_buf
    }

    /// Reads the next message. When part of a message has arrived, the rest must follow within
    /// `partial_timeout` (a peer that sends half a header and stalls is dropped); an idle session waits
    /// without limit. A frame outside the limits is ProtocolError 17.
    pub async fn source_message(&mut self, partial_timeout: Duration) -> StatusResult<Received> {
        loop {
            match self.codec.decode(&mut self.read_buf) {
                Ok(Some(message)) => {
                    self.counters.num_requests.fetch_add(1, Ordering::Relaxed);
                    return Ok(Received::Message(message));
                }
                Ok(None) => {}
                Err(CodecError::Protocol(status)) => return Err(status),
                Err(CodecError::Io(e)) => return Err(io_status(&e)),
            }
            let read = if self.read_buf.is_empty() {
                self.stream.read_buf(&mut self.read_buf).await
            } else {
                match tokio::time::timeout(partial_timeout, self.stream.read_buf(&mut self.read_buf)).await {
                    Ok(read) => read,
                    Err(_) => {
                        return Err(Status::new(
                            ErrorCode::NetworkTimeout,
                            format!("no complete message within {partial_timeout:?} of its first bytes"),
                        ));
                    }
                }
            };
            match read {
                Ok(0) if self.read_buf.is_empty() => {
                    self.info.mark_disconnected();
                    return Ok(Received::Closed);
                }
                Ok(0) => {
                    self.info.mark_disconnected();
                    return Err(Status::new(
                        ErrorCode::ProtocolError,
                        "connection closed in the middle of a message",
                    ));
                }
                Ok(n) => {
                    self.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    self.info.mark_disconnected();
                    return Err(io_status(&e));
                }
            }
        }
    }

    /// Waits until the peer hangs up (returns) while a request is being processed. Bytes that arrive
    /// meanwhile (a pipelined request) are kept for the next read; once a whole message is buffered it
    /// stops reading and waits forever, leaving back-pressure to the socket.
    pub async fn wait_for_hangup(&mut self) {
        loop {
            if whole_message_buffered(&self.read_buf) {
                std::future::pending::<()>().await;
            }
            match self.stream.read_buf(&mut self.read_buf).await {
                Ok(0) | Err(_) => {
                    self.info.mark_disconnected();
                    return;
                }
                Ok(n) => {
                    self.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        }
    }

    /// Writes one message.
    pub async fn sink_message(&mut self, message: &Message) -> StatusResult<()> {
        self.write_raw(message.as_bytes()).await
    }

    /// Writes raw bytes (the HTTP answer on the native port).
    pub async fn write_raw(&mut self, bytes: &[u8]) -> StatusResult<()> {
        let written = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        }
        .await;
        match written {
            Ok(()) => {
                self.counters
                    .bytes_out
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.info.mark_disconnected();
                Err(io_status(&e))
            }
        }
    }

    /// Closes the write side (best effort) and marks the session disconnected.
    pub async fn end(&mut self) {
        let _ = self.stream.shutdown().await;
        self.info.mark_disconnected();
    }
}

fn io_status(e: &std::io::Error) -> Status {
    Status::new(ErrorCode::HostUnreachable, format!("Connection error: {e}"))
}

/// Whether `buf` holds at least one whole message, or a length the next read will reject anyway.
fn whole_message_buffered(buf: &[u8]) -> bool {
    let Some(len) = buf.get(..4) else { return false };
    let claimed = i32::from_le_bytes([len[0], len[1], len[2], len[3]]);
    match usize::try_from(claimed) {
        Ok(claimed) => claimed < docwire_rpc::limits::HEADER_LEN || buf.len() >= claimed,
        Err(_) => true,
    }
}
