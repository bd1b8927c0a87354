//! The egress side's connection: `connect(addr, timeout)` returns the same `Session` type ingress uses.
//! `addr` is `host:port`, or a path ending in `.sock` for a Unix socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use docwire_rpc::{ErrorCode, Status, StatusResult, limits::MAX_MESSAGE_SIZE_BYTES};
use tokio::net::{TcpStream, UnixStream};

use crate::session::{NetworkCounters, Session, SessionInfo};

static NEXT_EGRESS_ID: AtomicU64 = AtomicU64::new(1);

/// Connects to `addr` within `timeout` (HostUnreachable on failure, NetworkTimeout on timeout).
pub async fn connect(addr: &str, timeout: Duration) -> StatusResult<Session> {
    let id = NEXT_EGRESS_ID.fetch_add(1, Ordering::Relaxed);
    let counters = Arc::new(NetworkCounters::default());
    let attempt = async {
        if addr.ends_with(".sock") {
            let stream = UnixStream::connect(addr).await?;
            let info = SessionInfo::new(id, String::new(), addr.to_owned(), true);
            Ok::<_, std::io::Error>(Session::new(
                Arc::new(info),
                Box::new(stream),
                MAX_MESSAGE_SIZE_BYTES,
                counters,
            ))
        } else {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let info = SessionInfo::new(id, local, addr.to_owned(), false);
            Ok(Session::new(
                Arc::new(info),
                Box::new(stream),
                MAX_MESSAGE_SIZE_BYTES,
                counters,
            ))
        }
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err(e)) => Err(Status::new(
            ErrorCode::HostUnreachable,
            format!("Error connecting to {addr}: {e}"),
        )),
        Err(_) => Err(Status::new(
            ErrorCode::NetworkTimeout,
            format!("Timed out connecting to {addr} after {timeout:?}"),
        )),
    }
}
