//! mongod's session_workflow cases, ported: an error injected at each step (source, process, sink) of a
//! standard, exhaust and moreToCome request ends the session exactly once and cleans up (the operation is
//! delisted; a streaming getMore's cursor is killed once), on a fault-injecting in-memory stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use bson::{Document, doc};
use docwire_rpc::{ErrorCode, Message, OpMsg, OpMsgBuilder, OpMsgFlags, Status, StatusResult};
use docwire_service::{ServiceContext, TransportSession};
use docwire_transport::State::{self, *};
use docwire_transport::{
    DbResponse, RequestContext, ServiceEntryPoint, ServiceStateMachine, Session, SessionInfo,
    StateMachineConfig,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio_util::sync::CancellationToken;

/// Where to inject the failure.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Source,
    Process,
    Sink,
}

/// A duplex stream whose reads or writes fail on demand.
struct FaultyStream {
    inner: DuplexStream,
    fail_reads: Arc<AtomicBool>,
    fail_writes: Arc<AtomicBool>,
}

impl AsyncRead for FaultyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.fail_reads.load(Ordering::SeqCst) {
            return Poll::Ready(Err(std::io::Error::other("injected read failure")));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Poll::Ready(Err(std::io::Error::other("injected write failure")));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Replies `{n}` to `{getMore: n}` and streams while n > 0; fails the request when told to; counts
/// cursor kills.
struct Entry {
    fail_process: AtomicBool,
    processed: AtomicUsize,
    kills: AtomicUsize,
    fail_on_invocation: usize,
}

#[async_trait]
impl ServiceEntryPoint for Entry {
    async fn handle_request(
        &self,
        _: &mut RequestContext<'_>,
        request: &Message,
    ) -> StatusResult<DbResponse> {
        let n = self.processed.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_process.load(Ordering::SeqCst) && n >= self.fail_on_invocation {
            return Err(Status::new(ErrorCode::InternalError, "injected process failure"));
        }
        let msg = OpMsg::parse(request).unwrap();
        if msg.flags().more_to_come() {
            return Ok(DbResponse::none());
        }
        let left = msg.body().get_i64("getMore").unwrap_or(0);
        let reply = OpMsgBuilder::default()
            .finish_with_body(&doc! {"n": left, "ok": 1.0})
            .unwrap();
        let next = (left > 0).then(|| doc! {"getMore": left - 1, "collection": "c", "$db": "t"});
        Ok(DbResponse {
            response: Some(reply),
            next_invocation: next,
        })
    }

    async fn kill_exhaust_cursor(&self, _: &mut RequestContext<'_>, _: &Document) {
        self.kills.fetch_add(1, Ordering::SeqCst);
    }
}

struct Outcome {
    states: Vec<State>,
    kills: usize,
    operations_left: usize,
}

/// Runs one session: the client sends `request`, the fault is injected at `fault` (on the
/// `fail_on`-th processing for Process faults), and the session must end by itself.
async fn run(request: Document, flags: OpMsgFlags, fault: Fault, fail_on: usize) -> Outcome {
    let service = ServiceContext::builder().build().unwrap();
    let (server_side, mut client_side) = tokio::io::duplex(1 << 20);
    let fail_reads = Arc::new(AtomicBool::new(fault == Fault::Source));
    let fail_writes = Arc::new(AtomicBool::new(fault == Fault::Sink));
    let stream = FaultyStream {
        inner: server_side,
        fail_reads,
        fail_writes,
    };
    let info = Arc::new(SessionInfo::new(1, "local".into(), "peer".into(), false));
    let session = Session::new(
        info.clone(),
        Box::new(stream),
        48_000_000,
        Arc::new(Default::default()),
    );
    let client = service
        .make_client("conn1", Some(info.clone() as Arc<dyn TransportSession>))
        .unwrap();
    let entry = Arc::new(Entry {
        fail_process: AtomicBool::new(fault == Fault::Process),
        processed: AtomicUsize::new(0),
        kills: AtomicUsize::new(0),
        fail_on_invocation: fail_on,
    });
    let states = Arc::new(Mutex::new(vec![Source]));
    let recorded = states.clone();
    let config = StateMachineConfig {
        observer: Some(Arc::new(move |_, _, to| recorded.lock().unwrap().push(to))),
        ..StateMachineConfig::default()
    };
    let ssm = ServiceStateMachine::new(session, client, entry.clone(), CancellationToken::new(), config);
    let mut message = OpMsgBuilder::new(flags).finish_with_body(&request).unwrap();
    message.set_ids(1, 0);
    client_side.write_all(message.as_bytes()).await.unwrap();
    // The session must end on its own (no further input), so a hang fails the test by timeout.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), ssm.run()).await;
    assert!(ended.is_ok(), "the session did not end");
    let states = states.lock().unwrap().clone();
    Outcome {
        states,
        kills: entry.kills.load(Ordering::SeqCst),
        operations_left: service.operation_count(),
    }
}

fn ends_once(states: &[State]) {
    assert_eq!(
        states.iter().filter(|s| **s == EndSession).count(),
        1,
        "{states:?}"
    );
    assert_eq!(states.last(), Some(&EndSession), "{states:?}");
}

#[tokio::test]
async fn source_failure_ends_the_session() {
    let o = run(doc! {"ping": 1, "$db": "a"}, OpMsgFlags::NONE, Fault::Source, 0).await;
    assert_eq!(o.states, [Source, SourceWait, EndSession]);
    assert_eq!(o.operations_left, 0);
}

#[tokio::test]
async fn process_failure_ends_a_standard_session() {
    let o = run(doc! {"ping": 1, "$db": "a"}, OpMsgFlags::NONE, Fault::Process, 1).await;
    assert_eq!(o.states, [Source, SourceWait, ProcessStandard, EndSession]);
    assert_eq!((o.operations_left, o.kills), (0, 0));
}

#[tokio::test]
async fn process_failure_ends_a_more_to_come_session() {
    let o = run(
        doc! {"ping": 1, "$db": "a"},
        OpMsgFlags::MORE_TO_COME,
        Fault::Process,
        1,
    )
    .await;
    assert_eq!(o.states, [Source, SourceWait, ProcessMoreToCome, EndSession]);
    assert_eq!(o.operations_left, 0);
}

#[tokio::test]
async fn process_failure_mid_exhaust_kills_the_cursor_once() {
    let o = run(
        doc! {"getMore": 5_i64, "collection": "c", "$db": "t"},
        OpMsgFlags::EXHAUST_ALLOWED,
        Fault::Process,
        3,
    )
    .await;
    assert_eq!(
        o.states,
        [
            Source,
            SourceWait,
            ProcessExhaust,
            SinkMoreToCome,
            SinkWait,
            ProcessExhaust,
            SinkMoreToCome,
            SinkWait,
            ProcessExhaust,
            EndSession
        ]
    );
    assert_eq!(
        o.kills, 1,
        "the streaming getMore's cursor is killed exactly once"
    );
    assert_eq!(o.operations_left, 0);
}

#[tokio::test]
async fn sink_failure_ends_a_standard_session() {
    let o = run(doc! {"ping": 1, "$db": "a"}, OpMsgFlags::NONE, Fault::Sink, 0).await;
    assert_eq!(
        o.states,
        [
            Source,
            SourceWait,
            ProcessStandard,
            SinkStandard,
            SinkWait,
            EndSession
        ]
    );
    ends_once(&o.states);
    assert_eq!((o.operations_left, o.kills), (0, 0));
}

#[tokio::test]
async fn sink_failure_mid_exhaust_kills_the_cursor_once() {
    let o = run(
        doc! {"getMore": 5_i64, "collection": "c", "$db": "t"},
        OpMsgFlags::EXHAUST_ALLOWED,
        Fault::Sink,
        0,
    )
    .await;
    assert_eq!(
        o.states,
        [
            Source,
            SourceWait,
            ProcessExhaust,
            SinkMoreToCome,
            SinkWait,
            EndSession
        ]
    );
    assert_eq!(o.kills, 1);
    assert_eq!(o.operations_left, 0);
}

#[tokio::test]
async fn no_fault_exhaust_runs_to_the_final_reply() {
    // The control case: with no fault the stream finishes and the session waits for more input, which
    // never comes; closing the client side ends it.
    let service_states = run_to_close().await;
    assert_eq!(
        service_states,
        [
            Source,
            SourceWait,
            ProcessExhaust,
            SinkMoreToCome,
            SinkWait,
            ProcessExhaust,
            SinkFinal,
            SinkWait,
            Source,
            SourceWait,
            EndSession
        ]
    );
}

async fn run_to_close() -> Vec<State> {
    let service = ServiceContext::builder().build().unwrap();
    let (server_side, mut client_side) = tokio::io::duplex(1 << 20);
    let stream = FaultyStream {
        inner: server_side,
        fail_reads: Arc::new(AtomicBool::new(false)),
        fail_writes: Arc::new(AtomicBool::new(false)),
    };
    let info = Arc::new(SessionInfo::new(1, "local".into(), "peer".into(), false));
    let session = Session::new(
        info.clone(),
        Box::new(stream),
        48_000_000,
        Arc::new(Default::default()),
    );
    let client = service
        .make_client("conn1", Some(info as Arc<dyn TransportSession>))
        .unwrap();
    let entry = Arc::new(Entry {
        fail_process: AtomicBool::new(false),
        processed: AtomicUsize::new(0),
        kills: AtomicUsize::new(0),
        fail_on_invocation: 0,
    });
    let states = Arc::new(Mutex::new(vec![Source]));
    let recorded = states.clone();
    let config = StateMachineConfig {
        observer: Some(Arc::new(move |_, _, to| recorded.lock().unwrap().push(to))),
        ..StateMachineConfig::default()
    };
    let ssm = ServiceStateMachine::new(session, client, entry, CancellationToken::new(), config);
    let mut message = OpMsgBuilder::new(OpMsgFlags::EXHAUST_ALLOWED)
        .finish_with_body(&doc! {"getMore": 1_i64, "collection": "c", "$db": "t"})
        .unwrap();
    message.set_ids(1, 0);
    client_side.write_all(message.as_bytes()).await.unwrap();
    let run = tokio::spawn(ssm.run());
    // Read both replies, then hang up.
    let mut buf = vec![0u8; 4096];
    let mut got = 0;
    let mut replies = 0;
    while replies < 2 {
        use tokio::io::AsyncReadExt;
        let n = client_side.read(&mut buf[got..]).await.unwrap();
        got += n;
        replies = count_frames(&buf[..got]);
    }
    drop(client_side);
    tokio::time::timeout(std::time::Duration::from_secs(10), run)
        .await
        .unwrap()
        .unwrap();
    states.lock().unwrap().clone()
}

fn count_frames(mut bytes: &[u8]) -> usize {
    let mut n = 0;
    while bytes.len() >= 4 {
        let len = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        if bytes.len() < len {
            break;
        }
        bytes = &bytes[len..];
        n += 1;
    }
    n
}
