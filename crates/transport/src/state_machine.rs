//! The ingress `ServiceStateMachine`: one per session, looping Source -> Process -> Sink with mongod's
//! rules (session_workflow.cpp): fresh reply ids and responseTo, a checksum on the reply when the
//! request had one (never on a TLS session), the request's compressor, exhaust synthesis, no reply to
//! moreToCome requests, and on any error EndSession with cleanup exactly once.
//!
//! Transitions (the seed's table):
//!
//! ```text
//! Source -> SourceWait -> {ProcessStandard, ProcessExhaust, ProcessMoreToCome}
//! ProcessStandard -> SinkStandard -> SinkWait -> Source
//! ProcessExhaust -> SinkMoreToCome -> SinkWait -> ProcessExhaust
//! ProcessExhaust -> SinkFinal -> SinkWait -> Source
//! ProcessMoreToCome -> Source
//! any state -> EndSession
//! ```

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use bson::Document;
use docwire_rpc::{
    Compressor, ErrorCode, Message, OpCode, OpMsgBuilder, OpMsgFlags, Status, StatusResult, append_checksum,
    compress_message, decompress_message, set_more_to_come,
};
use docwire_service::UniqueClient;
use tokio_util::sync::CancellationToken;

use crate::service_entry_point::{DbResponse, RequestContext, ServiceEntryPoint};
use crate::session::{Received, Session};

/// A state of the [`ServiceStateMachine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Ask for the next message (or take the synthesized exhaust request).
    Source,
    /// Waiting for the message to arrive.
    SourceWait,
    /// Running a request that expects one reply.
    ProcessStandard,
    /// Running a request that may stream replies (exhaustAllowed).
    ProcessExhaust,
    /// Running a request that gets no reply (moreToCome).
    ProcessMoreToCome,
    /// Sending a standard reply.
    SinkStandard,
    /// Sending one reply of an exhaust stream; another follows.
    SinkMoreToCome,
    /// Sending the last reply of an exhaust stream.
    SinkFinal,
    /// Waiting for the reply to be written.
    SinkWait,
    /// The session is over.
    EndSession,
}

/// Called on every transition with the session id and the states left and entered (tests record them).
pub type TransitionObserver = Arc<dyn Fn(u64, State, State) + Send + Sync>;

/// The state machine's settings.
#[derive(Clone)]
pub struct StateMachineConfig {
    /// How long the rest of a message may take once its first bytes arrived.
    pub partial_message_timeout: Duration,
    /// Told of every transition.
    pub observer: Option<TransitionObserver>,
}

impl Default for StateMachineConfig {
    fn default() -> Self {
        StateMachineConfig {
            partial_message_timeout: Duration::from_secs(30),
            observer: None,
        }
    }
}

/// mongod's short answer to an HTTP request on the native port.
pub const HTTP_ANSWER: &[u8] = b"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 84\r\n\r\nIt looks like you are trying to access MongoDB over HTTP on the native driver port.\n";

/// The source of fresh message ids for replies (mongod's global counter).
static NEXT_MESSAGE_ID: AtomicI32 = AtomicI32::new(1);

/// A fresh message id.
pub fn next_message_id() -> i32 {
    NEXT_MESSAGE_ID.fetch_add(1, Ordering::Relaxed)
}

/// One session's loop.
pub struct ServiceStateMachine {
    state: State,
    session: Session,
    client: UniqueClient,
    entry_point: Arc<dyn ServiceEntryPoint>,
    end: CancellationToken,
    config: StateMachineConfig,
    /// The request being processed (decompressed).
    request: Option<Message>,
    /// The compressor and checksum flag of the client's last real request; exhaust replies keep them.
    compressor: Option<Compressor>,
    wants_checksum: bool,
    /// The synthesized next request of an exhaust stream, and the command it runs.
    exhaust_next: Option<(Message, Document)>,
    /// The reply waiting to be written.
    reply: Option<Message>,
    /// Whether the state before SinkWait was SinkMoreToCome.
    streaming: bool,
    messages_seen: u64,
    ended: bool,
}

impl ServiceStateMachine {
    /// A state machine for `session`, owning its `client`.
    pub fn new(
        session: Session,
        client: UniqueClient,
        entry_point: Arc<dyn ServiceEntryPoint>,
        end: CancellationToken,
        config: StateMachineConfig,
    ) -> ServiceStateMachine {
        ServiceStateMachine {
            state: State::Source,
            session,
            client,
            entry_point,
            end,
            config,
            request: None,
            compressor: None,
            wants_checksum: false,
            exhaust_next: None,
            reply: None,
            streaming: false,
            messages_seen: 0,
            ended: false,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    fn transition(&mut self, to: State) {
        let from = self.state;
        tracing::trace!(session = self.session.info().id(), ?from, ?to, "ssm transition");
        if let Some(observer) = &self.config.observer {
            observer(self.session.info().id(), from, to);
        }
        self.state = to;
    }

    /// Runs the session to its end.
    pub async fn run(mut self) {
        loop {
            let next = match self.state {
                State::Source => Ok(if self.exhaust_next.is_some() {
                    State::ProcessExhaust
                } else {
                    State::SourceWait
                }),
                State::SourceWait => self.source_wait().await,
                State::ProcessStandard | State::ProcessExhaust | State::ProcessMoreToCome => {
                    self.process().await
                }
                State::SinkStandard | State::SinkFinal => {
                    self.streaming = false;
                    Ok(State::SinkWait)
                }
                State::SinkMoreToCome => {
                    self.streaming = true;
                    Ok(State::SinkWait)
                }
                State::SinkWait => self.sink_wait().await,
                State::EndSession => {
                    self.end_session().await;
                    return;
                }
            };
            match next {
                Ok(state) => self.transition(state),
                Err(status) => {
                    tracing::debug!(session = self.session.info().id(), %status, "ending session");
                    self.transition(State::EndSession);
                }
            }
        }
    }

    async fn source_wait(&mut self) -> StatusResult<State> {
        let timeout = self.config.partial_message_timeout;
        let received = tokio::select! {
            r = self.session.source_message(timeout) => r,
            _ = self.end.cancelled() => return Err(Status::new(ErrorCode::ShutdownInProgress, "session ended")),
        };
        let message = match received {
            Ok(Received::Message(m)) => m,
            Ok(Received::Closed) => return Err(Status::new(ErrorCode::HostUnreachable, "peer closed")),
            Err(status) => {
                if self.messages_seen == 0 && looks_like_http(self.session.buffered()) {
                    tracing::info!(
                        remote = self.session.info().remote(),
                        "answered an HTTP request on the native port"
                    );
                    let _ = self.session.write_raw(HTTP_ANSWER).await;
                } else {
                    tracing::info!(remote = self.session.info().remote(), %status, "closing session after a bad message");
                }
                return Err(status);
            }
        };
        self.messages_seen += 1;
        let (message, compressor) = decompress_message(&message).inspect_err(|status| {
            tracing::info!(remote = self.session.info().remote(), %status, "closing session: bad OP_COMPRESSED");
        })?;
        let flags = op_msg_flags(&message);
        self.compressor = compressor;
        // TLS sessions carry no checksums (as mongod: TLS already protects the bytes), whatever the request had.
        self.wants_checksum = flags.checksum_present() && !self.session.info().is_tls();
        self.exhaust_next = None;
        self.request = Some(message);
        Ok(if flags.more_to_come() {
            State::ProcessMoreToCome
        } else if flags.exhaust_allowed() {
            State::ProcessExhaust
        } else {
            State::ProcessStandard
        })
    }

    async fn process(&mut self) -> StatusResult<State> {
        let mode = self.state;
        let synthesized = if self.request.is_none() {
            self.exhaust_next.take()
        } else {
            None
        };
        let request = match (self.request.take(), &synthesized) {
            (Some(request), _) => request,
            (None, Some((request, _))) => request.clone(),
            (None, None) => return Err(Status::new(ErrorCode::InternalError, "nothing to process")),
        };
        let mut op_ctx = self.client.make_operation_context()?;
        if mode == State::ProcessExhaust {
            op_ctx.set_kill_on_client_disconnect(true);
        }
        let handle = op_ctx.handle().clone();
        let info = self.session.info().clone();
        let response = {
            let mut ctx = RequestContext {
                client: &mut self.client,
                op_ctx: &mut op_ctx,
                session: Some(&info),
            };
            let mut work = pin!(self.entry_point.handle_request(&mut ctx, &request));
            let (mut hung_up, mut ended) = (false, false);
            loop {
                tokio::select! {
                    result = &mut work => break result,
                    _ = self.session.wait_for_hangup(), if !hung_up => {
                        hung_up = true;
                        if mode == State::ProcessExhaust {
                            handle.mark_killed(ErrorCode::ClientDisconnect);
                        }
                    }
                    _ = self.end.cancelled(), if !ended => {
                        ended = true;
                        handle.mark_killed(ErrorCode::InterruptedAtShutdown);
                    }
                }
            }
        };
        drop(op_ctx);
        let response = match response {
            Ok(response) => response,
            Err(status) => {
                if let Some((_, command)) = synthesized {
                    self.kill_exhaust_cursor(&command).await;
                }
                return Err(status);
            }
        };
        if mode == State::ProcessMoreToCome {
            if response.response.is_some() {
                tracing::warn!("a moreToCome request produced a reply; it is not sent");
            }
            return Ok(State::Source);
        }
        self.prepare_reply(&request, response, mode)
    }

    fn prepare_reply(&mut self, request: &Message, response: DbResponse, mode: State) -> StatusResult<State> {
        let Some(mut reply) = response.response else {
            return Ok(State::Source);
        };
        reply.set_ids(next_message_id(), request.request_id());
        let exhaust = mode == State::ProcessExhaust
            && reply.op_code() == OpCode::Msg
            && op_msg_flags(request).exhaust_allowed();
        match response.next_invocation.filter(|_| exhaust) {
            Some(next) => {
                set_more_to_come(&mut reply, true);
                let mut synthetic = OpMsgBuilder::new(OpMsgFlags::EXHAUST_ALLOWED).finish_with_body(&next)?;
                synthetic.set_ids(reply.request_id(), reply.response_to());
                self.exhaust_next = Some((synthetic, next));
            }
            None => self.exhaust_next = None,
        }
        if self.wants_checksum {
            append_checksum(&mut reply);
        }
        if let Some(compressor) = self.compressor {
            reply = compress_message(&reply, compressor)?;
        }
        self.reply = Some(reply);
        Ok(if self.exhaust_next.is_some() {
            State::SinkMoreToCome
        } else if mode == State::ProcessExhaust {
            State::SinkFinal
        } else {
            State::SinkStandard
        })
    }

    async fn sink_wait(&mut self) -> StatusResult<State> {
        let Some(reply) = self.reply.take() else {
            return Err(Status::new(ErrorCode::InternalError, "no reply to send"));
        };
        let written = tokio::select! {
            // Biased: a reply that can be written is written, even as the session is told to end (the
            // client then sees why its operation was interrupted).
            biased;
            r = self.session.sink_message(&reply) => r,
            _ = self.end.cancelled() => Err(Status::new(ErrorCode::ShutdownInProgress, "session ended")),
        };
        if let Err(status) = written {
            if let Some((_, command)) = self.exhaust_next.take() {
                self.kill_exhaust_cursor(&command).await;
            }
            return Err(status);
        }
        Ok(if self.streaming {
            State::ProcessExhaust
        } else {
            State::Source
        })
    }

    async fn kill_exhaust_cursor(&mut self, command: &Document) {
        if !command.contains_key("getMore") {
            return;
        }
        let Ok(mut op_ctx) = self.client.make_operation_context() else {
            return;
        };
        let info = self.session.info().clone();
        let mut ctx = RequestContext {
            client: &mut self.client,
            op_ctx: &mut op_ctx,
            session: Some(&info),
        };
        self.entry_point.kill_exhaust_cursor(&mut ctx, command).await;
    }

    /// Cleanup, exactly once: the op was already killed and delisted when its context dropped; kill a
    /// streaming getMore's cursor; close the socket. Deregistration follows when the guard drops.
    async fn end_session(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        if let Some((_, command)) = self.exhaust_next.take() {
            self.kill_exhaust_cursor(&command).await;
        }
        self.session.end().await;
    }
}

fn op_msg_flags(message: &Message) -> OpMsgFlags {
    if message.op_code() != OpCode::Msg || message.data().len() < 4 {
        return OpMsgFlags::NONE;
    }
    let d = message.data();
    OpMsgFlags(u32::from_le_bytes([d[0], d[1], d[2], d[3]]))
}

fn looks_like_http(buffered: &[u8]) -> bool {
    ["GET ", "POST", "PUT ", "HEAD", "DELE", "OPTI"]
        .iter()
        .any(|verb| buffered.starts_with(verb.as_bytes()))
}
