//! The egress side's connection: `connect(addr, timeout)` returns the same `Session` type ingress uses.
//! `addr` is `host:port`, or a path ending in `.sock` for a Unix socket. `connect_tls` adds a TLS
//! handshake on TCP (a Unix socket stays plain, as mongod's does).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult, limits::MAX_MESSAGE_SIZE_BYTES};
use tokio::net::{TcpStream, UnixStream};

use crate::session::{NetworkCounters, Session, SessionInfo, SessionStream};
use crate::tls::{ClientTls, TlsInfo, tls_version};

static NEXT_EGRESS_ID: AtomicU64 = AtomicU64::new(1);

/// Connects to `addr` within `timeout` (HostUnreachable on failure, NetworkTimeout on timeout).
pub async fn connect(addr: &str, timeout: Duration) -> StatusResult<Session> {
    connect_tls(addr, timeout, None).await
}

/// Like [`connect`], then, with `tls` and a TCP address, the TLS handshake (SSLHandshakeFailed when it
/// fails), all within `timeout`. The session is marked TLS, so it sends no checksums.
pub async fn connect_tls(addr: &str, timeout: Duration, tls: Option<&ClientTls>) -> StatusResult<Session> {
    let id = NEXT_EGRESS_ID.fetch_add(1, Ordering::Relaxed);
    let counters = Arc::new(NetworkCounters::default());
    let unreachable = |e: std::io::Error| {
        Status::new(
            ErrorCode::HostUnreachable,
            format!("Error connecting to {addr}: {e}"),
        )
    };
    let attempt = async {
        if addr.ends_with(".sock") {
            let stream = UnixStream::connect(addr).await.map_err(unreachable)?;
            let info = SessionInfo::new(id, String::new(), addr.to_owned(), true);
            Ok::<_, Status>(Session::new(
                Arc::new(info),
                Box::new(stream),
                MAX_MESSAGE_SIZE_BYTES,
                counters,
            ))
        } else {
            let stream = TcpStream::connect(addr).await.map_err(unreachable)?;
            stream.set_nodelay(true).map_err(unreachable)?;
            let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let info = Arc::new(SessionInfo::new(id, local, addr.to_owned(), false));
            let stream: Box<dyn SessionStream> = match tls {
                Some(tls) => {
                    let stream = tls.handshake(addr, stream).await?;
                    let (_, connection) = stream.get_ref();
                    info.set_tls(TlsInfo {
                        version: tls_version(connection.protocol_version()),
                        client_certificate: tls.config().client_auth_cert_resolver.has_certs(),
                    });
                    Box::new(stream)
                }
                None => Box::new(stream),
            };
            Ok(Session::new(info, stream, MAX_MESSAGE_SIZE_BYTES, counters))
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err(status)) => Err(status),
        Err(_) => Err(Status::new(
            ErrorCode::NetworkTimeout,
            format!("Timed out connecting to {addr} after {timeout:?}"),
        )),
    }
}
