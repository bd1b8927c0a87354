//! `TransportLayer`: TCP listeners on every `--bind_ip` address and `--port`, plus mongod's Unix socket
//! `<unixSocketPrefix>/mongodb-<port>.sock`; each accepted connection is admitted by the session manager
//! (or closed over the limit) and runs a state machine on the service executor. With `--tlsMode` set, a
//! TCP session first settles TLS in its own task (the accept loop never waits on a client); the Unix
//! socket stays plain.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult, limits::MAX_MESSAGE_SIZE_BYTES};
use docwire_service::{ServiceContext, TransportSession};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use crate::service_entry_point::ServiceEntryPoint;
use crate::service_executor::{ServiceExecutor, ServiceExecutorKind};
use crate::session::{Session, SessionInfo, SessionStream};
use crate::session_manager::SessionManager;
use crate::state_machine::{ServiceStateMachine, StateMachineConfig};
use crate::tls::{IngressTls, Negotiated, TlsOptions};

/// Listener and session settings, with mongod's names and defaults.
#[derive(Clone)]
pub struct TransportConfig {
    /// `--bind_ip`: addresses to listen on (default 127.0.0.1).
    pub bind_ips: Vec<String>,
    /// `--port` (default 27017; 0 picks a free port, for tests).
    pub port: u16,
    /// `--unixSocketPrefix` (default /tmp).
    pub unix_socket_prefix: PathBuf,
    /// `--nounixsocket`.
    pub no_unix_socket: bool,
    /// `--serviceExecutor`.
    pub service_executor: ServiceExecutorKind,
    /// The largest message accepted (maxMessageSizeBytes).
    pub max_message_size: usize,
    /// State-machine settings (partial-message timeout, transition observer).
    pub state_machine: StateMachineConfig,
    /// `--tlsMode` and the certificate files (TCP listeners only).
    pub tls: TlsOptions,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            bind_ips: vec!["127.0.0.1".to_owned()],
            port: 27017,
            unix_socket_prefix: PathBuf::from("/tmp"),
            no_unix_socket: false,
            service_executor: ServiceExecutorKind::Async,
            max_message_size: MAX_MESSAGE_SIZE_BYTES,
            state_machine: StateMachineConfig::default(),
            tls: TlsOptions::default(),
        }
    }
}

/// The bound listeners and what accepted sessions need.
pub struct TransportLayer {
    tcp: Vec<TcpListener>,
    unix: Option<(UnixListener, PathBuf)>,
    shared: Arc<Shared>,
}

struct Shared {
    service: ServiceContext,
    sessions: Arc<SessionManager>,
    entry_point: Arc<dyn ServiceEntryPoint>,
    executor: ServiceExecutor,
    tls: Option<Arc<IngressTls>>,
    config: TransportConfig,
    stop_accepting: CancellationToken,
}

/// Stops a running transport layer and drains its sessions.
#[derive(Clone)]
pub struct TransportHandle {
    shared: Arc<Shared>,
}

impl TransportLayer {
    /// Binds every listener (must run inside a tokio runtime). A stale Unix socket file is replaced.
    pub async fn bind(
        config: TransportConfig,
        service: ServiceContext,
        sessions: Arc<SessionManager>,
        entry_point: Arc<dyn ServiceEntryPoint>,
    ) -> StatusResult<TransportLayer> {
        // Bad certificate files stop the start, before anything listens (as mongod).
        let tls = IngressTls::load(&config.tls)?;
        let mut tcp = Vec::new();
        let mut port = config.port;
        for ip in &config.bind_ips {
            let addr = socket_addr(ip, port)?;
            let listener = bind_tcp(addr).map_err(|e| {
                Status::new(
                    ErrorCode::SocketException,
                    format!("Failed to listen on {addr}: {e}"),
                )
            })?;
            // With --port 0 every address shares the port the first one got.
            if port == 0 {
                port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            }
            tracing::info!(address = %addr.ip(), port, "Listening on");
            tcp.push(listener);
        }
        let unix = if config.no_unix_socket {
            None
        } else {
            let path = config.unix_socket_prefix.join(format!("mongodb-{port}.sock"));
            Some((bind_unix(&path)?, path))
        };
        let executor = ServiceExecutor::new(config.service_executor)?;
        let shared = Arc::new(Shared {
            service,
            sessions,
            entry_point,
            executor,
            tls,
            config,
            stop_accepting: CancellationToken::new(),
        });
        Ok(TransportLayer { tcp, unix, shared })
    }

    /// The TCP addresses actually bound.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.tcp.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// The Unix socket's path, when there is one.
    pub fn unix_socket_path(&self) -> Option<&Path> {
        self.unix.as_ref().map(|(_, p)| p.as_path())
    }

    /// A handle that stops accepting and drains sessions.
    pub fn handle(&self) -> TransportHandle {
        TransportHandle {
            shared: self.shared.clone(),
        }
    }

    /// Accepts connections until the handle stops it; sessions run on the executor.
    pub async fn serve(self) {
        let mut accept_loops = tokio::task::JoinSet::new();
        for listener in self.tcp {
            let shared = self.shared.clone();
            accept_loops.spawn(async move {
                loop {
                    let accepted = tokio::select! {
                        a = listener.accept() => a,
                        _ = shared.stop_accepting.cancelled() => return,
                    };
                    match accepted {
                        Ok((stream, remote)) => {
                            let _ = stream.set_nodelay(true);
                            let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
                            start_session(&shared, Incoming::Tcp(stream), local, remote.to_string());
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            // Out of descriptors and the like: back off instead of spinning.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            });
        }
        if let Some((listener, path)) = self.unix {
            let shared = self.shared.clone();
            accept_loops.spawn(async move {
                let local = path.display().to_string();
                loop {
                    let accepted = tokio::select! {
                        a = listener.accept() => a,
                        _ = shared.stop_accepting.cancelled() => break,
                    };
                    match accepted {
                        Ok((stream, _)) => {
                            start_session(&shared, Incoming::Unix(stream), local.clone(), local.clone())
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed on the Unix socket");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                let _ = std::fs::remove_file(&path);
            });
        }
        while accept_loops.join_next().await.is_some() {}
    }
}

impl TransportHandle {
    /// Graceful shutdown: stop accepting, interrupt every operation with InterruptedAtShutdown, end the
    /// sessions, and wait up to `grace` for them to finish. Returns whether they all finished in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.shared.stop_accepting.cancel();
        self.shared.executor.shutdown();
        self.shared.service.kill_all_operations();
        self.shared.sessions.end_everything();
        self.shared.sessions.wait_until_empty(grace).await
    }

    /// The session manager.
    pub fn sessions(&self) -> &Arc<SessionManager> {
        &self.shared.sessions
    }
}

/// An accepted connection, before any TLS.
enum Incoming {
    Tcp(TcpStream),
    Unix(UnixStream),
}

fn start_session(shared: &Arc<Shared>, incoming: Incoming, local: String, remote: String) {
    let is_unix = matches!(incoming, Incoming::Unix(_));
    let Some((info, guard)) = shared.sessions.admit(local, remote, is_unix) else {
        // Over the limit: dropping the stream closes it without a reply.
        return;
    };
    let id = info.id();
    let client = match shared.service.make_client(
        format!("conn{id}"),
        Some(info.clone() as Arc<dyn TransportSession>),
    ) {
        Ok(client) => client,
        Err(status) => {
            tracing::warn!(%status, "could not make a client for a new session");
            return;
        }
    };
    tracing::info!(remote = info.remote(), connection_id = id, "Connection accepted");
    let shared_for_task = shared.clone();
    let work = async move {
        let shared = shared_for_task;
        let end = guard.end_token().clone();
        // The TLS handshake runs here, in the session's own task, and stops when the session is ended.
        let session = tokio::select! {
            session = open_session(&shared, incoming, &info) => session,
            _ = end.cancelled() => None,
        };
        match session {
            Some(session) => {
                let ssm = ServiceStateMachine::new(
                    session,
                    client,
                    shared.entry_point.clone(),
                    end,
                    shared.config.state_machine.clone(),
                );
                ssm.run().await;
            }
            None => info.mark_disconnected(),
        }
        tracing::info!(remote = info.remote(), connection_id = id, "Connection ended");
        // Everything that reaches the ServiceContext (and so the storage engine) goes before the guard:
        // once the last guard is gone, shutdown reports the sessions drained and the process may reopen
        // the engine's files.
        drop(shared);
        drop(guard);
    };
    if let Err(status) = shared.executor.schedule(format!("conn{id}"), work) {
        tracing::warn!(%status, "refused a session");
    }
}

/// The session over `incoming`: plain, or (on TCP with a TLS mode) after sniffing its first bytes and,
/// for a TLS client, the handshake. `None` when the connection was refused (requireTLS and a plain
/// client, a failed handshake, a client silent past the handshake timeout); mongod logs why.
async fn open_session(shared: &Shared, incoming: Incoming, info: &Arc<SessionInfo>) -> Option<Session> {
    let (stream, prefix): (Box<dyn SessionStream>, Vec<u8>) = match (incoming, &shared.tls) {
        (Incoming::Unix(stream), _) => (Box::new(stream), Vec::new()),
        (Incoming::Tcp(stream), None) => (Box::new(stream), Vec::new()),
        (Incoming::Tcp(stream), Some(tls)) => match tls.negotiate(stream).await {
            Ok(Negotiated::Plain { stream, prefix }) => (Box::new(stream), prefix),
            Ok(Negotiated::Tls {
                stream,
                info: tls_info,
            }) => {
                tracing::debug!(
                    remote = info.remote(),
                    connection_id = info.id(),
                    version = tls_info.version,
                    client_certificate = tls_info.client_certificate,
                    "TLS session established"
                );
                shared
                    .sessions
                    .counters()
                    .transport_security
                    .record(tls_info.version);
                info.set_tls(tls_info);
                (stream, Vec::new())
            }
            Err(status) => {
                tracing::info!(
                    remote = info.remote(),
                    connection_id = info.id(),
                    error = %status,
                    "Error receiving request from client. Ending connection from remote"
                );
                return None;
            }
        },
    };
    let mut session = Session::new(
        info.clone(),
        stream,
        shared.config.max_message_size,
        shared.sessions.counters().clone(),
    );
    if !prefix.is_empty() {
        session.prepend(&prefix);
    }
    Some(session)
}

fn socket_addr(ip: &str, port: u16) -> StatusResult<SocketAddr> {
    let ip = ip.trim();
    let host = if ip == "localhost" { "127.0.0.1" } else { ip };
    let parsed = host
        .parse::<std::net::IpAddr>()
        .map_err(|e| Status::new(ErrorCode::BadValue, format!("bad --bind_ip address '{ip}': {e}")))?;
    Ok(SocketAddr::new(parsed, port))
}

/// Binds a TCP listener as mongod does: SO_REUSEADDR, and IPV6_V6ONLY on IPv6 so `0.0.0.0` and `::`
/// can both be bound on one port.
fn bind_tcp(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

fn bind_unix(path: &Path) -> StatusResult<UnixListener> {
    // A socket file left by a process that died is replaced, as mongod does.
    if path.exists() {
        std::fs::remove_file(path).map_err(|e| {
            Status::new(
                ErrorCode::SocketException,
                format!("cannot remove stale socket {}: {e}", path.display()),
            )
        })?;
    }
    let listener = UnixListener::bind(path).map_err(|e| {
        Status::new(
            ErrorCode::SocketException,
            format!("Failed to listen on {}: {e}", path.display()),
        )
    })?;
    tracing::info!(path = %path.display(), "Listening on Unix socket");
    Ok(listener)
}
